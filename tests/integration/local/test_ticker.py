"""The local ticker fires due schedules through the same fire use case, once per time, catches
up the times missed while it was down, and sleeps between fires (a clock shifted to just before
a minute keeps the waits short)."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from jobsched.models import JobTemplate, OverlapPolicy, RunStatus, Schedule
from jobsched.ports import JobFilter, RunFilter, Stores
from local.exec.ticker import LocalTicker
from tests.support.local import wait_until

MINUTE = datetime(2027, 1, 4, 10, 1, tzinfo=UTC)


class ShiftedClock:
    """Real time, shifted so that "now" starts half a second before MINUTE."""

    def __init__(self) -> None:
        self.offset = MINUTE.timestamp() - 0.5 - time.time()

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def schedule(stores: Stores) -> Schedule:
    stores.templates.create(JobTemplate(template_id="tick", name="Tick", workload="echo"))
    every_minute = Schedule(
        schedule_id="sch_every_minute",
        name="every minute",
        template_id="tick",
        expression="cron(* * * * ? *)",
        created_at=MINUTE - timedelta(seconds=30),  # nothing missed before the ticker starts
    )
    stores.schedules.create(every_minute)
    return every_minute


@pytest.fixture
def ticker(stores: Stores) -> Iterator[LocalTicker]:
    ticker = LocalTicker(clock=ShiftedClock())
    yield ticker
    ticker.stop()


def _jobs_of(stores: Stores, schedule_id: str) -> list[str]:
    page = stores.jobs.list_page(JobFilter(schedule_id=schedule_id), 50, None)
    return [job.job_id for job in page.items]


def test_the_ticker_fires_a_due_schedule_once(
    stores: Stores, schedule: Schedule, ticker: LocalTicker
) -> None:
    assert ticker.plan(stores) == {schedule.schedule_id: MINUTE}
    ticker.start(stores)
    wait_until(lambda: ticker.fired, what="the fire at the minute")
    assert ticker.fired == [(schedule.schedule_id, MINUTE)]
    [job_id] = wait_until(lambda: _jobs_of(stores, schedule.schedule_id), what="its job")
    assert stores.jobs.get(job_id).schedule_id == schedule.schedule_id
    last = stores.schedules.get(schedule.schedule_id).last_run
    assert last is not None
    assert last.scheduled_time == MINUTE


def test_a_restarted_ticker_does_not_fire_a_fired_time_again(
    stores: Stores, schedule: Schedule, ticker: LocalTicker
) -> None:
    ticker.start(stores)
    wait_until(lambda: ticker.fired, what="the first fire")
    ticker.stop()
    again = LocalTicker(clock=ShiftedClock())  # "now" is before MINUTE again, yet it fired
    try:
        assert ticker.plan(stores)[schedule.schedule_id] > MINUTE
        assert again.plan(stores)[schedule.schedule_id] > MINUTE
    finally:
        again.stop()
    assert len(_jobs_of(stores, schedule.schedule_id)) == 1


def test_a_disabled_schedule_is_not_planned_and_a_change_wakes_the_ticker(
    stores: Stores, schedule: Schedule, ticker: LocalTicker
) -> None:
    disabled = schedule.model_copy(update={"enabled": False, "version": 2})
    stores.schedules.replace(disabled, expected_version=1)
    assert ticker.plan(stores) == {}
    ticker.start(stores)
    time.sleep(0.8)  # past the minute: nothing fires
    assert ticker.fired == []
    ticker.set_state(disabled)  # a change (here: none that enables it) replans at once
    assert ticker.fired == []


def test_a_new_rate_schedules_preview_is_what_the_ticker_fires(stores: Stores) -> None:
    """A rate() without start_at fires at its creation: the preview shown then says so."""
    from jobsched.schedules.usecases import upcoming

    stores.templates.create(JobTemplate(template_id="tick", name="Tick", workload="echo"))
    created = datetime.now(UTC)
    schedule = Schedule(
        schedule_id="sch_rate",
        name="every 5 minutes",
        template_id="tick",
        expression="rate(5 minutes)",
        created_at=created,
    )
    stores.schedules.create(schedule)
    ticker = LocalTicker(clock=lambda: created.timestamp() - 1)  # started before the creation
    try:
        planned = ticker.plan(stores)[schedule.schedule_id]
    finally:
        ticker.stop()
    shown = upcoming(schedule, 2, created + timedelta(seconds=1))  # as the create answers

    assert planned == created
    assert [fire.at for fire in shown] == [created, created + timedelta(minutes=5)]
    later = upcoming(schedule, 1, created + timedelta(minutes=6))  # past its first interval
    assert [fire.at for fire in later] == [created + timedelta(minutes=10)]


def test_a_starting_ticker_catches_up_the_times_missed_while_it_was_down(
    stores: Stores, ticker: LocalTicker
) -> None:
    """Down from 09:55 (the last fire) to just before 10:01: catch_up latest runs 10:00 once
    and records 09:56 to 09:59 as skipped; 10:01 is then fired on time."""
    stores.templates.create(JobTemplate(template_id="tick", name="Tick", workload="echo"))
    down = MINUTE - timedelta(minutes=6)
    stores.schedules.create(
        Schedule(
            schedule_id="sch_down",
            name="every minute",
            template_id="tick",
            expression="cron(* * * * ? *)",
            overlap_policy=OverlapPolicy.ALLOW,
            fired_through=down,
            created_at=down - timedelta(hours=1),
        )
    )

    assert ticker.plan(stores) == {"sch_down": MINUTE}
    assert ticker.fired == [("sch_down", MINUTE - timedelta(minutes=1))]
    skipped = stores.runs.list_page(
        RunFilter(schedule_id="sch_down", status=RunStatus.SKIPPED), 50, None
    ).items
    assert len(skipped) == 4
    assert all((run.error or "").startswith("catch-up latest") for run in skipped)
    assert len(_jobs_of(stores, "sch_down")) == 1
    assert ticker.plan(stores) == {"sch_down": MINUTE}  # planned again: nothing more
    assert len(ticker.fired) == 1
