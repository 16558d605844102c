"""`jobsched local` stopped and started again with the same data dir finds its state: the queued
job at its place, the schedule, the paused queue; `--reset` starts empty."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

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


def test_local_keeps_its_state_across_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with started(data_dir, tmp_path / "first.log") as api:
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

    assert (data_dir / "state.json").exists()

    second_log = tmp_path / "second.log"
    with started(data_dir, second_log) as api:
        job = api.get(f"/jobs/{job_id}").json()
        assert (job["status"], job["queue_position"]) == ("queued", 2)
        assert api.get("/queue").json()["paused"] is True
        assert api.get(f"/schedules/{schedule.json()['schedule_id']}").status_code == 200
    assert "loaded" in second_log.read_text()

    with started(data_dir, tmp_path / "reset.log", "--reset") as api:
        assert api.get(f"/jobs/{job_id}").status_code == 404
        assert api.get("/schedules").json()["items"] == []
        assert api.get("/queue").json()["paused"] is False
        templates = [t["template_id"] for t in api.get("/templates").json()["items"]]
        assert "echo" in templates  # seeded again
