"""The direct APIs over HTTP against `jobsched local` (spec: "Next-Slot Reservation Pattern"):
a direct call runs right after the running job and before the queued ones, never pre-empting,
and answers with its stories; with a short wait it answers 202 and the reservation to poll."""

import time
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


def test_a_direct_call_runs_after_the_running_job_and_before_the_queue(local: Local) -> None:
    job1 = local.submit(message="job 1", sleep_seconds=2)
    local.wait_until_working(job1)
    job2 = local.submit(message="job 2")
    job3 = local.submit(message="job 3")

    with root(local) as client:
        response = client.post(
            "/story/generate",
            json={"max_stories": 2, "topic": "lighthouses", "enable_dedup": False},
            headers={"Prefer": "wait=20"},
        )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert response.headers["preference-applied"] == "wait=20"
    assert answer["status"] == "completed"
    assert len(answer["stories"]) == 2
    assert all(story["topic"] == "lighthouses" for story in answer["stories"])
    assert "deprecation" not in response.headers  # the direct APIs are not deprecated
    reservation = local.api.get(f"/reservations/{answer['reservation_id']}").json()

    runs = [_run(local, job) for job in (job1, job2, job3)]
    # Job1 finished untouched; then the direct call; then the queue resumed with Job2, Job3.
    assert runs[0]["status"] == "completed"
    assert runs[0]["finished_at"] <= reservation["started_at"]
    assert reservation["finished_at"] <= runs[1]["started_at"]
    assert runs[1]["finished_at"] <= runs[2]["started_at"]
    # A direct call is no job: the job list holds the three only.
    listed = {job["job_id"] for job in local.api.get("/jobs").json()["items"]}
    assert listed == {job1, job2, job3}
    with root(local) as client:  # its stories are stored and listed
        stories = client.get("/story/list").json()["items"]
    assert {s["story_id"] for s in stories} >= {s["story_id"] for s in answer["stories"]}


def test_a_short_wait_answers_202_with_the_reservation_to_poll(local: Local) -> None:
    blocker = local.submit(message="busy", sleep_seconds=2)
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
    assert response.json()["status"] in ("pending", "running")
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
