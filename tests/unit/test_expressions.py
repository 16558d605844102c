"""The schedule expression engine against a table of cases: every cron field form, rate units,
at(), invalid input (which field, and why), and daylight saving in New York and London."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobsched.errors import ValidationFailedError
from jobsched.schedules.expressions import (
    FireTime,
    check_timezone,
    next_fire_times,
    parse_expression,
    validate_schedule,
)

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
NEW_YORK = "America/New_York"
LONDON = "Europe/London"


def fires(
    text: str,
    count: int = 4,
    after: datetime = JAN_1,
    timezone: str = "UTC",
    **window: datetime,
) -> list[FireTime]:
    return next_fire_times(parse_expression(text), timezone, after, count, **window)


def local_times(
    text: str, count: int = 4, after: datetime = JAN_1, timezone: str = "UTC"
) -> list[str]:
    return [f.local.strftime("%Y-%m-%d %H:%M") for f in fires(text, count, after, timezone)]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- every field form -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # minutes and hours: values, lists, ranges, steps (`a/n` counts from a, `*/n` from 0)
        ("cron(0 9 * * ? *)", ["01-01 09:00", "01-02 09:00", "01-03 09:00", "01-04 09:00"]),
        ("cron(5,35 10 * * ? *)", ["01-01 10:05", "01-01 10:35", "01-02 10:05", "01-02 10:35"]),
        ("cron(10-12 8 * * ? *)", ["01-01 08:10", "01-01 08:11", "01-01 08:12", "01-02 08:10"]),
        ("cron(0/20 8 * * ? *)", ["01-01 08:00", "01-01 08:20", "01-01 08:40", "01-02 08:00"]),
        ("cron(1/25 8 * * ? *)", ["01-01 08:01", "01-01 08:26", "01-01 08:51", "01-02 08:01"]),
        ("cron(0 */6 * * ? *)", ["01-01 06:00", "01-01 12:00", "01-01 18:00", "01-02 00:00"]),
        ("cron(0 8-18/5 * * ? *)", ["01-01 08:00", "01-01 13:00", "01-01 18:00", "01-02 08:00"]),
        ("cron(59 23 * * ? *)", ["01-01 23:59", "01-02 23:59", "01-03 23:59", "01-04 23:59"]),
        # day-of-month: lists, ranges with steps, `*` (with day-of-week `?`)
        ("cron(0 0 1,15 * ? *)", ["01-15 00:00", "02-01 00:00", "02-15 00:00", "03-01 00:00"]),
        ("cron(0 0 10-20/5 * ? *)", ["01-10 00:00", "01-15 00:00", "01-20 00:00", "02-10 00:00"]),
        ("cron(30 12 * * ? *)", ["01-01 12:30", "01-02 12:30", "01-03 12:30", "01-04 12:30"]),
        # month: names, name ranges, numbers with steps
        (
            "cron(0 12 1 JAN,APR,JUL,OCT ? *)",
            ["01-01 12:00", "04-01 12:00", "07-01 12:00", "10-01 12:00"],
        ),
        ("cron(0 0 1 MAR-MAY ? *)", ["03-01 00:00", "04-01 00:00", "05-01 00:00", "03-01 00:00"]),
        ("cron(0 0 1 1/4 ? *)", ["05-01 00:00", "09-01 00:00", "01-01 00:00", "05-01 00:00"]),
        # day-of-week: 1-7 is SUN-SAT, names, ranges, `*` (with day-of-month `?`)
        ("cron(0 9 ? * MON-FRI *)", ["01-01 09:00", "01-02 09:00", "01-05 09:00", "01-06 09:00"]),
        ("cron(0 9 ? * 1,7 *)", ["01-03 09:00", "01-04 09:00", "01-10 09:00", "01-11 09:00"]),
        ("cron(0 9 ? * 2 *)", ["01-05 09:00", "01-12 09:00", "01-19 09:00", "01-26 09:00"]),
        ("cron(0 9 ? * SUN *)", ["01-04 09:00", "01-11 09:00", "01-18 09:00", "01-25 09:00"]),
        ("cron(0 9 ? * * *)", ["01-01 09:00", "01-02 09:00", "01-03 09:00", "01-04 09:00"]),
        # L: the month's last day; alone in day-of-week, the week's last day (Saturday)
        ("cron(0 18 L * ? *)", ["01-31 18:00", "02-28 18:00", "03-31 18:00", "04-30 18:00"]),
        ("cron(0 9 ? * L *)", ["01-03 09:00", "01-10 09:00", "01-17 09:00", "01-24 09:00"]),
        # nL: the month's last such weekday (6L = last Friday), by number or name
        ("cron(15 10 ? * 6L *)", ["01-30 10:15", "02-27 10:15", "03-27 10:15", "04-24 10:15"]),
        ("cron(15 10 ? * FRIL *)", ["01-30 10:15", "02-27 10:15", "03-27 10:15", "04-24 10:15"]),
        # LW: the month's last weekday (31 Jan and 28 Feb 2026 are Saturdays)
        ("cron(0 0 LW * ? *)", ["01-30 00:00", "02-27 00:00", "03-31 00:00", "04-30 00:00"]),
        # nW: the weekday nearest day n (15 Feb and 15 Mar 2026 are Sundays: Monday the 16th)
        ("cron(0 0 15W * ? *)", ["01-15 00:00", "02-16 00:00", "03-16 00:00", "04-15 00:00"]),
        # ... never across the month (31 Jan is a Saturday: Friday 30th), only in months with
        # day n (31W skips February, April, June)
        ("cron(0 0 31W * ? *)", ["01-30 00:00", "03-31 00:00", "05-29 00:00", "07-31 00:00"]),
        # n#k: the k-th such weekday (3#2: second Tuesday; MON#1; 5#5: fifth Thursday)
        ("cron(0 9 ? * 3#2 *)", ["01-13 09:00", "02-10 09:00", "03-10 09:00", "04-14 09:00"]),
        ("cron(0 9 ? * MON#1 *)", ["01-05 09:00", "02-02 09:00", "03-02 09:00", "04-06 09:00"]),
        ("cron(0 0 ? * 5#5 *)", ["01-29 00:00", "04-30 00:00", "07-30 00:00", "10-29 00:00"]),
        # lower case and the optional year are accepted
        ("cron(0 9 ? * mon-fri)", ["01-01 09:00", "01-02 09:00", "01-05 09:00", "01-06 09:00"]),
    ],
)
def test_cron_field_forms(text: str, expected: list[str]) -> None:
    assert [t[5:] for t in local_times(text)] == expected


def test_nearest_weekday_of_the_first_stays_in_its_month() -> None:
    # 1 Aug 2026 is a Saturday: Monday 3 Aug, not Friday 31 Jul; 1 Nov is a Sunday: Monday 2.
    after = datetime(2026, 7, 15, tzinfo=UTC)
    expected = ["2026-08-03 00:00", "2026-09-01 00:00", "2026-10-01 00:00", "2026-11-02 00:00"]
    assert local_times("cron(0 0 1W * ? *)", after=after) == expected


def test_last_day_of_february_follows_leap_years() -> None:
    assert local_times("cron(0 0 L 2 ? *)", 3) == [
        "2026-02-28 00:00",
        "2027-02-28 00:00",
        "2028-02-29 00:00",
    ]


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("cron(0 0 1 1 ? 2028,2030)", JAN_1, ["2028-01-01 00:00", "2030-01-01 00:00"]),
        (
            "cron(0 0 1 1 ? 2027-2035/4)",
            JAN_1,
            ["2027-01-01 00:00", "2031-01-01 00:00", "2035-01-01 00:00"],
        ),
        # beyond croniter's 2099, up to EventBridge's 2199 (2200 is past the range)
        ("cron(0 0 1 1 ? 2150/25)", JAN_1, ["2150-01-01 00:00", "2175-01-01 00:00"]),
        (
            "cron(0 0 1 1 ? *)",
            datetime(2196, 6, 1, tzinfo=UTC),
            ["2197-01-01 00:00", "2198-01-01 00:00", "2199-01-01 00:00"],
        ),
    ],
)
def test_years_end_the_schedule(text: str, after: datetime, expected: list[str]) -> None:
    assert local_times(text, count=len(expected) + 1, after=after) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 2100 is not a leap year
        (
            "cron(0 0 29 2 ? 2100-2199)",
            ["2104-02-29 00:00", "2108-02-29 00:00", "2112-02-29 00:00"],
        ),
        ("cron(0 0 ? * 6L 2199)", ["2199-01-25 00:00", "2199-02-22 00:00", "2199-03-29 00:00"]),
    ],
)
def test_years_past_croniters_range(text: str, expected: list[str]) -> None:
    assert local_times(text, count=len(expected)) == expected


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("cron(0 9 ? * MON-FRI *)", "cron(0 9 ? * MON-FRI *)"),
        ("  CRON( 0  9 ? * mon-fri ) ", "cron(0 9 ? * MON-FRI *)"),
        ("cron(0 9 L * ? 2027)", "cron(0 9 L * ? 2027)"),
        ("rate(1 minute)", "rate(1 minute)"),
        ("Rate(5 Minutes)", "rate(5 minutes)"),
        ("rate(1 hour)", "rate(1 hour)"),
        ("rate(12 hours)", "rate(12 hours)"),
        ("rate(1 day)", "rate(1 day)"),
        ("rate(7 days)", "rate(7 days)"),
        ("at(2027-01-18T10:00:00)", "at(2027-01-18T10:00:00)"),
    ],
)
def test_expressions_are_normalised_for_eventbridge(text: str, normalised: str) -> None:
    assert parse_expression(text).text == normalised


# --- rate and at ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(15 minutes)", timedelta(minutes=15)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(6 hours)", timedelta(hours=6)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(3 days)", timedelta(days=3)),
    ],
)
def test_rate_fires_every_interval_from_start_at(text: str, step: timedelta) -> None:
    start = datetime(2026, 5, 1, 9, 0, 17, tzinfo=UTC)
    assert [f.at for f in fires(text, 3, after=JAN_1, start_at=start)] == [
        start,
        start + step,
        start + 2 * step,
    ]


def test_rate_keeps_its_start_at_grid_after_it_started() -> None:
    start = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    after = datetime(2026, 5, 1, 10, 7, tzinfo=UTC)
    assert [
        f.at.strftime("%H:%M") for f in fires("rate(15 minutes)", 3, after, start_at=start)
    ] == [
        "10:15",
        "10:30",
        "10:45",
    ]


def test_rate_without_start_at_counts_from_after() -> None:
    after = datetime(2026, 5, 1, 9, 0, 30, tzinfo=UTC)
    assert [f.at for f in fires("rate(2 hours)", 2, after)] == [
        after + timedelta(hours=2),
        after + timedelta(hours=4),
    ]


def test_rate_stops_at_end_at() -> None:
    start = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    end = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    assert len(fires("rate(10 minutes)", 10, JAN_1, start_at=start, end_at=end)) == 4


def test_rate_days_are_24_hours_across_daylight_saving() -> None:
    # "days represents a 24-hour duration on the clock" (User Guide): 09:00 EST becomes 10:00 EDT.
    start = datetime(2027, 3, 13, 14, 0, tzinfo=UTC)  # 09:00 EST
    got = fires("rate(1 day)", 2, JAN_1, NEW_YORK, start_at=start)
    assert [f.local.strftime("%d %H:%M %Z") for f in got] == ["13 09:00 EST", "14 10:00 EDT"]
    assert [f.note for f in got] == [None, None]


def test_at_fires_once_in_its_time_zone() -> None:
    got = fires("at(2026-06-01T09:30:00)", 5, JAN_1, LONDON)
    assert [(f.at, f.local.strftime("%H:%M %Z"), f.note) for f in got] == [
        (utc("2026-06-01T08:30:00"), "09:30 BST", None)
    ]
    assert fires("at(2026-06-01T09:30:00)", 5, utc("2026-06-01T08:30:00"), LONDON) == []


def test_at_ignores_start_and_end_as_eventbridge_does() -> None:
    got = fires(
        "at(2026-06-01T09:30:00)",
        after=JAN_1,
        start_at=utc("2026-07-01T00:00:00"),
        end_at=utc("2026-07-02T00:00:00"),
    )
    assert [f.at for f in got] == [utc("2026-06-01T09:30:00")]


# --- windows ----------------------------------------------------------------------------------


def test_cron_fires_from_start_at_inclusive_to_end_at_inclusive() -> None:
    start = utc("2026-03-10T09:00:00")
    end = utc("2026-03-12T09:00:00")
    got = fires("cron(0 9 * * ? *)", 10, JAN_1, start_at=start, end_at=end)
    assert [f.at for f in got] == [start, utc("2026-03-11T09:00:00"), end]


def test_fire_times_are_strictly_after_after() -> None:
    assert [f.at for f in fires("cron(0 9 * * ? *)", 1, utc("2026-01-01T09:00:00"))] == [
        utc("2026-01-02T09:00:00")
    ]
    assert [f.at for f in fires("cron(0 9 * * ? *)", 1, utc("2026-01-01T08:59:59.999999"))] == [
        utc("2026-01-01T09:00:00")
    ]


def test_naive_after_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="after"):
        next_fire_times(parse_expression("rate(1 day)"), "UTC", datetime(2026, 1, 1), 1)


# --- invalid input: the field, and why ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty"),
        ("every day", "is not cron(...), rate(value unit) or at("),
        ("cron(0 9 * *)", "needs 6 fields"),
        ("cron(0 9 * * ? * *)", "needs 6 fields"),
        ("cron(60 9 * * ? *)", "minutes field: 60 is out of range 0-59"),
        ("cron(0 24 * * ? *)", "hours field: 24 is out of range 0-23"),
        ("cron(0 9 0 * ? *)", "day-of-month field: 0 is out of range 1-31"),
        ("cron(0 9 1 13 ? *)", "month field: 13 is out of range 1-12"),
        ("cron(0 9 1 FOO ? *)", "month field: 'FOO' is not a number 1-12 or JAN-DEC"),
        ("cron(0 9 ? * 8 *)", "day-of-week field: 8 is out of range 1-7"),
        ("cron(0 9 ? * 0 *)", "day-of-week field: 0 is out of range 1-7"),
        ("cron(0 9 ? * MOON *)", "'MOON' is not a number 1-7 or SUN-SAT"),
        ("cron(0 9 1 * ? 1969)", "year field: 1969 is out of range 1970-2199"),
        ("cron(0 9 1 * ? 2200)", "year field: 2200 is out of range 1970-2199"),
        ("cron(0 9 * * * *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(0 9 1 * MON *)", "one of day-of-month and day-of-week must be ?"),
        ("cron(0 9 ? * ? *)", "cannot both be ?"),
        ("cron(? 9 1 * ? *)", "minutes field: ? is only for day-of-month or day-of-week"),
        ("cron(30-10 9 1 * ? *)", "the range runs backwards"),
        ("cron(*/0 9 1 * ? *)", "the step must be 1 or more"),
        ("cron(0 9 ? * MON/2 *)", "day-of-week field 'MON/2': / is not allowed here"),
        ("cron(0 9 1,,2 * ? *)", "empty item in a list"),
        ("cron(0 9 1-5W * ? *)", "W after a single day"),
        ("cron(0 9 L-2 * ? *)", "L, LW and W stand alone"),
        ("cron(0 9 32W * ? *)", "day-of-month field: 32 is out of range 1-31"),
        ("cron(0 9 ? * 3#1,6#3 *)", "# takes one day and an instance"),
        ("cron(0 9 ? * 3#6 *)", "the instance after # must be 1-5"),
        ("cron(0 9 ? * 2,6L *)", "L stands alone (Saturday) or after one day"),
        ("cron(0 9 ? * 8L *)", "day-of-week field: 8 is out of range 1-7"),
        ("cron(0 0 30 2 ? *)", "never fires: day-of-month 30 does not occur in month FEB"),
        ("cron(0 0 31 4,6,9,11 ? *)", "day-of-month 31 does not occur in month APR,JUN,SEP,NOV"),
        ("cron(0 9 ² * ? *)", "'²' is not a number"),
        ("rate(1 hours)", "write rate(1 hour)"),
        ("rate(5 minute)", "write rate(5 minutes)"),
        ("rate(0 minutes)", "the value must be 1 or more"),
        ("rate(2 weeks)", "the unit must be minute(s), hour(s) or day(s)"),
        ("rate(1.5 hours)", "expected rate(value unit) with a whole number value"),
        ("rate(-1 days)", "expected rate(value unit)"),
        ("rate(minutes)", "expected rate(value unit)"),
        ("at(2026-02-30T09:00:00)", "day is out of range for month"),
        ("at(2026-06-01 09:00:00)", "expected at(yyyy-mm-ddThh:mm:ss)"),
        ("at(2026-06-01T09:00)", "expected at(yyyy-mm-ddThh:mm:ss)"),
        ("at(2026-06-01T25:00:00)", "hour must be in 0..23"),
        ("cron(" + "0," * 200 + "0 9 * * ? *)", "longer than 256 characters"),
    ],
)
def test_invalid_expressions_say_what_and_why(text: str, fragment: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        parse_expression(text, field="schedule_expression")
    [problem] = caught.value.problems
    assert problem.field == "schedule_expression"
    assert fragment in problem.message
    assert caught.value.detail.startswith("schedule_expression: ")


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "America", "../etc/passwd", "/etc/localtime", "X" * 51]
)
def test_unknown_time_zones_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        check_timezone(name)
    assert caught.value.problems[0].field == "timezone"
    assert "is not a known IANA time zone" in caught.value.problems[0].message


def test_known_time_zones_are_zones() -> None:
    assert check_timezone(NEW_YORK) == ZoneInfo(NEW_YORK)
    assert check_timezone("UTC") == ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("text", "timezone", "start_at", "end_at", "field", "fragment"),
    [
        ("cron(0 9 * * ? 2024)", "UTC", None, None, "expression", "never fires: no time after now"),
        ("cron(0 0 29 2 ? 2027,2029)", "UTC", None, None, "expression", "never fires"),
        ("at(2026-03-01T09:00:00)", "UTC", None, None, "expression", "is in the past"),
        ("at(2026-04-01T12:00:00)", "UTC", None, None, "expression", "is in the past"),
        ("cron(0 9 * * ? *)", "Mars/Olympus", None, None, "timezone", "not a known IANA time zone"),
        ("cron(0 9 * * ? *)", "UTC", datetime(2026, 5, 1), None, "start_at", "needs a time zone"),
        ("cron(0 9 * * ? *)", "UTC", None, datetime(2026, 5, 1), "end_at", "needs a time zone"),
        (
            "cron(0 9 * * ? *)",
            "UTC",
            utc("2026-05-02T00:00:00"),
            utc("2026-05-01T00:00:00"),
            "end_at",
            "is before start_at",
        ),
        (
            "cron(0 9 1 * ? *)",
            "UTC",
            utc("2026-05-02T00:00:00"),
            utc("2026-05-20T00:00:00"),
            "expression",
            "never fires between start_at (2026-05-02 00:00:00+00:00) and end_at",
        ),
        (
            "cron(0 9 * * ? *)",
            "UTC",
            None,
            utc("2026-03-01T00:00:00"),
            "expression",
            "never fires between now and end_at",
        ),
        (
            "rate(1 day)",
            "UTC",
            None,
            utc("2026-04-02T00:00:00"),
            "expression",
            "never fires between now",
        ),
        # an at() in the spring-forward gap would be skipped: refused up front
        (
            "at(2027-03-14T02:30:00)",
            NEW_YORK,
            None,
            None,
            "expression",
            "02:30 on 2027-03-14 does not exist in America/New_York",
        ),
        # a cron that names only times daylight saving skips (2nd Sunday of March, 02:30)
        (
            "cron(30 2 ? 3 1#2 *)",
            NEW_YORK,
            None,
            None,
            "expression",
            "falls in a daylight-saving gap",
        ),
    ],
)
def test_validate_schedule_names_the_failing_field(
    text: str,
    timezone: str,
    start_at: datetime | None,
    end_at: datetime | None,
    field: str,
    fragment: str,
) -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_schedule(text, timezone, start_at, end_at, NOW)
    assert [p.field for p in caught.value.problems] == [field]
    assert fragment in caught.value.problems[0].message


def test_validate_schedule_reports_every_failing_field_at_once() -> None:
    with pytest.raises(ValidationFailedError) as caught:
        validate_schedule("cron(0 9 * * * *)", "Nowhere/Town", datetime(2026, 5, 1), None, NOW)
    assert [p.field for p in caught.value.problems] == ["expression", "timezone", "start_at"]


@pytest.mark.parametrize(
    ("text", "timezone", "start_at", "end_at"),
    [
        ("cron(0 9 ? * MON-FRI *)", NEW_YORK, None, None),
        ("rate(5 minutes)", "UTC", None, None),
        ("at(2026-04-01T12:01:00)", "UTC", None, None),
        ("cron(0 9 1 * ? *)", "UTC", utc("2026-05-01T09:00:00"), utc("2026-05-01T09:00:00")),
        ("cron(0 0 29 2 ? 2027-2028)", "UTC", None, None),
        ("cron(30 2 * * ? *)", NEW_YORK, None, None),  # skipped one night a year only
    ],
)
def test_validate_schedule_returns_the_expression(
    text: str, timezone: str, start_at: datetime | None, end_at: datetime | None
) -> None:
    assert validate_schedule(text, timezone, start_at, end_at, NOW) == parse_expression(text)


# --- daylight saving --------------------------------------------------------------------------
# EventBridge Scheduler (User Guide, "Daylight savings time on EventBridge Scheduler"): a cron time
# that does not exist when clocks go forward is skipped; one that happens twice when they go back
# fires once, at the first. New York: forward at 02:00 on 8 Mar 2026 and 14 Mar 2027, back at
# 02:00 on 1 Nov 2026 and 7 Nov 2027. London: forward at 01:00 on 29 Mar 2026 and 28 Mar 2027,
# back at 02:00 on 25 Oct 2026 and 31 Oct 2027.


@pytest.mark.parametrize(
    ("timezone", "text", "day", "expected_utc"),
    [
        (NEW_YORK, "cron(30 2 * * ? *)", "2026-03-08", ["2026-03-07T07:30", "2026-03-09T06:30"]),
        (NEW_YORK, "cron(30 2 * * ? *)", "2027-03-14", ["2027-03-13T07:30", "2027-03-15T06:30"]),
        (LONDON, "cron(30 1 * * ? *)", "2026-03-29", ["2026-03-28T01:30", "2026-03-30T00:30"]),
        (LONDON, "cron(30 1 * * ? *)", "2027-03-28", ["2027-03-27T01:30", "2027-03-29T00:30"]),
    ],
)
def test_a_daily_time_in_the_spring_gap_is_skipped_that_day(
    timezone: str, text: str, day: str, expected_utc: list[str]
) -> None:
    after = utc(day) - timedelta(days=1)
    got = fires(text, 2, after, timezone)
    assert [f.at for f in got] == [utc(t) for t in expected_utc]
    assert got[0].note is None
    assert got[1].note is not None
    assert f"on {day}: that time does not exist in {timezone}" in got[1].note
    assert "clocks go forward 1 hour" in got[1].note
    assert "skips it" in got[1].note


@pytest.mark.parametrize(
    ("timezone", "day", "first_utc", "zone_name"),
    [
        (NEW_YORK, "2026-11-01", "2026-11-01T05:30", "EDT"),
        (NEW_YORK, "2027-11-07", "2027-11-07T05:30", "EDT"),
        (LONDON, "2026-10-25", "2026-10-25T00:30", "BST"),
        (LONDON, "2027-10-31", "2027-10-31T00:30", "BST"),
    ],
)
def test_a_daily_time_in_the_autumn_overlap_fires_once_at_the_first(
    timezone: str, day: str, first_utc: str, zone_name: str
) -> None:
    after = utc(day) - timedelta(days=1)
    got = fires("cron(30 1 * * ? *)", 3, after, timezone)
    assert [f.local.strftime("%Y-%m-%d %H:%M") for f in got][1:] == [
        f"{day} 01:30",
        (datetime.fromisoformat(day) + timedelta(days=1)).strftime("%Y-%m-%d 01:30"),
    ]
    assert got[1].at == utc(first_utc)
    assert got[1].note == (
        f"01:30 happens twice on {day} in {timezone} (clocks go back 1 hour); "
        f"fires once, at the first (01:30 {zone_name}), as EventBridge Scheduler does"
    )
    assert got[0].note is None
    assert got[2].note is None


@pytest.mark.parametrize(
    ("timezone", "after", "expected"),
    [
        # New York, forward: 02:00 does not exist
        (NEW_YORK, "2027-03-14T04:30", ["00:00 EST", "01:00 EST", "03:00 EDT", "04:00 EDT"]),
        (NEW_YORK, "2026-03-08T04:30", ["00:00 EST", "01:00 EST", "03:00 EDT", "04:00 EDT"]),
        # New York, back: 01:00 happens twice and fires once
        (NEW_YORK, "2026-11-01T03:30", ["00:00 EDT", "01:00 EDT", "02:00 EST", "03:00 EST"]),
        (NEW_YORK, "2027-11-07T03:30", ["00:00 EDT", "01:00 EDT", "02:00 EST", "03:00 EST"]),
        # London, forward: 01:00 does not exist; back: 01:00 happens twice
        (LONDON, "2027-03-27T23:30", ["00:00 GMT", "02:00 BST", "03:00 BST", "04:00 BST"]),
        (LONDON, "2026-10-24T22:30", ["00:00 BST", "01:00 BST", "02:00 GMT", "03:00 GMT"]),
        (LONDON, "2027-10-30T22:30", ["00:00 BST", "01:00 BST", "02:00 GMT", "03:00 GMT"]),
    ],
)
def test_an_hourly_cron_across_the_change(timezone: str, after: str, expected: list[str]) -> None:
    got = fires("cron(0 * * * ? *)", 4, utc(after), timezone)
    assert [f.local.strftime("%H:%M %Z") for f in got] == expected
    ats = [f.at for f in got]
    assert ats == sorted(set(ats))


def test_hourly_notes_name_the_skipped_and_the_repeated_hour() -> None:
    spring = fires("cron(0 * * * ? *)", 3, utc("2027-03-14T05:30"), NEW_YORK)
    assert [f.note is None for f in spring] == [True, False, True]
    assert spring[1].note is not None
    assert spring[1].note.startswith("no fire at 02:00 on 2027-03-14")
    autumn = fires("cron(0 * * * ? *)", 3, utc("2026-11-01T04:30"), NEW_YORK)
    assert autumn[0].note is not None
    assert autumn[0].note.startswith("01:00 happens twice")
    assert [f.note for f in autumn[1:]] == [None, None]


def test_several_skipped_times_are_named_in_one_note() -> None:
    got = fires("cron(*/15 * * * ? *)", 2, utc("2027-03-14T06:40"), NEW_YORK)
    assert [f.local.strftime("%H:%M") for f in got] == ["01:45", "03:00"]
    assert got[1].note is not None
    assert got[1].note.startswith(
        "no fire at 02:00, 02:15, 02:30 or 02:45 on 2027-03-14: those times do not exist"
    )
    every_minute = fires("cron(* * * * ? *)", 2, utc("2027-03-14T06:58:30"), NEW_YORK)
    assert every_minute[1].note is not None
    assert every_minute[1].note.startswith("no fire at the 60 times from 02:00 to 02:59")


@pytest.mark.parametrize(
    ("timezone", "day"),
    [
        (NEW_YORK, "2026-11-01"),
        (NEW_YORK, "2027-11-07"),
        (LONDON, "2026-10-25"),
        (LONDON, "2027-10-31"),
    ],
)
def test_no_wall_time_fires_twice_on_the_autumn_day(timezone: str, day: str) -> None:
    zone = ZoneInfo(timezone)
    midnight = datetime.fromisoformat(day).replace(tzinfo=zone).astimezone(UTC)
    got = fires("cron(*/5 * * * ? *)", 24 * 12 + 1, midnight - timedelta(seconds=1), timezone)
    walls = [f.local.replace(tzinfo=None) for f in got if f.local.date().isoformat() == day]
    assert len(walls) == len(set(walls)) == 24 * 12  # every 5-minute wall time once, none twice


def test_after_inside_the_repeated_hour_skips_the_rest_of_it() -> None:
    # 06:10Z is 01:10 EST, the second 01:10: 01:15-01:45 EST repeat times that fired in EDT.
    got = fires("cron(*/15 * * * ? *)", 2, utc("2026-11-01T06:10"), NEW_YORK)
    assert [f.local.strftime("%H:%M %Z") for f in got] == ["02:00 EST", "02:15 EST"]


def test_an_at_in_the_autumn_overlap_fires_at_the_first() -> None:
    [fire] = fires("at(2026-11-01T01:30:00)", 1, JAN_1, NEW_YORK)
    assert fire.at == utc("2026-11-01T05:30")
    assert fire.note is not None
    assert "fires once, at the first (01:30 EDT)" in fire.note
    assert fires("at(2027-03-14T02:30:00)", 1, JAN_1, NEW_YORK) == []
