"""A run's model usage, on both stores: recorded on the run when it ends, added to the usage
ledger (per template and per schedule, by the hour) in the same commit, counted once whatever
path ends the run, and reported as metrics."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.reservations import reserve
from jobsched.models import RunStatus, UnitKind, utcnow
from jobsched.models.units import Claim, Outcome
from jobsched.models.usage import ModelUsage, Usage, UsageScope, UsageTotals, hour_of
from jobsched.ports import Stores, metrics
from tests.support.dispatch import Clock, Recorded

USAGE = Usage(
    calls=3,
    prompt_tokens=1200,
    completion_tokens=800,
    cost_usd=0.0042,
    by_model=[
        ModelUsage(
            model="gpt-4o-mini",
            calls=3,
            prompt_tokens=1200,
            completion_tokens=800,
            cost_usd=0.0042,
        )
    ],
)
DAY = timedelta(days=1)


def _claim(dispatcher: Dispatcher, stores: Stores, template: str) -> Claim:
    enqueue(stores, JobCreate(template_id=template))
    claim = dispatcher.claim()
    assert claim is not None
    return claim


def _sums(stores: Stores, scope: str = UsageScope.TEMPLATE) -> dict[str, UsageTotals]:
    now = utcnow()
    return stores.runs.usage_sums(scope, now - DAY, now + DAY)


def test_a_finished_run_records_its_usage_and_the_ledger_adds_it(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    first = _claim(dispatcher, wired, template)
    dispatcher.finish(first, Outcome(exit_code=0, usage=USAGE))
    second = _claim(dispatcher, wired, template)
    dispatcher.finish(second, Outcome(exit_code=0, usage=USAGE))

    assert wired.runs.get(first.unit_id).usage == USAGE
    totals = _sums(wired)[template]
    assert totals == UsageTotals(
        runs=2, calls=6, prompt_tokens=2400, completion_tokens=1600, cost_micro_usd=8400
    )
    assert totals.cost_usd == pytest.approx(0.0084)
    assert totals.total_tokens == 4000


def test_a_failed_run_is_charged_too_and_a_run_without_usage_is_not(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    failed = _claim(dispatcher, wired, template)
    # The job waits for its retry's backoff: the slot takes nothing more for now.
    assert dispatcher.finish(failed, Outcome(exit_code=1, usage=USAGE)) is None
    plain = _claim(dispatcher, wired, template)
    dispatcher.finish(plain, Outcome(exit_code=0))

    assert wired.runs.get(failed.unit_id).status == RunStatus.FAILED
    assert wired.runs.get(plain.unit_id).usage is None
    assert _sums(wired)[template].runs == 1


def test_a_schedules_run_is_charged_to_its_schedule_and_its_template(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    claim = _claim(dispatcher, wired, template)
    assert claim.run is not None
    fired = claim.model_copy(update={"run": claim.run.model_copy(update={"schedule_id": "sch_a"})})
    dispatcher.finish(fired, Outcome(exit_code=0, usage=USAGE))

    assert _sums(wired, UsageScope.SCHEDULE) == {"sch_a": UsageTotals.of(USAGE)}
    assert _sums(wired, UsageScope.TEMPLATE) == {template: UsageTotals.of(USAGE)}


def test_the_ledger_sums_only_the_hours_asked_for(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    claim = _claim(dispatcher, wired, template)
    dispatcher.finish(claim, Outcome(exit_code=0, usage=USAGE))
    now = utcnow()
    assert wired.runs.usage_sums(UsageScope.TEMPLATE, now - 3 * DAY, now - 2 * DAY) == {}
    assert wired.runs.usage_sums(UsageScope.TEMPLATE, now + DAY, now + 2 * DAY) == {}
    # Both ends are whole hours, included: a range of the current hour alone finds it.
    assert wired.runs.usage_sums(UsageScope.TEMPLATE, now, now)[template].runs == 1


def test_a_run_cancelled_while_it_ran_keeps_its_usage_once(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    claim = _claim(dispatcher, wired, template)
    assert claim.job is not None
    cancel_job(wired, claim.job.job_id)
    outcome = Outcome(exit_code=143, usage=USAGE, log_path="/logs/run.log")
    dispatcher.finish(claim, outcome)  # the finish finds the run ended: keeps what it left

    run = wired.runs.get(claim.unit_id)
    assert run.error == "cancelled"
    assert run.usage == USAGE
    assert _sums(wired)[template].runs == 1
    # Kept once: another keep (a finish seen twice) neither replaces nor counts it again.
    other = USAGE.model_copy(update={"calls": 99})
    assert not wired.runs.keep_outputs(claim.unit_id, "/logs/again.log", [], other)
    assert wired.runs.get(claim.unit_id).usage == USAGE
    assert _sums(wired)[template].runs == 1


def test_a_worker_report_reaches_the_outcome_a_sweeper_uses(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    """What the worker (or its parent) records at exit is what a lost dispatcher's run is
    reconciled from: its usage comes back with its exit code and artifacts."""
    claim = _claim(dispatcher, wired, template)
    assert wired.dispatch.record_result(claim, 0, ["file:///out/a.txt"], USAGE)
    reported = Outcome.reported(wired.runs.get(claim.unit_id))
    assert reported is not None
    assert reported.usage == USAGE
    assert reported.artifacts == ["file:///out/a.txt"]


def test_a_direct_calls_reservation_records_its_usage_and_charges_its_template(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    reservation = reserve(wired, template, {"message": "direct"})
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.kind == UnitKind.RESERVATION
    dispatcher.finish(claim, Outcome(exit_code=0, usage=USAGE), claim_next=False)

    assert wired.dispatch.reservation(reservation.reservation_id).usage == USAGE
    assert _sums(wired)[template] == UsageTotals.of(USAGE)


def test_usage_is_reported_as_metrics(wired: Stores, template: str, clock: Clock) -> None:
    sink = Recorded()
    stores = replace(wired, metrics=sink)
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1), clock=clock)
    claim = _claim(dispatcher, stores, template)
    dispatcher.finish(claim, Outcome(exit_code=0, usage=USAGE))
    assert sink.values(metrics.PROMPT_TOKENS) == [1200]
    assert sink.values(metrics.COMPLETION_TOKENS) == [800]
    assert sink.values(metrics.MODEL_COST) == [pytest.approx(0.0042)]


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "__USAGE__",  # an older image leaves the placeholder as it was
        "not json",
        "[1, 2]",
        '{"calls": -1}',
        '{"prompt_tokens": "many"}',
        '{"cost_usd": 1e400}',
        '{"calls": 1, "extra": true}',
    ],
)
def test_a_report_that_does_not_fit_is_no_usage(text: str | None) -> None:
    assert Usage.reported(text) is None


def test_a_report_with_too_many_models_keeps_the_first_fifty() -> None:
    models = [{"model": f"m{i:03}", "calls": 1} for i in range(80)]
    usage = Usage.reported(json.dumps({"calls": 80, "by_model": models}))
    assert usage is not None
    assert [entry.model for entry in usage.by_model] == [f"m{i:03}" for i in range(50)]
    assert usage.calls == 80


def test_an_hour_bucket_is_the_utc_hour() -> None:
    assert hour_of(datetime(2026, 12, 3, 23, 59, tzinfo=UTC)) == "2026-12-03T23"
    athens = datetime(2026, 12, 4, 1, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Athens"))
    assert hour_of(athens) == "2026-12-04T01"
