"""Catch-up planning (jobsched.schedules.catch_up.plan_catch_up), pure: which missed times run,
which are recorded as skipped and why, the window, the bound of `all`, the bound on records,
and where missing begins."""

from datetime import UTC, datetime, timedelta

from jobsched.models import CatchUpPolicy, FireOutcome, LastRun, Schedule
from jobsched.schedules.catch_up import plan_catch_up
from jobsched.schedules.missed import missed_since

NOW = datetime(2027, 1, 4, 12, 0, 30, tzinfo=UTC)
HORIZON = NOW - timedelta(seconds=5)


def minute(n: int) -> datetime:
    """n minutes before noon."""
    return datetime(2027, 1, 4, 12, 0, tzinfo=UTC) - timedelta(minutes=n)


def every_minute(
    policy: CatchUpPolicy,
    fired_through: datetime | None = minute(5),
    window: int = 60,
    **fields: object,
) -> Schedule:
    return Schedule(
        schedule_id="sch_a",
        name="a",
        template_id="echo",
        expression="cron(* * * * ? *)",
        catch_up=policy,
        catch_up_window_minutes=window,
        fired_through=fired_through,
        created_at=minute(60 * 24 * 400),
        **fields,  # type: ignore[arg-type]
    )


def test_nothing_missed_is_no_plan() -> None:
    assert plan_catch_up(every_minute(CatchUpPolicy.ALL, minute(0)), NOW, HORIZON, 10) is None


def test_a_time_younger_than_the_horizon_is_not_missed_yet() -> None:
    """It is being fired on time (the ticker) or delivered (EventBridge)."""
    schedule = every_minute(CatchUpPolicy.ALL, minute(1))
    assert plan_catch_up(schedule, NOW, minute(0) - timedelta(seconds=1), 10) is None
    plan = plan_catch_up(schedule, NOW, HORIZON, 10)
    assert plan is not None
    assert plan.fire == [minute(0)]


def test_latest_runs_the_newest_missed_time_once_and_records_the_others() -> None:
    plan = plan_catch_up(every_minute(CatchUpPolicy.LATEST), NOW, HORIZON, 10)
    assert plan is not None
    assert plan.fire == [minute(0)]
    assert [time for time, _ in plan.skip] == [minute(4), minute(3), minute(2), minute(1)]
    assert {reason for _, reason in plan.skip} == {
        "catch-up latest: the newest missed fire, 2027-01-04T12:00:00Z, runs instead"
    }
    assert plan.summary is None
    assert plan.through == HORIZON


def test_none_runs_nothing_and_records_every_missed_time() -> None:
    plan = plan_catch_up(every_minute(CatchUpPolicy.NONE), NOW, HORIZON, 10)
    assert plan is not None
    assert plan.fire == []
    assert [time for time, _ in plan.skip] == [minute(n) for n in (4, 3, 2, 1, 0)]
    assert {reason for _, reason in plan.skip} == {"catch-up none: a missed fire is not run late"}


def test_all_runs_the_newest_up_to_the_bound_oldest_first() -> None:
    plan = plan_catch_up(every_minute(CatchUpPolicy.ALL, minute(10)), NOW, HORIZON, 3)
    assert plan is not None
    assert plan.fire == [minute(2), minute(1), minute(0)]
    assert [time for time, _ in plan.skip] == [minute(n) for n in range(9, 2, -1)]
    assert {reason for _, reason in plan.skip} == {"catch-up bound of 3 reached"}


def test_all_within_the_bound_runs_every_missed_time() -> None:
    plan = plan_catch_up(every_minute(CatchUpPolicy.ALL), NOW, HORIZON, 10)
    assert plan is not None
    assert plan.fire == [minute(n) for n in (4, 3, 2, 1, 0)]
    assert plan.skip == []


def test_times_older_than_the_window_never_run_and_share_one_summary_run() -> None:
    schedule = every_minute(CatchUpPolicy.ALL, minute(90), window=3)
    plan = plan_catch_up(schedule, NOW, HORIZON, 10)
    assert plan is not None
    # The window is 11:57:30 to noon: three times in it.
    assert plan.fire == [minute(2), minute(1), minute(0)]
    assert plan.skip == []
    assert plan.summary is not None
    time, reason = plan.summary
    assert time == minute(89)  # the first missed: the summary's key
    assert reason == (
        "catch-up: missed fires from 2027-01-04T10:31:00Z to 2027-01-04T11:57:30Z not run "
        "(older than the catch-up window of 3 minutes)"
    )


def test_latest_with_every_missed_time_outside_the_window_runs_nothing() -> None:
    daily = every_minute(CatchUpPolicy.LATEST, minute(60 * 24 * 3), window=60)
    daily = daily.model_copy(update={"expression": "cron(0 6 * * ? *)"})
    plan = plan_catch_up(daily, NOW, HORIZON, 10)
    assert plan is not None
    assert plan.fire == []
    assert plan.skip == []
    assert plan.summary is not None
    assert plan.summary[0] == datetime(2027, 1, 2, 6, 0, tzinfo=UTC)


def test_a_long_outage_records_a_bounded_number_of_runs() -> None:
    """A year of a per-minute schedule: 100 records one by one, one summary for the rest;
    only the window's times are walked."""
    schedule = every_minute(CatchUpPolicy.NONE, minute(60 * 24 * 365), window=7 * 24 * 60)
    plan = plan_catch_up(schedule, NOW, HORIZON, 10, max_records=100)
    assert plan is not None
    assert plan.fire == []
    assert [time for time, _ in plan.skip] == [minute(n) for n in range(99, -1, -1)]
    assert plan.summary is not None
    time, reason = plan.summary
    assert time == minute(60 * 24 * 365 - 1)
    window_times = 7 * 24 * 60  # the window opens half a minute past a minute
    assert f"{window_times - 100} in the window beyond the 100 recorded one by one" in reason
    assert "older than the catch-up window of 10080 minutes" in reason


def test_missing_begins_at_the_mark_else_the_last_timed_fire_else_the_creation() -> None:
    marked = every_minute(CatchUpPolicy.LATEST, minute(3))
    assert missed_since(marked) == minute(3)
    manual_last = LastRun(fired_at=minute(9), outcome=FireOutcome.ENQUEUED, manual=True)
    older = every_minute(CatchUpPolicy.LATEST, None).model_copy(
        update={
            "last_run": LastRun(
                fired_at=minute(7), scheduled_time=minute(7), outcome=FireOutcome.ENQUEUED
            )
        }
    )
    assert missed_since(older) == minute(7)  # a record from before the mark existed
    never = every_minute(CatchUpPolicy.LATEST, None)
    assert missed_since(never) == never.created_at - timedelta(microseconds=1)
    triggered = every_minute(CatchUpPolicy.LATEST, None, last_run=manual_last)
    assert missed_since(triggered) == minute(9)  # an older record's last timed fire is hidden
    later_start = every_minute(CatchUpPolicy.LATEST, None, start_at=minute(2))
    assert missed_since(later_start) == minute(2) - timedelta(microseconds=1)


def test_a_rate_without_start_at_misses_its_first_fire_at_its_creation() -> None:
    created = minute(30) + timedelta(seconds=12)
    schedule = Schedule(
        schedule_id="sch_r",
        name="r",
        template_id="echo",
        expression="rate(10 minutes)",
        catch_up=CatchUpPolicy.ALL,
        created_at=created,
    )
    plan = plan_catch_up(schedule, NOW, HORIZON, 10)
    assert plan is not None
    assert plan.fire == [created + timedelta(minutes=10 * k) for k in range(4)]


def test_a_record_without_the_catch_up_fields_loads_with_the_safe_default() -> None:
    stored = every_minute(CatchUpPolicy.ALL).model_dump(
        mode="json", exclude={"catch_up", "catch_up_window_minutes", "fired_through"}
    )
    loaded = Schedule.model_validate(stored)
    assert loaded.catch_up == CatchUpPolicy.LATEST
    assert loaded.catch_up_window_minutes == 1440
    assert loaded.fired_through is None
