"""ETA helpers of the API tests: a template with a known run history, and a check that a
time lies near an offset from now (with slack for a slow machine)."""

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from jobsched.ids import new_id
from jobsched.models import JobRun, RunStatus, utcnow
from jobsched.ports import Stores
from tests.support.api import post_template

MINUTE = 60.0
SLACK = 20.0  # seconds between the test's now and the request's, on a slow machine


@pytest.fixture
def timed(stores: Stores, client: TestClient) -> str:
    """A template whose ten newest completed runs each took a minute."""
    post_template(client, "timed")
    for _ in range(10):
        finished = utcnow() - timedelta(hours=1)
        stores.runs.put(
            JobRun(
                run_id=new_id("run"),
                job_id=new_id("job"),
                template_id="timed",
                status=RunStatus.COMPLETED,
                started_at=finished - timedelta(seconds=MINUTE),
                finished_at=finished,
            )
        )
    return "timed"


def seconds_from_now(value: str) -> float:
    return (datetime.fromisoformat(value) - utcnow()).total_seconds()


def assert_near(value: str | None, seconds: float) -> None:
    assert value is not None
    assert seconds - SLACK <= seconds_from_now(value) <= seconds + SLACK
