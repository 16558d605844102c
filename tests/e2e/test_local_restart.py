"""`jobsched local` stopped and started again with the same data dir finds its state: the queued
job at its place, the schedule, the paused queue; `--reset` starts empty. On either store: the
default SQLite database, and the DynamoDB emulator whose tables are saved to state.json."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.local_process import FAST, api_client, kill, start_local
from tests.support.waiting import BOUND_SECONDS


@contextmanager
def started(data_dir: Path, output: Path, *extra: str) -> Iterator[httpx.Client]:
    """`jobsched local` as tests/e2e/conftest.py starts it, stopped with Ctrl-C (SIGINT) at the
    end, which must exit cleanly."""
    process, base_url = start_local(output, "--data-dir", str(data_dir), *extra, environment=FAST)
    try:
        with api_client(base_url) as api:
            yield api
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=BOUND_SECONDS) == 0, output.read_text()
    finally:
        kill(process)


@pytest.mark.parametrize(
    ("store", "saved"), [("sqlite", "jobsched.db"), ("dynamodb", "state.json")]
)
def test_local_keeps_its_state_across_a_restart(tmp_path: Path, store: str, saved: str) -> None:
    data_dir = tmp_path / "data"
    with started(data_dir, tmp_path / "first.log", "--store", store) as api:
        assert api.post("/queue/pause").json()["paused"] is True
        schedule = api.post(
            "/schedules",
            json={"name": "nightly", "template_id": "echo", "expression": "cron(0 3 * * ? *)"},
        )
        assert schedule.status_code == 201, schedule.text
        jobs = [
            api.post("/jobs", json={"template_id": "echo", "params": {"message": str(n)}})
            for n in range(2)
        ]
        assert all(job.status_code == 201 for job in jobs), [job.text for job in jobs]
        job_id = jobs[1].json()["job_id"]
        assert api.get(f"/jobs/{job_id}").json()["queue_position"] == 2

    assert (data_dir / saved).exists()

    second_log = tmp_path / "second.log"
    with started(data_dir, second_log, "--store", store) as api:
        job = api.get(f"/jobs/{job_id}").json()
        assert (job["status"], job["queue_position"]) == ("queued", 2)
        assert api.get("/queue").json()["paused"] is True
        assert api.get(f"/schedules/{schedule.json()['schedule_id']}").status_code == 200

    with started(data_dir, tmp_path / "reset.log", "--store", store, "--reset") as api:
        assert api.get(f"/jobs/{job_id}").status_code == 404
        assert api.get("/schedules").json()["items"] == []
        assert api.get("/queue").json()["paused"] is False
        templates = [t["template_id"] for t in api.get("/templates").json()["items"]]
        assert "echo" in templates  # seeded again


def test_an_emulator_data_dir_is_imported_into_sqlite_at_the_first_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with started(data_dir, tmp_path / "emulator.log", "--store", "dynamodb") as api:
        assert api.post("/queue/pause").status_code == 200
        queued = api.post("/jobs", json={"template_id": "echo"}).json()["job_id"]

    sqlite_log = tmp_path / "sqlite.log"
    with started(data_dir, sqlite_log) as api:
        assert api.get(f"/jobs/{queued}").json()["status"] == "queued"
        assert api.get("/queue").json()["paused"] is True
    assert "imported" in sqlite_log.read_text()
    assert (data_dir / "state.json.imported").exists()
    assert not (data_dir / "state.json").exists()
