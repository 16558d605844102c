"""`jobsched local` catches up a schedule's missed fires when it starts again: the newest missed
time runs (catch_up latest), the others are skipped runs with the reason. Rather than wait
minutes with the runtime stopped, the test moves the schedule's mark ten minutes back in the
database while the runtime is stopped, as if it had been down that long."""

import json
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.local_process import FAST, WAIT_SECONDS, api_client, kill, start_local
from tests.support.waiting import BOUND_SECONDS


def _stop(process: Any, output: Path) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=BOUND_SECONDS) == 0, output.read_text()


def _set_mark(database: Path, schedule_id: str, mark: datetime) -> None:
    with sqlite3.connect(database) as conn:
        (doc,) = conn.execute(
            "SELECT doc FROM schedules WHERE schedule_id = ?", (schedule_id,)
        ).fetchone()
        record = json.loads(doc)
        record["fired_through"] = mark.isoformat()
        conn.execute(
            "UPDATE schedules SET doc = ? WHERE schedule_id = ?", (json.dumps(record), schedule_id)
        )


def test_a_restarted_runtime_catches_up_the_newest_missed_fire(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first_log = tmp_path / "first.log"
    process, base_url = start_local(first_log, "--data-dir", str(data_dir), environment=FAST)
    try:
        with api_client(base_url) as api:
            created = api.post(
                "/schedules",
                json={
                    "name": "every minute",
                    "template_id": "echo",
                    "expression": "cron(* * * * ? *)",
                    "catch_up": "latest",
                    # An on-time fire while the caught-up job runs is a job, not another skip.
                    "overlap_policy": "allow",
                },
            )
            assert created.status_code == 201, created.text
            schedule_id = created.json()["schedule_id"]
        _stop(process, first_log)
    finally:
        kill(process)

    stopped_at = datetime.now(UTC)
    _set_mark(data_dir / "jobsched.db", schedule_id, stopped_at - timedelta(minutes=10))

    second_log = tmp_path / "second.log"
    restarted_at = datetime.now(UTC)
    process, base_url = start_local(second_log, "--data-dir", str(data_dir), environment=FAST)
    try:
        with api_client(base_url) as api:
            # The ticker catches up before it fires anything on time, and records the skips
            # before the catch-up fire: once a job of this run is there, so are they.
            deadline = time.monotonic() + WAIT_SECONDS
            jobs: list[dict[str, Any]] = []
            while not jobs:
                assert time.monotonic() < deadline, second_log.read_text()
                time.sleep(0.2)
                items = api.get("/jobs", params={"schedule_id": schedule_id}).json()["items"]
                jobs = [
                    job
                    for job in items
                    if datetime.fromisoformat(job["created_at"]) >= restarted_at
                ]
            skipped = api.get(
                "/runs", params={"schedule_id": schedule_id, "status": "skipped"}
            ).json()["items"]
            # Nine to eleven minute marks passed the mark before the restart's horizon (five
            # seconds before it started), one perhaps fired on time by the first run: all
            # but the newest are skipped.
            assert 7 <= len(skipped) <= 10, skipped
            reasons = {run["error"] for run in skipped}
            assert len(reasons) == 1, (skipped, second_log.read_text())
            [newest] = reasons  # every skip names the same newest time
            schedule = api.get(f"/schedules/{schedule_id}").json()
            assert schedule["last_run"]["outcome"] in {"enqueued", "skipped"}
            assert schedule["catch_up"] == "latest"
            assert newest.split(", ")[1] <= stopped_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        _stop(process, second_log)
    finally:
        kill(process)
