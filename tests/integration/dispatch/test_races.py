"""Exactly once under races: four dispatcher loops in threads share one store and one slot.
Every job runs exactly once, never two at once, in queue order."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobStatus, RunStatus
from jobsched.models.units import Outcome
from jobsched.ports import RunFilter, Stores
from tests.support.waiting import BOUND_SECONDS

JOBS = 100  # enough for every loop to lose many races; moto makes each one slow
LOOPS = 4


class Ledger:
    """What the loops did, checked as it happens: never two units at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.overlaps = 0
        self.order: list[str] = []

    def start(self, job_id: str) -> None:
        with self.lock:
            self.running += 1
            self.overlaps += self.running > 1
            self.order.append(job_id)

    def end(self) -> None:
        with self.lock:
            self.running -= 1


def _loop(dispatcher: Dispatcher, ledger: Ledger, deadline: float) -> int:
    """One dispatcher: claim when woken, run the chain of units its slot hands it."""
    ran = 0
    while len(ledger.order) < JOBS and time.monotonic() < deadline:
        claim = dispatcher.claim()
        if claim is None:
            time.sleep(0.005)  # another loop holds the slot: a kick would wake us in production
            continue
        while claim is not None:
            assert claim.job is not None
            ledger.start(claim.job.job_id)
            ledger.end()
            ran += 1
            claim = dispatcher.finish(claim, Outcome(exit_code=0))
    return ran


@pytest.mark.usefixtures("atomic_store")
def test_four_loops_run_every_job_exactly_once_in_order(wired: Stores, template: str) -> None:
    ids = [enqueue(wired, JobCreate(template_id=template))[0].job_id for _ in range(JOBS)]
    dispatchers = [Dispatcher(wired, wired.dispatch, DispatchConfig(slots=1)) for _ in range(LOOPS)]
    ledger = Ledger()
    deadline = time.monotonic() + 2 * BOUND_SECONDS  # generous: a bound, not a speed test
    with ThreadPoolExecutor(LOOPS) as pool:
        counts = [
            f.result() for f in [pool.submit(_loop, d, ledger, deadline) for d in dispatchers]
        ]

    assert ledger.overlaps == 0
    assert sum(counts) == JOBS
    assert ledger.order == ids  # exactly once each, in queue order
    assert {wired.jobs.get(job_id).status for job_id in ids} == {JobStatus.FINISHED}
    for job_id in ids[:: JOBS // 10]:
        runs = wired.runs.list_page(RunFilter(job_id=job_id), 10, None).items
        assert [run.status for run in runs] == [RunStatus.COMPLETED]


@pytest.mark.usefixtures("atomic_store")
def test_simultaneous_claims_of_one_job_give_it_to_one_dispatcher(
    wired: Stores, template: str
) -> None:
    enqueue(wired, JobCreate(template_id=template))
    barrier = threading.Barrier(6)

    def claim() -> bool:
        barrier.wait()
        return Dispatcher(wired, wired.dispatch, DispatchConfig(slots=3)).claim() is not None

    with ThreadPoolExecutor(6) as pool:
        results = [f.result() for f in [pool.submit(claim) for _ in range(6)]]
    assert results.count(True) == 1
