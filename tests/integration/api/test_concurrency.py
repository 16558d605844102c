"""Several threads enqueue, move, re-prioritise and cancel on one queue at once (with each
moto request made atomic, as DynamoDB's are: see `atomic_store` in tests/support/stores.py)."""

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from jobsched.errors import ConflictError, NotFoundError
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.queue import MoveRequest, move_job, set_priority
from jobsched.models import JobStatus
from jobsched.ports import JobFilter, Stores
from jobsched.ranks import QueueRank

THREADS = 6
OPS_PER_THREAD = 25


def _all_jobs(stores: Stores) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = stores.jobs.list_page(JobFilter(), 200, cursor)
        ids += [job.job_id for job in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return ids


def _worker(stores: Stores, seed: int, created: list[str], cancelled: list[str]) -> Counter[str]:
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    mine: list[str] = []
    for _ in range(OPS_PER_THREAD):
        op = rng.choice(["enqueue", "enqueue", "move", "priority", "cancel"])
        target = rng.choice(created) if created else None
        try:
            if op == "enqueue" or target is None:
                priority = rng.choice(["low", "normal", "high", "immediate", 10, 90])
                job, _ = enqueue(stores, JobCreate(template_id="echo", priority=priority))
                mine.append(job.job_id)
                created.append(job.job_id)
                op = "enqueue"
            elif op == "move":
                other = rng.choice(created)
                how = rng.choice(["position", "before", "after"])
                request = (
                    MoveRequest(position=rng.randint(1, 30))
                    if how == "position" or other == target
                    else MoveRequest(**{how: other})
                )
                move_job(stores, target, request)
            elif op == "priority":
                set_priority(stores, target, rng.choice([0, 25, 50, 75, 100]))
            else:
                cancel_job(stores, target)
                cancelled.append(target)
            outcomes[f"{op}:ok"] += 1
        except ConflictError:
            outcomes[f"{op}:conflict"] += 1  # the job left the queue meanwhile: allowed
        except NotFoundError:
            outcomes[f"{op}:not-found"] += 1
    return outcomes


@pytest.mark.usefixtures("atomic_store")
def test_concurrent_queue_operations_keep_a_consistent_queue(
    stores: Stores, echo_template: str, client: TestClient
) -> None:
    created: list[str] = []  # list.append is atomic in CPython
    cancelled: list[str] = []
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(_worker, stores, seed, created, cancelled) for seed in range(THREADS)
        ]
        outcomes = sum((f.result() for f in futures), Counter())

    assert outcomes["enqueue:ok"] > 20
    assert outcomes["move:ok"] > 0
    assert not [key for key in outcomes if key.endswith("not-found")]
    # No job lost or duplicated: every created job exists once.
    stored = _all_jobs(stores)
    assert Counter(stored) == Counter(created)
    # A job is cancelled at most once, and only cancelled jobs are cancelled.
    assert len(cancelled) == len(set(cancelled))
    jobs = {job_id: stores.jobs.get(job_id) for job_id in stored}
    assert {j for j, job in jobs.items() if job.status == JobStatus.CANCELLED} == set(cancelled)

    # The queue holds exactly the queued jobs, once each, in rank order, and each job's rank and
    # priority agree with its queue entry.
    body = client.get("/api/v2/queue", params={"limit": 200}).json()
    listed = [item["job_id"] for item in body["items"]]
    assert body["next_cursor"] is None
    queued = {j for j, job in jobs.items() if job.status == JobStatus.QUEUED}
    assert len(listed) == len(set(listed))
    assert set(listed) == queued
    assert [item["position"] for item in body["items"]] == list(range(1, len(listed) + 1))
    ranks = [QueueRank.parse(jobs[j].rank or "") for j in listed]
    assert ranks == sorted(ranks)
    for job_id, item in zip(listed, body["items"], strict=True):
        rank = QueueRank.parse(jobs[job_id].rank or "")
        assert rank.job_id == job_id
        assert jobs[job_id].priority == rank.priority
        assert item["priority"] == client.get(f"/api/v2/jobs/{job_id}").json()["priority"]
    # Priority order holds across the whole queue.
    priorities = [jobs[j].priority for j in listed]
    assert priorities == sorted(priorities, reverse=True)


@pytest.mark.usefixtures("atomic_store")
def test_a_job_is_cancelled_once_when_cancels_and_moves_race(
    stores: Stores, echo_template: str
) -> None:
    jobs = [enqueue(stores, JobCreate(template_id="echo"))[0].job_id for _ in range(4)]
    target = jobs[1]
    barrier = threading.Barrier(8)

    def cancel() -> str:
        barrier.wait()
        try:
            cancel_job(stores, target)
            return "cancelled"
        except ConflictError:
            return "conflict"

    def move() -> str:
        barrier.wait()
        try:
            move_job(stores, target, MoveRequest(position=4))
            return "moved"
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(8) as pool:
        results = [
            f.result()
            for f in [pool.submit(cancel) for _ in range(4)] + [pool.submit(move) for _ in range(4)]
        ]

    assert results[:4].count("cancelled") == 1
    assert stores.jobs.get(target).status == JobStatus.CANCELLED
    # A move that lost the race must not bring the cancelled job back into the queue.
    assert stores.queue.rank_of(target) is None
    entries, _ = stores.queue.page(50, None)
    assert [entry.job_id for _, entry in entries] == [j for j in jobs if j != target]
