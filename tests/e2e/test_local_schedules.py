"""`jobsched local` end to end: a schedule created over HTTP is fired by the local ticker, and its
job runs to completion. A rate schedule that started 59.5 s ago fires half a second later."""

import time
from datetime import UTC, datetime, timedelta

from tests.support.local_process import WAIT_SECONDS, Local


def test_the_local_ticker_fires_a_schedule_whose_job_runs(local: Local) -> None:
    start = datetime.now(UTC) - timedelta(seconds=59.5)
    created = local.api.post(
        "/schedules",
        json={
            "name": "every minute",
            "template_id": "echo",
            "params": {"message": "from a schedule"},
            "expression": "rate(1 minute)",
            "start_at": start.isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]

    deadline = time.monotonic() + WAIT_SECONDS
    jobs: list[dict[str, object]] = []
    while not jobs:
        assert time.monotonic() < deadline, local.output.read_text()
        jobs = local.api.get("/jobs", params={"schedule_id": schedule_id}).json()["items"]
        time.sleep(0.1)
    [job] = jobs
    finished = local.wait_for(str(job["job_id"]), "finished")
    assert finished["run"]["status"] == "completed"
    logs = local.api.get(f"/runs/{finished['run']['run_id']}/logs").json()["lines"]
    assert any("from a schedule" in line for line in logs)
    schedule = local.api.get(f"/schedules/{schedule_id}").json()
    assert schedule["last_run"]["job_id"] == job["job_id"]
    assert schedule["last_run"]["outcome"] == "enqueued"
