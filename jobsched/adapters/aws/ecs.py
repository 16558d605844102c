"""ECS: finding and stopping a unit's task, and reading how a task ended.

Tasks are found by the unit id in their container overrides (JOBSCHED_UNIT_ID), not by
`startedBy`: Step Functions' `ecs:runTask.sync` integration does not take a `StartedBy`
parameter and starts every task with startedBy "AWS Step Functions" (see docs/decisions.md,
"AWS dispatch").
"""

import json
import logging
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jobsched.adapters.aws.clients import aws_errors, client_options
from jobsched.models.units import Outcome
from jobsched.settings import Settings
from jobsched.worker_contract import ENV_UNIT_ID

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

logger = logging.getLogger(__name__)

# Errors of the RunTask call itself (the task never started) that are worth another try, as
# Step Functions names them: a throttled call or the account's Fargate vCPU quota
# (ECS.AmazonECSException, whose cause holds ECS's message), ECS's own failure
# (ECS.ServerException), and RunTask answering with `failures` (no capacity, RESOURCE:*, AGENT:
# AmazonECS.Unknown). The state machine retries them with backoff (infra/constants.py).
PLACEMENT_ERRORS: Final = ("ECS.AmazonECSException", "ECS.ServerException", "AmazonECS.Unknown")
# Every error of the call: Step Functions prefixes ECS's own with "ECS.", its failures with
# "AmazonECS.".
RUN_TASK_ERROR_PREFIXES: Final = ("ECS.", "AmazonECS.")
COULD_NOT_PLACE = "could not place the task: "
DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks
MAX_REASON = 255  # StopTask's reason limit
MAX_ERROR = 500  # what of a failure's cause a run keeps


def task_id(task_arn: str) -> str:
    """`arn:aws:ecs:<region>:<account>:task/<cluster>/<id>` -> `<id>`."""
    return task_arn.rsplit("/", 1)[-1]


def log_stream_name(settings: Settings, task_arn: str) -> str:
    """The awslogs driver's stream of a task's container: `<prefix>/<container>/<task id>`."""
    return f"{settings.log_stream_prefix}/{settings.container_name}/{task_id(task_arn)}"


class _Model(BaseModel):
    # Step Functions returns the task description in PascalCase; extra fields are ignored.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class EcsContainer(_Model):
    name: str | None = Field(default=None, alias="Name")
    exit_code: int | None = Field(default=None, alias="ExitCode")
    reason: str | None = Field(default=None, alias="Reason")


class EcsTask(_Model):
    """What `ecs:runTask.sync` returns: the stopped task, as DescribeTasks describes it."""

    task_arn: str | None = Field(default=None, alias="TaskArn")
    stop_code: str | None = Field(default=None, alias="StopCode")
    stopped_reason: str | None = Field(default=None, alias="StoppedReason")
    containers: list[EcsContainer] = Field(default_factory=list, alias="Containers")


class TaskFailure(_Model):
    """What a Catch hands on: the error name and its cause."""

    error: str | None = Field(default=None, alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


def _failed_task(failure: TaskFailure) -> EcsTask | None:
    """The stopped task in a failure's cause: runTask.sync fails a task whose container exited
    non-zero (or never started) with States.TaskFailed and the task's description as cause."""
    try:
        cause = json.loads(failure.cause or "")
    except ValueError:
        return None
    if not isinstance(cause, dict) or "Containers" not in cause:
        return None
    try:
        return EcsTask.model_validate(cause)
    except ValidationError:
        return None


def _placement_reason(failure: TaskFailure) -> str:
    """Why RunTask started no task: the reasons of its `failures` when the cause lists them
    (e.g. "RESOURCE:CPU"), else the error's name and ECS's words."""
    try:
        cause = json.loads(failure.cause or "")
    except ValueError:
        cause = None
    listed = cause.get("Failures") if isinstance(cause, dict) else None
    if isinstance(listed, list) and listed:
        reasons = [
            " ".join(str(f[k]) for k in ("Reason", "Detail") if isinstance(f, dict) and f.get(k))
            for f in listed
        ]
        return "; ".join(reason for reason in reasons if reason) or str(failure.error)
    return f"{failure.error}: {failure.cause or ''}".strip(": ")


def task_outcome(
    settings: Settings, task: EcsTask | None = None, failure: TaskFailure | None = None
) -> Outcome:
    """How a unit's task ended, from the runTask.sync result or from the error a Catch took."""
    if task is None and failure is not None:
        if failure.error == "States.Timeout":
            return Outcome(exit_code=None, error="timeout")
        if (failure.error or "").startswith(RUN_TASK_ERROR_PREFIXES):
            placed = f"{COULD_NOT_PLACE}{_placement_reason(failure)}"
            return Outcome(exit_code=None, error=placed[:MAX_ERROR])
        task = _failed_task(failure)
        if task is None:
            detail = f"{failure.error or 'unknown error'}: {failure.cause or ''}".strip(": ")
            return Outcome(exit_code=None, error=f"task failed: {detail}"[:MAX_ERROR])
    if task is None:
        return Outcome(exit_code=None, error="task failed: no task result")
    log_path = log_stream_name(settings, task.task_arn) if task.task_arn else None
    container = next((c for c in task.containers if c.name == settings.container_name), None)
    if container is None or container.exit_code is None:
        # Never ran (image pull, capacity, a stop before start): ECS says why.
        why = (container.reason if container else None) or task.stopped_reason or task.stop_code
        return Outcome(exit_code=None, error=f"task failed: {why or 'no exit code'}"[:MAX_ERROR])
    # A non-zero exit code says what happened; ECS adds a reason only for its own kills (OOM).
    error = container.reason if container.exit_code != 0 and container.reason else None
    return Outcome(exit_code=container.exit_code, error=error, log_path=log_path)


class EcsTaskStopper:
    """TaskStopper: stops the running task(s) whose overrides carry the unit's id."""

    def __init__(self, settings: Settings, client: "ECSClient | None" = None) -> None:
        self.settings = settings
        if client is not None:
            self.__dict__["client"] = client

    @cached_property
    def client(self) -> "ECSClient":
        import boto3

        return boto3.client("ecs", **client_options(self.settings))

    def stop(self, unit_id: str, reason: str) -> None:
        self.stop_tasks(self.task_arns(unit_id), reason)

    def stop_tasks(self, task_arns: list[str], reason: str) -> None:
        if not task_arns:
            return
        cluster = self._cluster()
        for arn in task_arns:
            logger.info("stopping task %s (%s)", arn, reason)
            with aws_errors("ECS"):
                self.client.stop_task(cluster=cluster, task=arn, reason=reason[:MAX_REASON])

    def task_arns(self, unit_id: str) -> list[str]:
        """The unit's tasks that have not stopped. One ListTasks page and one DescribeTasks per
        100 running tasks of the cluster, which runs only this scheduler's tasks. Without a
        cluster (no ECS in this deployment) there is nothing to find."""
        if not self.settings.cluster:
            return []
        return [
            task["taskArn"]
            for task in self._running_tasks()
            if task.get("lastStatus") != "STOPPED" and _unit_of(task, self.settings) == unit_id
        ]

    def running_units(self) -> set[str] | None:
        """The RunProbe: the unit ids of the cluster's tasks that have not stopped (pending and
        provisioning ones included); None without a cluster."""
        if not self.settings.cluster:
            return None
        units = (
            _unit_of(task, self.settings)
            for task in self._running_tasks()
            if task.get("lastStatus") != "STOPPED"
        )
        return {unit for unit in units if unit}

    def _cluster(self) -> str:
        if not self.settings.cluster:
            raise RuntimeError("JOBSCHED_CLUSTER is not set")
        return self.settings.cluster

    def _running_tasks(self) -> Iterator[dict[str, Any]]:
        cluster = self._cluster()
        with aws_errors("ECS"):
            pages = self.client.get_paginator("list_tasks").paginate(
                cluster=cluster, desiredStatus="RUNNING"
            )
            for page in pages:
                arns = page.get("taskArns", [])
                for start in range(0, len(arns), DESCRIBE_BATCH):
                    described = self.client.describe_tasks(
                        cluster=cluster, tasks=arns[start : start + DESCRIBE_BATCH]
                    )
                    yield from (dict(task) for task in described.get("tasks", []))


def _unit_of(task: dict[str, Any], settings: Settings) -> str | None:
    for override in task.get("overrides", {}).get("containerOverrides", []):
        if override.get("name") != settings.container_name:
            continue
        for variable in override.get("environment", []):
            if variable.get("name") == ENV_UNIT_ID:
                return str(variable.get("value"))
    return None
