"""Concurrency keys under races: dispatcher loops in threads, sharing one store and more slots
than the key's limit, never run more units of one key value at once than its limit."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobStatus, JobTemplate
from jobsched.models.concurrency import ConcurrencyLimit
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from tests.support.waiting import BOUND_SECONDS

JOBS = 24
LOOPS = 4
SLOTS = 4
LIMIT = 2
HOLD_SECONDS = 0.02  # a unit holds its key a moment, so loops overlap (no speed is asserted)


class Ledger:
    """Units of the key running at once, counted between the claim's commit and the finish's:
    inside the time the store held the key for them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.ran: list[str] = []

    def start(self, job_id: str) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.ran.append(job_id)

    def end(self) -> None:
        with self.lock:
            self.running -= 1


def _limited(stores: Stores) -> str:
    stores.templates.create(
        JobTemplate(
            template_id="limited",
            name="Limited",
            workload="echo",
            concurrency=[ConcurrencyLimit(key="template", limit=LIMIT)],
        )
    )
    return "limited"


def _loop(dispatcher: Dispatcher, ledger: Ledger, deadline: float) -> None:
    while len(ledger.ran) < JOBS and time.monotonic() < deadline:
        claim = dispatcher.claim()
        if claim is None:
            time.sleep(0.005)
            continue
        while claim is not None:
            assert claim.job is not None
            ledger.start(claim.job.job_id)
            time.sleep(HOLD_SECONDS)
            ledger.end()
            claim = dispatcher.finish(claim, Outcome(exit_code=0))


@pytest.mark.usefixtures("atomic_store")
def test_loops_over_more_slots_never_exceed_the_keys_limit(wired: Stores) -> None:
    template = _limited(wired)
    ids = [enqueue(wired, JobCreate(template_id=template))[0].job_id for _ in range(JOBS)]
    config = DispatchConfig(slots=SLOTS)
    dispatchers = [Dispatcher(wired, wired.dispatch, config) for _ in range(LOOPS)]
    ledger = Ledger()
    deadline = time.monotonic() + 2 * BOUND_SECONDS  # generous: a bound, not a speed test
    with ThreadPoolExecutor(LOOPS) as pool:
        for future in [pool.submit(_loop, d, ledger, deadline) for d in dispatchers]:
            future.result()

    assert ledger.most <= LIMIT
    assert sorted(ledger.ran) == sorted(ids)  # each exactly once
    assert {wired.jobs.get(job_id).status for job_id in ids} == {JobStatus.FINISHED}


@pytest.mark.usefixtures("atomic_store")
def test_simultaneous_claims_take_the_key_at_most_limit_times(wired: Stores) -> None:
    template = _limited(wired)
    for _ in range(6):
        enqueue(wired, JobCreate(template_id=template))
    barrier = threading.Barrier(6)

    def claim() -> bool:
        barrier.wait()
        dispatcher = Dispatcher(wired, wired.dispatch, DispatchConfig(slots=6))
        return dispatcher.claim() is not None

    with ThreadPoolExecutor(6) as pool:
        results = [f.result() for f in [pool.submit(claim) for _ in range(6)]]
    # A claim that lost its slot to another thread ends at once (claim_next's rule), so fewer
    # may start; never more than the limit.
    assert 1 <= results.count(True) <= LIMIT
    running = wired.jobs.count(JobStatus.RUNNING)
    assert running == results.count(True)
