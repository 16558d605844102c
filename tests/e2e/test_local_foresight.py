"""`jobsched local` end to end (issue 14, points 1 and 2): the queue's ETAs come from the runs
that completed, a running job shows its finish, a preview answers a move without making it,
and a paused queue says why it has no ETA."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.support.local_process import Local
from tests.support.waiting import BOUND_SECONDS


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def poll(local: Local, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + BOUND_SECONDS
    while True:
        page: dict[str, Any] = local.api.get("/queue").json()
        if done(page) or time.monotonic() > deadline:
            return page
        time.sleep(0.5)


def test_etas_follow_the_history_and_a_preview_changes_nothing(local: Local) -> None:
    for job_id in [local.submit(message="history", sleep_seconds=0.5) for _ in range(3)]:
        assert local.wait_for(job_id, "finished")["run"]["status"] == "completed"
    long = local.submit(message="long", sleep_seconds=60)
    local.wait_until_working(long)
    queued = [local.submit(message=f"next {i}", sleep_seconds=0.5) for i in range(3)]

    # The durations are cached per process (an empty history a few seconds, else a minute).
    page = poll(local, lambda page: {i["eta"]["basis"] for i in page["items"]} == {"history"})

    assert [item["job_id"] for item in page["items"]] == queued
    etas = [item["eta"] for item in page["items"]]
    assert {eta["state"] for eta in etas} == {"estimated"}
    assert {eta["basis"] for eta in etas} == {"history"}  # the three completed echo runs
    starts = [at(eta["start_p50"]) for eta in etas]
    assert starts == sorted(starts)
    assert all(at(eta["start_p90"]) >= at(eta["start_p50"]) for eta in etas)
    assert local.job(long)["eta"]["state"] == "running"

    preview = local.api.post("/queue/preview", json={"move": {"job_id": queued[2], "position": 1}})
    assert preview.status_code == 200, preview.text
    assert [item["job_id"] for item in preview.json()["items"]] == [queued[2], *queued[:2]]
    assert queued[2] in preview.json()["affected"]
    assert [item["job_id"] for item in local.api.get("/queue").json()["items"]] == queued

    paused = local.api.post("/queue/pause", json={"note": "maintenance"})
    assert paused.status_code == 200, paused.text
    eta = local.job(queued[0])["eta"]
    assert (eta["state"], eta["reason"]) == ("paused", "the queue is paused: maintenance")
    assert local.api.post("/queue/resume").status_code == 200
    assert local.api.post(f"/jobs/{long}/cancel").status_code == 200
    for job_id in queued:
        assert local.wait_for(job_id, "finished")["run"]["status"] == "completed"
