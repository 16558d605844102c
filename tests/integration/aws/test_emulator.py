"""The README's emulator recipe, held: moto's server reached over HTTP through
AWS_ENDPOINT_URL (tests/support/emulator.py), with the stack's tables, schedule group and state
machine created as infra/ synthesises them.

moto's Scheduler stores schedules but never fires them (nor does LocalStack's), so the fire is
the schedule-fire handler called with the input read back from the emulator.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import functions.schedule_fire
from jobsched.adapters.aws import StepFunctionsKicker
from jobsched.adapters.aws.wiring import schedule_stores
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import JobStatus, RunStatus
from jobsched.ports import Stores
from jobsched.schedules import usecases as use
from jobsched.settings import get_settings
from tests.support.aws_world import ACCOUNT, REGION, World
from tests.support.stack import Synthesised

FIRED_AT = "2026-12-01T09:00:00Z"


def _scheduler() -> Any:
    return boto3.client("scheduler", region_name=REGION)


@pytest.fixture
def scheduled(
    served_world: World, stack: Synthesised, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stores]:
    """The API's and the fire function's stores as on AWS (schedules go to EventBridge), with
    the stack's schedule group in the emulator."""
    _, group = stack.one("AWS::Scheduler::ScheduleGroup")
    name = group["Properties"]["Name"]
    _scheduler().create_schedule_group(Name=name)
    fire_function = functions.schedule_fire.__name__ + ".handler"
    (fire_id,) = [
        logical_id
        for logical_id, resource in stack.of_type("AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == fire_function
    ]
    environment = {
        "JOBSCHED_SCHEDULE_GROUP": name,
        "JOBSCHED_SCHEDULE_TARGET_ARN": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fire_id}",
        "JOBSCHED_SCHEDULE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
    }
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    functions.schedule_fire.stores.cache_clear()
    yield schedule_stores(get_settings())
    get_settings.cache_clear()
    functions.schedule_fire.stores.cache_clear()


def _read_back(schedule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = _scheduler().get_schedule(
        Name=schedule_id, GroupName=get_settings().schedule_group
    )
    return found


def test_the_stores_reach_the_templates_tables_over_http(
    served_world: World, moto_endpoint: str, stack: Synthesised
) -> None:
    settings = served_world.settings
    tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    in_template = [
        r["Properties"]["TableName"] for r in stack.of_type("AWS::DynamoDB::Table").values()
    ]

    assert sorted(tables) == sorted(in_template)
    assert {settings.table(entity) for entity in ("jobs", "runs", "keys")} <= set(tables)
    assert served_world.sfn.meta.endpoint_url == moto_endpoint
    assert StepFunctionsKicker(settings).client.meta.endpoint_url == moto_endpoint
    assert seed_default_templates(served_world.stores)  # written through the server
    assert served_world.stores.templates.get("echo").workload == "echo"


def test_the_state_machine_runs_jobs_through_the_server(served_world: World) -> None:
    seed_default_templates(served_world.stores)
    first, _ = enqueue(served_world.stores, JobCreate(template_id="echo"))
    second, _ = enqueue(served_world.stores, JobCreate(template_id="echo", params={"exit_code": 2}))

    StepFunctionsKicker(served_world.settings).kick()
    (execution,) = served_world.wait_all()

    assert execution["status"] == "SUCCEEDED"
    runs = [
        served_world.stores.runs.get(served_world.stores.jobs.get(job.job_id).last_run_id or "")
        for job in (first, second)
    ]
    assert [(run.status, run.exit_code) for run in runs] == [
        (RunStatus.COMPLETED, 0),
        (RunStatus.FAILED, 2),
    ]
    assert served_world.stores.dispatch.slots()[0].holder is None


def test_schedules_are_written_read_back_and_deleted_in_the_emulator(
    scheduled: Stores,
) -> None:
    seed_default_templates(scheduled)
    schedule = use.create_schedule(
        scheduled,
        use.ScheduleCreate(
            name="nightly", template_id="echo", expression="cron(0 2 * * ? *)", timezone="UTC"
        ),
    )

    stored = _read_back(schedule.schedule_id)
    assert stored["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert stored["State"] == "ENABLED"
    assert stored["Target"]["Arn"] == get_settings().schedule_target_arn
    assert json.loads(stored["Target"]["Input"])["schedule_id"] == schedule.schedule_id

    use.update_schedule(
        scheduled,
        schedule.schedule_id,
        use.SchedulePatch(expression="rate(2 hours)", timezone="Europe/Paris"),
    )
    use.set_enabled(scheduled, schedule.schedule_id, enabled=False, note="maintenance")
    stored = _read_back(schedule.schedule_id)
    assert (stored["ScheduleExpression"], stored["ScheduleExpressionTimezone"]) == (
        "rate(2 hours)",
        "Europe/Paris",
    )
    assert stored["State"] == "DISABLED"

    use.delete_schedule(scheduled, schedule.schedule_id)
    with pytest.raises(ClientError) as missing:
        _read_back(schedule.schedule_id)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert scheduled.schedules.find(schedule.schedule_id) is None


def test_a_fire_with_the_emulators_input_runs_its_job_through_the_state_machine(
    served_world: World, scheduled: Stores
) -> None:
    seed_default_templates(scheduled)
    schedule = use.create_schedule(
        scheduled,
        use.ScheduleCreate(name="hourly", template_id="echo", expression="rate(1 hour)"),
    )
    # What EventBridge would send: the stored input, its time placeholder filled in.
    stored_input = _read_back(schedule.schedule_id)["Target"]["Input"]
    event = json.loads(stored_input.replace("<aws.scheduler.scheduled-time>", FIRED_AT))

    fired = functions.schedule_fire.handler(event, None)
    (execution,) = served_world.wait_all()

    assert fired["result"] == "enqueued"
    assert execution["status"] == "SUCCEEDED"
    job = scheduled.jobs.get(fired["job_id"])
    assert job.status == JobStatus.FINISHED
    assert job.schedule_id == schedule.schedule_id
    assert scheduled.runs.get(job.last_run_id or "").status == RunStatus.COMPLETED
    last = scheduled.schedules.get(schedule.schedule_id).last_run
    assert last is not None
    assert last.scheduled_time == datetime(2026, 12, 1, 9, tzinfo=UTC)
