"""EventBridge Scheduler: one schedule per Schedule, in the project's schedule group, invoking
the schedule-fire Lambda with {"schedule_id", "scheduled_time"}.

EventBridge only fires. It validates little (and moto nothing): expressions, time zones and
windows are checked by jobsched.schedules before a request gets here, and overlap, dedup and
next-run previews are ours too.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jobsched import constants as c
from jobsched.adapters.aws.clients import aws_errors, client_options, error_code
from jobsched.errors import ConflictError, NotFoundError, UnavailableError, ValidationFailedError
from jobsched.models import Schedule
from jobsched.ports.schedules import NoScheduleSync, ScheduleSync
from jobsched.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

logger = logging.getLogger(__name__)

SERVICE = "EventBridge Scheduler"
# EventBridge fills in the time it fired for (ISO 8601, UTC) at each invocation.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
# A one-time at() schedule is kept after it fired (NONE, not DELETE): our record and the
# EventBridge schedule keep existing together, so enable, disable, PATCH and drift repair act
# on both; DELETE /schedules/{id} removes both. A fired at() schedule costs nothing.
ACTION_AFTER_COMPLETION = "NONE"
MAX_DESCRIPTION = 512


def fire_input(schedule_id: str) -> str:
    """The target's input: what functions/schedule_fire.py reads."""
    return json.dumps({"schedule_id": schedule_id, "scheduled_time": SCHEDULED_TIME})


def schedule_request(settings: Settings, schedule: Schedule) -> dict[str, Any]:
    """The whole definition, as CreateSchedule and UpdateSchedule (which replaces) take it."""
    if not settings.schedule_target_arn or not settings.schedule_role_arn:
        raise RuntimeError("JOBSCHED_SCHEDULE_TARGET_ARN and JOBSCHED_SCHEDULE_ROLE_ARN are needed")
    window: dict[str, Any] = {"Mode": "OFF"}
    if schedule.flexible_window_minutes:
        window = {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": schedule.flexible_window_minutes}
    target: dict[str, Any] = {
        "Arn": settings.schedule_target_arn,
        "RoleArn": settings.schedule_role_arn,
        "Input": fire_input(schedule.schedule_id),
        "RetryPolicy": {
            "MaximumEventAgeInSeconds": c.SCHEDULE_MAX_EVENT_AGE_SECONDS,
            "MaximumRetryAttempts": c.SCHEDULE_MAX_RETRY_ATTEMPTS,
        },
    }
    if settings.schedule_dlq_arn:
        target["DeadLetterConfig"] = {"Arn": settings.schedule_dlq_arn}
    request: dict[str, Any] = {
        "Name": schedule.schedule_id,
        "GroupName": settings.schedule_group,
        "Description": schedule.name[:MAX_DESCRIPTION],
        "ScheduleExpression": schedule.expression,
        "ScheduleExpressionTimezone": schedule.timezone,
        "FlexibleTimeWindow": window,
        "State": "ENABLED" if schedule.enabled else "DISABLED",
        "ActionAfterCompletion": ACTION_AFTER_COMPLETION,
        "Target": target,
    }
    if schedule.start_at is not None:
        request["StartDate"] = schedule.start_at
    if schedule.end_at is not None:
        request["EndDate"] = schedule.end_at
    return request


@contextmanager
def scheduler_errors(schedule_id: str) -> Iterator[None]:
    """EventBridge Scheduler's errors as domain errors. What a client cannot fix (access,
    quota, the service's own failures) is a 503: the use case has rolled its record back."""
    from botocore.exceptions import ClientError

    try:
        with aws_errors(SERVICE):
            yield
    except ClientError as exc:
        code = error_code(exc)
        message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", code))
        if code == "ResourceNotFoundException":
            raise NotFoundError(f"{SERVICE} has no schedule {schedule_id!r}") from exc
        if code == "ConflictException":
            raise ConflictError(f"{SERVICE} schedule {schedule_id!r}: {message}") from exc
        if code == "ValidationException":  # something our own checks let through
            raise ValidationFailedError.on("schedule", f"{SERVICE} refused it: {message}") from exc
        logger.error("%s refused schedule %s: %s %s", SERVICE, schedule_id, code, message)
        raise UnavailableError(f"{SERVICE} failed ({code}); retry shortly") from exc


class EventBridgeScheduleSync:
    """ScheduleSync on EventBridge Scheduler."""

    def __init__(
        self, settings: Settings, client: "EventBridgeSchedulerClient | None" = None
    ) -> None:
        self.settings = settings
        if client is not None:
            self.__dict__["client"] = client

    @cached_property
    def client(self) -> "EventBridgeSchedulerClient":
        import boto3

        return boto3.client("scheduler", **client_options(self.settings))

    def create(self, schedule: Schedule) -> None:
        with scheduler_errors(schedule.schedule_id):
            self.client.create_schedule(**schedule_request(self.settings, schedule))

    def update(self, schedule: Schedule) -> None:
        with scheduler_errors(schedule.schedule_id):
            self.client.update_schedule(**schedule_request(self.settings, schedule))

    def delete(self, schedule_id: str) -> None:
        try:
            with scheduler_errors(schedule_id):
                self.client.delete_schedule(
                    Name=schedule_id, GroupName=self.settings.schedule_group
                )
        except NotFoundError:
            return  # deleted already: what we wanted

    def set_state(self, schedule: Schedule) -> None:
        # UpdateSchedule replaces the whole definition; no call changes the state alone.
        self.update(schedule)


def schedule_sync(settings: Settings) -> ScheduleSync:
    """EventBridge where a fire target is configured (a deployment), else nothing."""
    if settings.schedule_target_arn:
        return EventBridgeScheduleSync(settings)
    return NoScheduleSync()
