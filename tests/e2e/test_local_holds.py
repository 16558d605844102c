"""`jobsched local` with one slot: a held job keeps its place while the job behind it runs
first, shows held with its note, and runs once released."""

from datetime import datetime
from pathlib import Path
from typing import Any

from tests.support.local_process import Local


def _run(local: Local, job: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = local.api.get(f"/runs/{job['run']['run_id']}").json()
    assert run["status"] == "completed", run
    return run


def test_a_held_job_is_passed_over_and_runs_once_released(local: Local, tmp_path: Path) -> None:
    release = tmp_path / "release-first"
    first = local.submit(sleep_seconds=600, until_file=str(release))
    local.wait_until_working(first)
    second, third = local.submit(), local.submit()

    held = local.api.post(f"/jobs/{second}/hold", json={"note": "waiting for the data"})
    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["hold"]["note"]) == ("held", "waiting for the data")
    items = local.api.get("/queue").json()["items"]
    assert [(item["job_id"], item["held"]) for item in items] == [(second, True), (third, False)]
    assert items[0]["eta"]["state"] == "held"

    release.touch()
    runs = {"first": _run(local, local.wait_for(first, "finished"))}
    runs["third"] = _run(local, local.wait_for(third, "finished"))
    assert local.job(second)["status"] == "held"  # passed over, still at its place

    released = local.api.post(f"/jobs/{second}/release")
    assert released.status_code == 200, released.text
    runs["second"] = _run(local, local.wait_for(second, "finished"))
    at = {name: datetime.fromisoformat(run["started_at"]) for name, run in runs.items()}
    assert datetime.fromisoformat(runs["first"]["finished_at"]) <= at["third"]
    assert at["third"] < at["second"]  # the held one ran last
    assert local.job(second)["hold"] is None
