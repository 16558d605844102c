"""Budgets under races, on both stores: claims that meet at a budget's last unit let exactly one
run in, and loops that charge and settle in parallel leave the counter at what the runs used."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from jobsched.dispatch.budgets import template_holds
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobStatus, JobTemplate
from jobsched.models.budgets import Budget, BudgetPeriod, BudgetSpend
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from tests.support.waiting import BOUND_SECONDS

CLAIMS = 6


def _capped(stores: Stores, tokens: int) -> JobTemplate:
    template = JobTemplate(
        template_id="capped",
        name="Capped",
        workload="echo",
        budgets=[Budget(period=BudgetPeriod.DAY, tokens=tokens)],
    )
    stores.templates.create(template)
    return template


def _spend(stores: Stores, template: JobTemplate) -> BudgetSpend:
    [hold] = template_holds(template, datetime.now(UTC))
    return stores.dispatch.budget_spend([hold.counter]).get(hold.counter, BudgetSpend())


def _used(tokens: int) -> Usage:
    return Usage(calls=1, prompt_tokens=tokens)


@pytest.mark.usefixtures("atomic_store")
def test_simultaneous_claims_at_the_last_unit_let_exactly_one_in(wired: Stores) -> None:
    template = _capped(wired, tokens=1000)
    enqueue(wired, JobCreate(template_id=template.template_id))
    first = Dispatcher(wired, wired.dispatch).claim()
    assert first is not None
    Dispatcher(wired, wired.dispatch).finish(
        first, Outcome(exit_code=0, usage=_used(999)), claim_next=False
    )
    assert _spend(wired, template).tokens == 999  # one unit left
    for _ in range(CLAIMS):
        enqueue(wired, JobCreate(template_id=template.template_id))
    barrier = threading.Barrier(CLAIMS)

    def claim() -> bool:
        dispatcher = Dispatcher(wired, wired.dispatch, DispatchConfig(slots=CLAIMS))
        barrier.wait()
        return dispatcher.claim() is not None

    with ThreadPoolExecutor(CLAIMS) as pool:
        results = [f.result() for f in [pool.submit(claim) for _ in range(CLAIMS)]]

    assert results.count(True) == 1
    assert wired.jobs.count(JobStatus.RUNNING) == 1
    assert wired.jobs.count(JobStatus.QUEUED) == CLAIMS - 1  # held, none lost
    assert _spend(wired, template).tokens == 1000


JOBS = 16
LOOPS = 4
TOKENS_PER_RUN = 7


def _loop(dispatcher: Dispatcher, finished: list[str], deadline: float) -> None:
    while len(finished) < JOBS and time.monotonic() < deadline:
        claim = dispatcher.claim()
        if claim is None:
            time.sleep(0.005)
            continue
        while claim is not None:
            finished.append(claim.unit_id)
            time.sleep(0.01)  # runs overlap (no speed is asserted)
            claim = dispatcher.finish(claim, Outcome(exit_code=0, usage=_used(TOKENS_PER_RUN)))


@pytest.mark.usefixtures("atomic_store")
def test_parallel_charges_and_settles_leave_what_the_runs_used(wired: Stores) -> None:
    template = _capped(wired, tokens=10**9)
    for _ in range(JOBS):
        enqueue(wired, JobCreate(template_id=template.template_id))
    config = DispatchConfig(slots=LOOPS)
    dispatchers = [Dispatcher(wired, wired.dispatch, config) for _ in range(LOOPS)]
    finished: list[str] = []
    deadline = time.monotonic() + 2 * BOUND_SECONDS  # generous: a bound, not a speed test
    with ThreadPoolExecutor(LOOPS) as pool:
        for future in [pool.submit(_loop, d, finished, deadline) for d in dispatchers]:
            future.result()

    assert len(set(finished)) == JOBS
    assert wired.jobs.count(JobStatus.FINISHED) == JOBS
    assert _spend(wired, template) == BudgetSpend(tokens=JOBS * TOKENS_PER_RUN, micro_usd=0)
