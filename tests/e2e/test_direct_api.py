"""The direct APIs over HTTP against `jobsched local` (spec: "Next-Slot Reservation Pattern"):
a direct call runs right after the running job and before the queued ones, never pre-empting;
with a short wait it answers 202 and the reservation to poll (the 200 within the wait is held by
tests/integration/api/test_direct.py)."""

import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.local_process import WAIT_SECONDS, Local


def root(local: Local) -> httpx.Client:
    """The same server without the /api/v2 prefix: the direct APIs live where they always did."""
    return httpx.Client(
        base_url=str(local.api.base_url).rstrip("/").removesuffix("/api/v2"),
        headers=local.api.headers,
        timeout=WAIT_SECONDS + 5,
    )


def test_a_direct_call_runs_after_the_running_job_and_before_the_queue(
    local: Local, tmp_path: Path
) -> None:
    # Job 1 runs until the test releases it, so the reservation is made while it runs and after
    # jobs 2 and 3 were queued, however slow the machine.
    release = tmp_path / "release-job-1"
    job1 = local.submit(message="job 1", sleep_seconds=3600, until_file=str(release))
    local.wait_until_working(job1)
    job2 = local.submit(message="job 2")
    job3 = local.submit(message="job 3")

    with root(local) as client:
        response = client.post(
            "/story/generate",
            json={"max_stories": 2, "topic": "lighthouses", "enable_dedup": False},
            headers={"Prefer": "wait=0"},
        )
    assert response.status_code == 202, response.text
    assert "deprecation" not in response.headers  # the direct APIs are not deprecated
    assert local.job(job1)["status"] == "running"  # not pre-empted
    release.touch()
    polled = _poll(local, response.headers["location"])

    assert polled["status"] == "completed", polled
    assert len(polled["result"]["stories"]) == 2
    runs = [_run(local, job) for job in (job1, job2, job3)]
    # Job1 finished untouched; then the direct call; then the queue resumed with Job2, Job3.
    assert runs[0]["status"] == "completed"
    assert runs[0]["finished_at"] <= polled["started_at"]
    assert polled["finished_at"] <= runs[1]["started_at"]
    assert runs[1]["finished_at"] <= runs[2]["started_at"]
    # A direct call is no job: the job list holds the three only.
    listed = {job["job_id"] for job in local.api.get("/jobs").json()["items"]}
    assert listed == {job1, job2, job3}
    with root(local) as client:  # its stories are stored, listed, on the topic asked
        stories = client.get("/story/list").json()["items"]
    made = [story for story in stories if story["story_id"] in polled["result"]["stories"]]
    assert len(made) == 2
    assert all(story["topic"] == "lighthouses" for story in made)


def test_a_short_wait_answers_202_with_the_reservation_to_poll(
    local: Local, tmp_path: Path
) -> None:
    release = tmp_path / "release-blocker"
    blocker = local.submit(message="busy", sleep_seconds=3600, until_file=str(release))
    local.wait_until_working(blocker)

    with root(local) as client:
        response = client.post(
            "/api/v1/research/run",
            json={"topic": "tides", "max_cards": 2},
            headers={"Prefer": "wait=0"},
        )

    assert response.status_code == 202, response.text
    assert int(response.headers["retry-after"]) >= 1
    location = response.headers["location"]
    assert location == f"/api/v2/reservations/{response.json()['reservation_id']}"
    assert response.json()["status"] == "pending"  # the blocker holds the slot
    release.touch()
    polled = _poll(local, location)
    assert polled["status"] == "completed", polled
    assert len(polled["result"]["cards"]) == 2
    with root(local) as client:
        card = client.get("/research/list").json()["items"][0]
    assert card["card_id"] in polled["result"]["cards"]
    assert card["topic"] == "tides"


def _run(local: Local, job_id: str) -> dict[str, Any]:
    job = local.wait_for(job_id, "finished")
    run: dict[str, Any] = local.api.get(f"/runs/{job['run']['run_id']}").json()
    return run


def _poll(local: Local, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        body: dict[str, Any] = local.api.get(location.removeprefix("/api/v2")).json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{location} did not end: {body}")
