"""Run history retention: with `run_retention_days`, an ended run carries `expires_at` (DynamoDB's
TTL attribute of the runs table) that many days after it ended; a running run never does."""

from datetime import timedelta

import pytest

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import JobRun, RunStatus, utcnow
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings

DAYS = 30


def expires_at(dynamo: Dynamo, run_id: str) -> int | None:
    item = dynamo.client.get_item(TableName=dynamo.table("runs"), Key={"run_id": {"S": run_id}})
    value = item["Item"].get("expires_at", {}).get("N")
    return int(value) if value is not None else None


@pytest.fixture
def retained(settings: Settings, dynamo: Dynamo) -> tuple[Stores, Dynamo]:
    keeping = Dynamo(settings.model_copy(update={"run_retention_days": DAYS}), dynamo.client)
    stores = build_stores(keeping.settings, keeping)
    seed_default_templates(stores)
    return stores, keeping


def test_a_run_expires_days_after_it_ended_and_never_while_it_runs(
    retained: tuple[Stores, Dynamo],
) -> None:
    stores, dynamo = retained
    enqueue(stores, JobCreate(template_id="echo"))
    claim = Dispatcher(stores, stores.dispatch).claim()
    assert claim is not None

    assert expires_at(dynamo, claim.unit_id) is None  # running: never removed

    Dispatcher(stores, stores.dispatch).finish(claim, Outcome(exit_code=0))

    run = stores.runs.get(claim.unit_id)
    assert run.finished_at is not None
    assert expires_at(dynamo, claim.unit_id) == int(
        (run.finished_at + timedelta(days=DAYS)).timestamp()
    )


def test_a_stored_ended_run_expires_but_a_started_one_does_not(
    retained: tuple[Stores, Dynamo],
) -> None:
    stores, dynamo = retained
    ended = utcnow()
    skipped = JobRun(
        run_id="run_skip",
        job_id="run_skip",
        template_id="echo",
        status=RunStatus.SKIPPED,
        finished_at=ended,
    )
    started = JobRun(run_id="run_live", job_id="job_live", template_id="echo")
    stores.runs.put(skipped)
    stores.runs.put(started)

    assert expires_at(dynamo, "run_skip") == int((ended + timedelta(days=DAYS)).timestamp())
    assert expires_at(dynamo, "run_live") is None


def test_without_a_retention_runs_are_kept(stores: Stores, dynamo: Dynamo) -> None:
    seed_default_templates(stores)
    enqueue(stores, JobCreate(template_id="echo"))
    claim = Dispatcher(stores, stores.dispatch).claim()
    assert claim is not None
    Dispatcher(stores, stores.dispatch).finish(claim, Outcome(exit_code=1))

    assert expires_at(dynamo, claim.unit_id) is None
