"""Budgets that stop runs (on_exceed: stop), on both stores: the sweeper stops the running runs
whose heartbeats say they crossed the budget, and only those budgets' runs."""

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.dispatch.sweeper import sweep
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobStatus, JobTemplate, RunStatus
from jobsched.models.budgets import Budget, BudgetPeriod, BudgetSpend, OnExceed
from jobsched.models.units import Claim, Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from tests.support.dispatch import Clock, Edges

LIMIT = 1000


def _capped(stores: Stores, on_exceed: OnExceed) -> JobTemplate:
    template = JobTemplate(
        template_id="capped",
        name="Capped",
        workload="echo",
        budgets=[Budget(period=BudgetPeriod.DAY, tokens=LIMIT, on_exceed=on_exceed)],
    )
    stores.templates.create(template)
    return template


def _running(dispatcher: Dispatcher, stores: Stores, template: JobTemplate) -> Claim:
    enqueue(stores, JobCreate(template_id=template.template_id))
    claim = dispatcher.claim()
    assert claim is not None
    return claim


def _beat(stores: Stores, claim: Claim, clock: Clock, tokens: int) -> None:
    used = Usage(calls=1, prompt_tokens=tokens)
    assert stores.dispatch.renew(claim, clock(), clock() + 90, used)


def test_a_run_that_crosses_a_stopping_budget_is_stopped(
    dispatcher: Dispatcher, wired: Stores, clock: Clock, edges: Edges
) -> None:
    template = _capped(wired, OnExceed.STOP)
    claim = _running(dispatcher, wired, template)
    _beat(wired, claim, clock, 400)
    assert sweep(dispatcher, clock).over_budget == []  # 400 of 1000: it runs on

    _beat(wired, claim, clock, 1000)
    assert sweep(dispatcher, clock).over_budget == [claim.unit_id]
    run = wired.runs.get(claim.unit_id)
    assert run.status == RunStatus.FAILED
    assert run.error is not None
    assert run.error.startswith("over budget: the daily budget")
    assert claim.job is not None
    assert wired.jobs.get(claim.job.job_id).status == JobStatus.FINISHED  # not retried
    assert edges.stopped == [(claim.unit_id, "over budget")]

    # Its worker stops; the finish finds the run ended and counts what it used, once.
    dispatcher.finish(claim, Outcome(exit_code=143, usage=Usage(calls=2, prompt_tokens=1100)))
    assert claim.run is not None
    [hold] = claim.run.budget_holds
    assert wired.dispatch.budget_spend([hold.counter])[hold.counter] == BudgetSpend(tokens=1100)


def test_runs_that_cross_it_together_are_all_stopped(
    wired: Stores, clock: Clock, edges: Edges
) -> None:
    dispatcher = Dispatcher(wired, wired.dispatch, DispatchConfig(slots=2), clock=clock)
    template = _capped(wired, OnExceed.STOP)
    first = _running(dispatcher, wired, template)
    second = _running(dispatcher, wired, template)
    _beat(wired, first, clock, 600)
    _beat(wired, second, clock, 500)  # neither alone; 1100 together

    stopped = sweep(dispatcher, clock).over_budget
    assert sorted(stopped) == sorted([first.unit_id, second.unit_id])


def test_a_hold_new_budget_lets_its_running_runs_finish(
    dispatcher: Dispatcher, wired: Stores, clock: Clock, edges: Edges
) -> None:
    template = _capped(wired, OnExceed.HOLD_NEW)
    claim = _running(dispatcher, wired, template)
    _beat(wired, claim, clock, 5000)
    assert sweep(dispatcher, clock).over_budget == []
    assert wired.runs.get(claim.unit_id).status == RunStatus.STARTED
    assert edges.stopped == []
