"""Budgets at a schedule's fire, on both stores: a fire (a catch-up's too) while the template's
or the schedule's budget is spent is recorded as skipped with the reason and enqueues nothing;
the next fire after the period turns, or after the budget is raised, enqueues; a manual trigger
is refused with the reason, forced or not."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.templates import TemplateCreate, TemplatePatch, create_template, update_template
from jobsched.models import CatchUpPolicy, FireOutcome, OverlapPolicy, RunStatus, Schedule
from jobsched.models.budgets import Budget, BudgetPeriod
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ports import JobFilter, RunFilter, Stores
from jobsched.schedules.catch_up import catch_up
from jobsched.schedules.fire import FireResult, fire
from tests.support.api import V2, assert_problem
from tests.support.dispatch import Clock, Edges

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
TOMORROW = datetime(2027, 1, 16, tzinfo=UTC)  # the UTC day's turn
SCHEDULE = "sch_capped"
TEMPLATE = "capped"


@pytest.fixture
def wired(stores: Stores) -> Stores:
    return stores.with_edges(kicker=Edges(), tasks=Edges())


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW.timestamp())


@pytest.fixture
def dispatcher(wired: Stores, clock: Clock) -> Dispatcher:
    return Dispatcher(wired, wired.dispatch, DispatchConfig(slots=1), clock=clock)


def _template(stores: Stores, *budgets: Budget) -> None:
    create_template(
        stores,
        TemplateCreate(template_id=TEMPLATE, name="Capped", workload="echo", budgets=list(budgets)),
    )


def _schedule(stores: Stores, *budgets: Budget, **fields: object) -> Schedule:
    schedule = Schedule.model_validate(
        {
            "schedule_id": SCHEDULE,
            "name": "capped",
            "template_id": TEMPLATE,
            "expression": "rate(1 hour)",
            "overlap_policy": OverlapPolicy.ALLOW,  # only the budget may skip
            "budgets": list(budgets),
            "created_at": NOW - timedelta(days=1),
            **fields,
        }
    )
    stores.schedules.create(schedule)
    return schedule


def _use(dispatcher: Dispatcher, tokens: int) -> None:
    """Run the next queued job, which uses `tokens`."""
    claim = dispatcher.claim()
    assert claim is not None
    used = Usage(calls=1, prompt_tokens=tokens)
    dispatcher.finish(claim, Outcome(exit_code=0, usage=used), claim_next=False)


def _jobs(stores: Stores) -> list[str]:
    page = stores.jobs.list_page(JobFilter(schedule_id=SCHEDULE), 100, None)
    return [job.job_id for job in page.items]


def _skipped(stores: Stores) -> list[str | None]:
    filters = RunFilter(schedule_id=SCHEDULE, status=RunStatus.SKIPPED)
    return [run.error for run in stores.runs.list_page(filters, 100, None).items]


def test_a_fire_while_the_schedules_budget_is_spent_is_skipped_until_the_day_turns(
    wired: Stores, dispatcher: Dispatcher
) -> None:
    _template(wired)
    _schedule(wired, Budget(period=BudgetPeriod.DAY, tokens=100))
    first = fire(wired, SCHEDULE, NOW, NOW)
    assert first.result == FireResult.ENQUEUED
    _use(dispatcher, 100)

    later = NOW + timedelta(hours=1)
    skipped = fire(wired, SCHEDULE, later, later)

    assert skipped.result == FireResult.SKIPPED
    assert skipped.reason == (
        "the daily budget of schedule 'sch_capped' (2027-01-15, UTC) is spent: 100 of 100 "
        "tokens committed; it turns at 2027-01-16T00:00:00+00:00"
    )
    assert _jobs(wired) == [first.job_id]
    assert _skipped(wired) == [skipped.reason]
    last_run = wired.schedules.get(SCHEDULE).last_run
    assert last_run is not None
    assert (last_run.outcome, last_run.reason, last_run.run_id) == (
        FireOutcome.SKIPPED,
        skipped.reason,
        skipped.run_id,
    )

    turned = fire(wired, SCHEDULE, TOMORROW, TOMORROW + timedelta(seconds=30))
    assert turned.result == FireResult.ENQUEUED
    assert len(_jobs(wired)) == 2


def test_a_fire_while_the_templates_budget_is_spent_enqueues_once_it_is_raised(
    wired: Stores, dispatcher: Dispatcher
) -> None:
    _template(wired, Budget(period=BudgetPeriod.MONTH, usd=0.5))
    _schedule(wired)
    enqueue(wired, JobCreate(template_id=TEMPLATE))  # a job of the template, not the schedule
    claim = dispatcher.claim()
    assert claim is not None
    used = Usage(calls=1, prompt_tokens=10, cost_usd=0.75)
    dispatcher.finish(claim, Outcome(exit_code=0, usage=used), claim_next=False)

    skipped = fire(wired, SCHEDULE, NOW, NOW)
    assert skipped.result == FireResult.SKIPPED
    assert skipped.reason is not None
    assert "the monthly budget of template 'capped' (2027-01, UTC)" in skipped.reason
    assert "US$0.75 of US$0.50" in skipped.reason
    assert _jobs(wired) == []

    update_template(
        wired, TEMPLATE, TemplatePatch(budgets=[Budget(period=BudgetPeriod.MONTH, usd=5.0)])
    )
    later = NOW + timedelta(hours=1)
    assert fire(wired, SCHEDULE, later, later).result == FireResult.ENQUEUED
    assert len(_jobs(wired)) == 1


def test_a_catch_up_fire_while_a_budget_is_spent_is_skipped_with_the_reason(
    wired: Stores, dispatcher: Dispatcher
) -> None:
    _template(wired, Budget(period=BudgetPeriod.DAY, tokens=10))
    schedule = _schedule(
        wired,
        expression="cron(* * * * ? *)",
        catch_up=CatchUpPolicy.ALL,
        catch_up_window_minutes=60,
        fired_through=NOW - timedelta(minutes=3),
    )
    enqueue(wired, JobCreate(template_id=TEMPLATE))
    _use(dispatcher, 10)

    done = catch_up(wired, schedule, NOW, NOW, 10)

    assert [fired.result for _, fired in done.fired] == [FireResult.SKIPPED] * 3
    reasons = {fired.reason for _, fired in done.fired}
    [reason] = reasons
    assert reason is not None
    assert reason.startswith("the daily budget of template 'capped' (2027-01-15, UTC) is spent")
    assert _jobs(wired) == []
    assert sorted(_skipped(wired)) == [reason] * 3
    last_run = wired.schedules.get(SCHEDULE).last_run
    assert last_run is not None
    assert (last_run.outcome, last_run.reason) == (FireOutcome.SKIPPED, reason)


def test_a_fire_without_budgets_reads_none(wired: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    _template(wired)
    _schedule(wired)

    def unexpected(counters: object) -> None:
        raise AssertionError(f"read budget counters {counters}")

    monkeypatch.setattr(wired.dispatch, "budget_spend", unexpected)
    assert fire(wired, SCHEDULE, NOW, NOW).result == FireResult.ENQUEUED


def test_a_trigger_while_a_budget_is_spent_is_refused_with_the_reason_forced_or_not(
    wired: Stores, dispatcher: Dispatcher, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jobsched.schedules.fire.utcnow", lambda: NOW)
    _template(wired)
    _schedule(wired, Budget(period=BudgetPeriod.DAY, tokens=5, timezone="Asia/Tokyo"))
    assert client.post(f"{V2}/schedules/{SCHEDULE}/trigger").status_code == 201
    _use(dispatcher, 7)

    for body in ({}, {"force": True}):
        refused = client.post(f"{V2}/schedules/{SCHEDULE}/trigger", json=body)
        detail = assert_problem(refused, 409)["detail"]
        assert "the daily budget of schedule 'sch_capped' (2027-01-15, Asia/Tokyo)" in detail
        assert "7 of 5 tokens" in detail
    assert len(_jobs(wired)) == 1
    assert _skipped(wired) == []  # a refused trigger is an answer, not a run

    raised = {"budgets": [{"period": "day", "tokens": 50, "timezone": "Asia/Tokyo"}]}
    assert client.patch(f"{V2}/schedules/{SCHEDULE}", json=raised).status_code == 200
    assert client.post(f"{V2}/schedules/{SCHEDULE}/trigger").status_code == 201
