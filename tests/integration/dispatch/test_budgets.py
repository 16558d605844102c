"""Budgets in the claim, on both stores: a job whose template's (or schedule's) budget is spent
is not started and keeps its place; it starts when the period turns or the budget is raised;
every path that ends a run settles what it used, once."""

from datetime import UTC, datetime

import pytest

from jobsched.dispatch.budgets import template_holds
from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.errors import ValidationFailedError
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.reservations import reserve
from jobsched.jobs.templates import TemplateCreate, TemplatePatch, create_template, update_template
from jobsched.models import JobStatus, Schedule
from jobsched.models.budgets import Budget, BudgetPeriod, BudgetSpend
from jobsched.models.units import Claim, Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from tests.support.dispatch import Clock

DAY = 86_400.0


def _usage(tokens: int, usd: float = 0.0) -> Usage:
    return Usage(
        calls=1, prompt_tokens=tokens // 2, completion_tokens=tokens - tokens // 2, cost_usd=usd
    )


def _budgeted(stores: Stores, *budgets: Budget, template_id: str = "capped") -> str:
    create_template(
        stores,
        TemplateCreate(
            template_id=template_id, name="Capped", workload="echo", budgets=list(budgets)
        ),
    )
    return template_id


def _now(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


def _spend(stores: Stores, template_id: str, clock: Clock) -> BudgetSpend:
    [hold] = template_holds(stores.templates.get(template_id), _now(clock))
    return stores.dispatch.budget_spend([hold.counter]).get(hold.counter, BudgetSpend())


def _run(dispatcher: Dispatcher, stores: Stores, template_id: str, usage: Usage) -> Claim:
    enqueue(stores, JobCreate(template_id=template_id))
    claim = dispatcher.claim()
    assert claim is not None
    dispatcher.finish(claim, Outcome(exit_code=0, usage=usage), claim_next=False)
    return claim


def test_a_spent_budget_holds_the_next_job_in_its_place(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    template = _budgeted(wired, Budget(period=BudgetPeriod.DAY, tokens=1000))
    _run(dispatcher, wired, template, _usage(1200))  # a run may overshoot: it was let in
    assert _spend(wired, template, clock) == BudgetSpend(tokens=1200, micro_usd=0)

    held, _ = enqueue(wired, JobCreate(template_id=template))
    assert dispatcher.claim() is None
    assert wired.jobs.get(held.job_id).status == JobStatus.QUEUED
    assert [entry.job_id for entry in wired.queue.dispatch_head(5)] == [held.job_id]
    # The dispatcher wakes when the day turns (the budget's UTC midnight).
    turn = datetime(2027, 1, 16, tzinfo=UTC).timestamp()
    assert dispatcher.wake_at == turn
    assert _spend(wired, template, clock).tokens == 1200  # the failed charge wrote nothing


def test_the_held_job_starts_when_the_period_turns(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    template = _budgeted(wired, Budget(period=BudgetPeriod.DAY, tokens=1000))
    _run(dispatcher, wired, template, _usage(1000))
    held, _ = enqueue(wired, JobCreate(template_id=template))
    assert dispatcher.claim() is None
    assert dispatcher.wake_at is not None
    clock.now = dispatcher.wake_at

    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.job_id == held.job_id
    assert claim.run is not None
    assert [hold.period_key for hold in claim.run.budget_holds] == ["2027-01-16"]


def test_raising_the_budget_lets_the_held_job_start(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    template = _budgeted(wired, Budget(period=BudgetPeriod.MONTH, tokens=1000))
    _run(dispatcher, wired, template, _usage(1500))
    held, _ = enqueue(wired, JobCreate(template_id=template))
    assert dispatcher.claim() is None

    raised = [Budget(period=BudgetPeriod.MONTH, tokens=5000)]
    update_template(wired, template, TemplatePatch(budgets=raised))
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.job_id == held.job_id


def test_a_budget_in_us_dollars_counts_the_runs_cost(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    template = _budgeted(wired, Budget(period=BudgetPeriod.DAY, usd=0.004))
    _run(dispatcher, wired, template, _usage(10, usd=0.0042))
    assert _spend(wired, template, clock).micro_usd == 4200
    enqueue(wired, JobCreate(template_id=template))
    assert dispatcher.claim() is None


def test_a_running_run_holds_one_unit_until_it_ends(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    template = _budgeted(wired, Budget(period=BudgetPeriod.DAY, tokens=1))
    enqueue(wired, JobCreate(template_id=template))
    claim = dispatcher.claim()
    assert claim is not None
    assert _spend(wired, template, clock) == BudgetSpend(tokens=1, micro_usd=1)
    # A run that used nothing gives its unit back.
    dispatcher.finish(claim, Outcome(exit_code=0, usage=_usage(0)), claim_next=False)
    assert _spend(wired, template, clock) == BudgetSpend()


def test_jobs_under_another_budget_pass_a_held_one(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    capped = _budgeted(wired, Budget(period=BudgetPeriod.DAY, tokens=10))
    free = _budgeted(wired, template_id="free")
    _run(dispatcher, wired, capped, _usage(10))
    held, _ = enqueue(wired, JobCreate(template_id=capped))
    other, _ = enqueue(wired, JobCreate(template_id=free))

    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.job_id == other.job_id
    assert wired.jobs.get(held.job_id).status == JobStatus.QUEUED


def test_a_schedules_budget_holds_its_jobs_and_not_the_templates_others(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    template = _budgeted(wired)
    wired.schedules.create(
        Schedule(
            schedule_id="sch_capped",
            name="Capped",
            template_id=template,
            expression="rate(1 hour)",
            timezone="Pacific/Kiritimati",  # UTC+14: its day is not UTC's
            budgets=[Budget(period=BudgetPeriod.DAY, tokens=100)],
        )
    )
    enqueue(wired, JobCreate(template_id=template, schedule_id="sch_capped"))
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.run is not None
    [hold] = claim.run.budget_holds
    assert (hold.scope, hold.timezone, hold.period_key) == (
        "schedule",
        "Pacific/Kiritimati",
        "2027-01-15",
    )
    assert hold.resets_at == datetime(2027, 1, 15, 10, tzinfo=UTC)  # midnight at UTC+14
    dispatcher.finish(claim, Outcome(exit_code=0, usage=_usage(100)), claim_next=False)

    again, _ = enqueue(wired, JobCreate(template_id=template, schedule_id="sch_capped"))
    plain, _ = enqueue(wired, JobCreate(template_id=template))
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.job_id == plain.job_id  # the schedule's job waits; the template's runs
    assert wired.jobs.get(again.job_id).status == JobStatus.QUEUED


def test_a_cancelled_run_settles_once_and_its_usage_counts_when_kept(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    template = _budgeted(wired, Budget(period=BudgetPeriod.DAY, tokens=10_000))
    enqueue(wired, JobCreate(template_id=template))
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    cancel_job(wired, claim.job.job_id)
    assert _spend(wired, template, clock) == BudgetSpend()  # its unit was given back
    # Its finish finds the run ended: what the worker used counts now, once.
    dispatcher.finish(claim, Outcome(exit_code=143, usage=_usage(700), log_path="/l/run.log"))
    dispatcher.finish(claim, Outcome(exit_code=143, usage=_usage(700), log_path="/l/run.log"))
    assert _spend(wired, template, clock).tokens == 700


def test_a_failed_run_retried_is_charged_each_attempt(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    create_template(
        wired,
        TemplateCreate.model_validate(
            {
                "template_id": "retried",
                "name": "Retried",
                "workload": "echo",
                "retry": {"max_attempts": 3, "backoff_seconds": 0.0},
                "budgets": [{"period": "day", "tokens": 250}],
            }
        ),
    )
    enqueue(wired, JobCreate(template_id="retried"))
    first = dispatcher.claim()
    assert first is not None
    second = dispatcher.finish(first, Outcome(exit_code=1, usage=_usage(200)))
    assert second is not None  # 200 of 250: the retry is let in
    assert dispatcher.finish(second, Outcome(exit_code=1, usage=_usage(200))) is None
    # 400 of 250: the third attempt waits for tomorrow, in the queue.
    assert _spend(wired, "retried", clock).tokens == 400
    assert wired.jobs.get(first.job.job_id if first.job else "").status == JobStatus.QUEUED


def test_a_direct_calls_usage_counts_against_its_templates_budget(
    dispatcher: Dispatcher, wired: Stores, clock: Clock
) -> None:
    template = _budgeted(wired, Budget(period=BudgetPeriod.DAY, tokens=500))
    reserve(wired, template, {})
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.reservation is not None
    dispatcher.finish(claim, Outcome(exit_code=0, usage=_usage(600)), claim_next=False)
    assert _spend(wired, template, clock).tokens == 600
    enqueue(wired, JobCreate(template_id=template))
    assert dispatcher.claim() is None


@pytest.mark.parametrize(
    ("budgets", "field"),
    [
        ([{"period": "day", "tokens": 1}, {"period": "day", "usd": 1}], "budgets.1.period"),
        ([{"period": "day", "tokens": 1, "timezone": "Mars/Olympus"}], "budgets.0.timezone"),
    ],
)
def test_a_template_with_bad_budgets_is_refused(
    wired: Stores, budgets: list[dict[str, object]], field: str
) -> None:
    request = TemplateCreate.model_validate(
        {"template_id": "bad", "name": "Bad", "workload": "echo", "budgets": budgets}
    )
    with pytest.raises(ValidationFailedError) as refused:
        create_template(wired, request)
    assert refused.value.problems[0].field == field
