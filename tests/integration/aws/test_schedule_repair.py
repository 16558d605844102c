"""functions/schedule_repair.py: the Lambda the repair schedule invokes builds its stores from
the environment the CDK app sets (tables, schedule group, target, role, queue) and runs
repair_drift, then the catch-up of missed fires, against them; here against moto's DynamoDB and
EventBridge Scheduler."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import functions.schedule_repair
from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.models import (
    CatchUpPolicy,
    JobTemplate,
    PendingSync,
    RunStatus,
    Schedule,
    SyncAction,
)
from jobsched.ports import JobFilter, RunFilter, Stores
from jobsched.schedules.fire import fire_key
from jobsched.settings import Settings, get_settings

ACCOUNT = "123456789012"
GROUP = "jobsched-repair"
ENVIRONMENT = {
    "JOBSCHED_SCHEDULE_GROUP": GROUP,
    "JOBSCHED_SCHEDULE_TARGET_ARN": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fire",
    "JOBSCHED_SCHEDULE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
    "JOBSCHED_SCHEDULE_DLQ_ARN": f"arn:aws:sqs:us-east-1:{ACCOUNT}:schedule-dlq",
}
STALE = datetime.now(UTC) - timedelta(minutes=10)


@pytest.fixture
def records(
    settings: Settings, dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stores]:
    """The project's tables (the `dynamo` fixture's mock_aws) and a schedule group; the
    handler's settings from the environment, as on Lambda."""
    monkeypatch.setenv("JOBSCHED_TABLE_PREFIX", settings.table_prefix)
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    functions.schedule_repair.stores.cache_clear()
    boto3.client("scheduler", region_name="us-east-1").create_schedule_group(Name=GROUP)
    yield build_stores(settings, dynamo)
    get_settings.cache_clear()
    functions.schedule_repair.stores.cache_clear()


def _schedule(schedule_id: str, pending: PendingSync) -> Schedule:
    return Schedule(
        schedule_id=schedule_id,
        name=schedule_id,
        template_id="echo",
        expression="rate(1 hour)",
        pending_sync=pending,
    )


def _eventbridge(schedule_id: str) -> dict[str, Any] | None:
    client = boto3.client("scheduler", region_name="us-east-1")
    try:
        found: dict[str, Any] = dict(client.get_schedule(Name=schedule_id, GroupName=GROUP))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    return found


def test_the_handler_repairs_drift_with_the_configured_group_and_target(records: Stores) -> None:
    # A crash between the record and EventBridge writes; a delete that lost its record delete;
    # a change still in flight (a young marker).
    records.schedules.create(_schedule("sch_unapplied", PendingSync(since=STALE)))
    deleting = _schedule("sch_deleting", PendingSync(action=SyncAction.DELETE, since=STALE))
    records.schedules.create(deleting)
    boto3.client("scheduler", region_name="us-east-1").create_schedule(
        Name="sch_deleting",
        GroupName=GROUP,
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": ENVIRONMENT["JOBSCHED_SCHEDULE_TARGET_ARN"],
            "RoleArn": ENVIRONMENT["JOBSCHED_SCHEDULE_ROLE_ARN"],
        },
    )
    records.schedules.create(_schedule("sch_in_flight", PendingSync()))

    report = functions.schedule_repair.handler({}, None)

    assert report == {
        "applied": ["sch_unapplied"],
        "deleted": ["sch_deleting"],
        "failed": [],
        "caught_up": {"fired": 0, "skipped": 0, "failed": []},  # none has missed a time
    }
    applied = _eventbridge("sch_unapplied")
    assert applied is not None
    target = applied["Target"]
    assert target["Arn"] == ENVIRONMENT["JOBSCHED_SCHEDULE_TARGET_ARN"]
    assert target["RoleArn"] == ENVIRONMENT["JOBSCHED_SCHEDULE_ROLE_ARN"]
    assert target["DeadLetterConfig"] == {"Arn": ENVIRONMENT["JOBSCHED_SCHEDULE_DLQ_ARN"]}
    assert records.schedules.get("sch_unapplied").pending_sync is None
    assert _eventbridge("sch_deleting") is None
    assert records.schedules.find("sch_deleting") is None
    assert _eventbridge("sch_in_flight") is None  # left to its own request
    assert records.schedules.get("sch_in_flight").pending_sync is not None


def test_the_handler_catches_up_times_missed_past_the_grace_once(
    records: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EventBridge could not deliver for 20 minutes: the newest of those times runs (latest,
    the default), the others are skipped runs; a time within the grace is left to EventBridge,
    and a second run of the repair changes nothing."""
    records.templates.create(JobTemplate(template_id="echo", name="Echo", workload="echo"))
    now = datetime.now(UTC)
    monkeypatch.setattr("jobsched.schedules.catch_up.utcnow", lambda: now)  # the pass's clock
    minute = now.replace(second=0, microsecond=0)
    last = minute - timedelta(minutes=20)
    records.schedules.create(
        Schedule(
            schedule_id="sch_undelivered",
            name="every minute",
            template_id="echo",
            expression="cron(* * * * ? *)",
            fired_through=last,
            created_at=last - timedelta(hours=1),
        )
    )
    assert Schedule.model_fields["catch_up"].default == CatchUpPolicy.LATEST

    first = functions.schedule_repair.handler({}, None)
    second = functions.schedule_repair.handler({}, None)

    jobs = records.jobs.list_page(JobFilter(schedule_id="sch_undelivered"), 50, None).items
    [job] = jobs
    assert records.schedules.get("sch_undelivered").fired_through == now - timedelta(minutes=5)
    newest = minute - timedelta(minutes=5)  # within the five minutes' grace: EventBridge's
    record = records.jobs.find_idempotency(fire_key("sch_undelivered", newest))
    assert record is not None
    assert record.resource_id == job.job_id
    skipped = records.runs.list_page(
        RunFilter(schedule_id="sch_undelivered", status=RunStatus.SKIPPED), 50, None
    ).items
    assert len(skipped) == 14  # 19 to 6 minutes before the minute
    assert all((run.error or "").startswith("catch-up latest") for run in skipped)
    assert first["caught_up"] == {"fired": 1, "skipped": 14, "failed": []}
    assert second["caught_up"] == {"fired": 0, "skipped": 0, "failed": []}
