"""Schedule lint (jobsched/schedules/lint.py): each warning, with a fixed now."""

from datetime import UTC, datetime, timedelta

from jobsched.models import CatchUpPolicy, OverlapPolicy
from jobsched.schedules.expressions import parse_expression
from jobsched.schedules.lint import LintReport, OtherFires, ScheduleDraft, lint

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def linted(
    expression: str,
    timezone: str = "UTC",
    *,
    end_at: datetime | None = None,
    policy: OverlapPolicy = OverlapPolicy.SKIP,
    p90: float | None = None,
    others: list[OtherFires] | None = None,
    catch_up: CatchUpPolicy = CatchUpPolicy.LATEST,
    window: int = 1440,
    bound: int = 10,
) -> LintReport:
    draft = ScheduleDraft(
        parse_expression(expression), timezone, None, end_at, policy, catch_up, window
    )
    return lint(draft, NOW, p90, others or [], bound)


def codes(report: LintReport) -> list[str]:
    return [warning.code for warning in report.warnings]


def test_a_plain_daily_schedule_has_nothing_to_say() -> None:
    report = linted("cron(0 9 * * ? *)")

    assert report.warnings == []
    assert report.fires_per_day == 1
    assert report.next_fire == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_the_coming_years_skipped_and_repeated_wall_times() -> None:
    report = linted("cron(30 2 * * ? *)", "Europe/Berlin")

    assert codes(report) == ["dst_skipped", "dst_repeated"]
    skipped, repeated = (w.message for w in report.warnings)
    assert "02:30 on 2027-03-28" in skipped
    assert "02:30 happens twice on 2027-10-31" in repeated


def test_a_fire_a_minute_says_each_change_once_and_how_busy_it_is() -> None:
    report = linted("cron(* * * * ? *)", "Europe/Berlin")

    assert codes(report) == ["dst_skipped", "dst_repeated", "busy"]
    assert "60 times from 02:00 to 02:59 on 2027-03-28" in report.warnings[0].message
    assert "59 more fire times" in report.warnings[1].message
    assert report.fires_per_day == 1440
    assert report.warnings[2].message == "fires 1440+ times a day"


def test_rate_is_untouched_by_clock_changes() -> None:
    assert codes(linted("rate(1 hour)", "Europe/Berlin")) == []


def test_fires_closer_than_the_p90_run_overlap_and_the_policy_is_named() -> None:
    report = linted("rate(10 minutes)", p90=1800, policy=OverlapPolicy.BUFFER_ONE)

    assert codes(report) == ["busy", "overlap"]
    overlap = report.warnings[1].message
    assert "every 10 min" in overlap
    assert "p90 run of 30 min" in overlap
    assert "buffer_one: one job waits behind the running one" in overlap
    assert codes(linted("rate(1 hour)", p90=1800)) == []  # runs end before the next fire


def test_another_schedule_in_the_same_minute() -> None:
    other = OtherFires("sch_other", "reports", [datetime(2026, 12, 5, 9, 0, 40, tzinfo=UTC)])

    report = linted("cron(0 9 * * ? *)", others=[other])

    assert codes(report) == ["same_minute"]
    assert "reports (sch_other)" in report.warnings[0].message
    assert "2026-12-05T09:00:00+00:00" in report.warnings[0].message


def test_an_end_before_the_next_fire_and_an_at_in_the_past() -> None:
    ended = linted("cron(0 9 * * ? *)", end_at=NOW + timedelta(hours=1))
    past = linted("at(2026-01-01T00:00:00)")

    assert (codes(ended), ended.fires_per_day, ended.next_fire) == (
        ["ends_before_next_fire"],
        None,
        None,
    )
    assert codes(past) == ["in_the_past"]


def test_a_start_past_the_last_year_fires_never_and_says_so() -> None:
    draft = ScheduleDraft(
        parse_expression("rate(1 minute)"),
        "UTC",
        datetime(9999, 12, 31, 23, 58, tzinfo=UTC),
        None,
        OverlapPolicy.SKIP,
    )

    report = lint(draft, NOW)  # no OverflowError near datetime.max

    assert (codes(report), report.fires_per_day) == (["never_fires"], None)


def test_catch_up_all_over_the_bound_says_how_many_an_outage_loses() -> None:
    report = linted("rate(10 minutes)", catch_up=CatchUpPolicy.ALL)

    assert codes(report) == ["busy", "catch_up_bound"]
    message = report.warnings[1].message
    assert "window of 1440 min holds 144 fires, over the bound of 10" in message
    assert "the newest 10 run late, at once, and 134 are recorded skipped" in message
    assert "at most 10 runs' worth (and under overlap_policy skip only the first" in message
    allowed = linted("rate(10 minutes)", catch_up=CatchUpPolicy.ALL, policy=OverlapPolicy.ALLOW)
    assert "overlap_policy skip" not in allowed.warnings[1].message


def test_catch_up_all_within_the_bound_or_a_short_window_is_quiet() -> None:
    assert codes(linted("rate(10 minutes)", catch_up=CatchUpPolicy.ALL, bound=144)) == ["busy"]
    assert codes(linted("rate(10 minutes)", catch_up=CatchUpPolicy.ALL, window=100)) == ["busy"]
    assert codes(linted("cron(0 9 * * ? *)", catch_up=CatchUpPolicy.ALL)) == []
    # a minute-by-minute week: counted to the window's end, not cut at a cap
    weekly = linted("cron(* * * * ? *)", catch_up=CatchUpPolicy.ALL, window=10_080)
    assert "holds 10080 fires" in weekly.warnings[-1].message


def test_catch_up_none_on_a_daily_or_rarer_schedule_loses_a_missed_day() -> None:
    for expression in ("cron(0 9 * * ? *)", "cron(0 9 ? * MON *)", "at(2027-01-01T00:00:00)"):
        assert codes(linted(expression, catch_up=CatchUpPolicy.NONE)) == ["missed_fire_lost"]
    # across a clock change a daily cron's gap is 23 hours: still daily
    assert codes(linted("cron(0 9 * * ? *)", "Europe/Berlin", catch_up=CatchUpPolicy.NONE)) == [
        "missed_fire_lost"
    ]
    assert codes(linted("cron(0 9,21 * * ? *)", catch_up=CatchUpPolicy.NONE)) == []
    assert codes(linted("cron(0 9 * * ? *)", catch_up=CatchUpPolicy.LATEST)) == []
