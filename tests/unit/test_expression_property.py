"""Property: for generated cron expressions, time zones and start times, the engine's fire times
are strictly increasing and equal a brute-force scan of every local minute.

The oracle shares nothing with the engine: each generated field carries its own predicate,
written here from the User Guide's definitions (1-7 = SUN-SAT, L, LW, nW, nL, n#k), and the scan
applies EventBridge's daylight-saving rule directly: a minute is a candidate only at its first
instance (an instant whose local time the zone shows again later is its second instance, fold=1),
and a wall time in a gap never comes up, since the scan walks real instants."""

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from jobsched.errors import ValidationFailedError
from jobsched.schedules.expressions import Expression, next_fire_times, parse_expression

WINDOW = timedelta(days=60)
# The zones, and the instants at which they change their clocks in 2026 and 2027, to start near.
CHANGES = {
    "UTC": [],
    "Asia/Kolkata": [],
    "America/New_York": [
        datetime(2026, 3, 8, 7, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
        datetime(2027, 3, 14, 7, tzinfo=UTC),
        datetime(2027, 11, 7, 6, tzinfo=UTC),
    ],
    "Europe/London": [
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
        datetime(2027, 3, 28, 1, tzinfo=UTC),
        datetime(2027, 10, 31, 1, tzinfo=UTC),
    ],
    "Australia/Sydney": [
        datetime(2026, 4, 4, 16, tzinfo=UTC),
        datetime(2026, 10, 3, 16, tzinfo=UTC),
        datetime(2027, 4, 3, 16, tzinfo=UTC),
        datetime(2027, 10, 2, 16, tzinfo=UTC),
    ],
}
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]  # EventBridge: 1-7

DayTest = Callable[[date], bool]


@dataclass(frozen=True)
class Field:
    text: str
    values: frozenset[int]


@dataclass(frozen=True)
class Cron:
    minutes: Field
    hours: Field
    day_of_month: tuple[str, DayTest]
    months: Field
    day_of_week: tuple[str, DayTest]
    years: Field

    @property
    def text(self) -> str:
        parts = (self.minutes.text, self.hours.text, self.day_of_month[0], self.months.text)
        return f"cron({' '.join(parts)} {self.day_of_week[0]} {self.years.text})"

    def names_day(self, day: date) -> bool:
        return (
            day.year in self.years.values
            and day.month in self.months.values
            and self.day_of_month[1](day)
            and self.day_of_week[1](day)
        )


# --- the oracle's own calendar ------------------------------------------------------------------


def last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def eventbridge_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Monday is 0 in Python, 2 in EventBridge


def last_weekday(day: date) -> int:
    last = last_day(day)
    while date(day.year, day.month, last).weekday() >= 5:
        last -= 1
    return last


def nearest_weekday(day: date, wanted: int) -> int | None:
    last = last_day(day)
    if wanted > last:
        return None
    weekday = date(day.year, day.month, wanted).weekday()
    if weekday == 5:  # Saturday: the Friday before, or Monday the 3rd for the 1st
        return wanted - 1 if wanted > 1 else wanted + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before for the month's last
        return wanted + 1 if wanted < last else wanted - 2
    return wanted


# --- strategies -------------------------------------------------------------------------------


@st.composite
def plain_item(draw: st.DrawFn, low: int, high: int, names: list[str] | None, steps: bool) -> Field:
    def word(value: int) -> str:
        named = names is not None and draw(st.booleans())
        return names[value - low] if named and names is not None else str(value)

    first = draw(st.integers(low, high))
    last = draw(st.integers(first, high))
    step = draw(st.integers(1, max(1, (high - low) // 2)))
    forms = ["value", "range", "star"] + (
        ["star_step", "value_step", "range_step"] if steps else []
    )
    match draw(st.sampled_from(forms)):
        case "value":
            return Field(word(first), frozenset({first}))
        case "range":
            return Field(f"{word(first)}-{word(last)}", frozenset(range(first, last + 1)))
        case "star":
            return Field("*", frozenset(range(low, high + 1)))
        case "star_step":
            return Field(f"*/{step}", frozenset(range(low, high + 1, step)))
        case "value_step":  # `a/n`: every n from a to the field's end
            return Field(f"{first}/{step}", frozenset(range(first, high + 1, step)))
        case _:
            return Field(f"{first}-{last}/{step}", frozenset(range(first, last + 1, step)))


@st.composite
def plain_field(
    draw: st.DrawFn, low: int, high: int, names: list[str] | None = None, steps: bool = True
) -> Field:
    items = draw(st.lists(plain_item(low, high, names, steps), min_size=1, max_size=3))
    return Field(",".join(i.text for i in items), frozenset().union(*(i.values for i in items)))


@st.composite
def day_of_month(draw: st.DrawFn) -> tuple[str, DayTest]:
    wanted = draw(st.one_of(st.integers(1, 31), st.integers(28, 31)))  # 29-31W skip months
    match draw(st.sampled_from(["plain", "L", "LW", "W"])):
        case "plain":
            days = draw(plain_field(1, 31))
            return days.text, lambda d: d.day in days.values
        case "L":
            return "L", lambda d: d.day == last_day(d)
        case "LW":
            return "LW", lambda d: d.day == last_weekday(d)
        case _:
            return f"{wanted}W", lambda d: d.day == nearest_weekday(d, wanted)


@st.composite
def day_of_week(draw: st.DrawFn) -> tuple[str, DayTest]:
    weekday = draw(st.integers(1, 7))
    name = draw(st.sampled_from([str(weekday), DAYS[weekday - 1]]))
    nth = draw(st.integers(1, 5))
    match draw(st.sampled_from(["plain", "L", "nL", "#"])):
        case "plain":
            days = draw(plain_field(1, 7, DAYS, steps=False))
            return days.text, lambda d: eventbridge_weekday(d) in days.values
        case "L":  # alone: the week's last day, Saturday
            return "L", lambda d: eventbridge_weekday(d) == 7
        case "nL":
            return (
                f"{name}L",
                lambda d: eventbridge_weekday(d) == weekday and d.day + 7 > last_day(d),
            )
        case _:
            return (
                f"{name}#{nth}",
                lambda d: eventbridge_weekday(d) == weekday and (d.day - 1) // 7 + 1 == nth,
            )


def any_day(_: date) -> bool:
    return True


# Hours in which the zones above skip or repeat their wall times.
CHANGE_HOURS = [
    Field("1", frozenset({1})),
    Field("2", frozenset({2})),
    Field("0-3", frozenset({0, 1, 2, 3})),
    Field("*", frozenset(range(24))),
]


EVERY_DAY = [("*", any_day)]  # with the other day field `?`


@st.composite
def crons(draw: st.DrawFn, around_changes: bool = False) -> Cron:
    """A cron of every field form. Around changes: every day of every year, and hours that
    include the ones a change skips or repeats, so a fire meets the change."""
    # Mostly `*` months and years, so that a 60-day window usually holds fires.
    months = draw(
        st.one_of(st.just(Field("*", frozenset(range(1, 13)))), plain_field(1, 12, MONTHS))
    )
    years = draw(
        st.one_of(
            st.just(Field("*", frozenset(range(1970, 2200)))),
            st.sampled_from(
                [
                    Field("2026", frozenset({2026})),
                    Field("2027", frozenset({2027})),
                    Field("2026-2027", frozenset({2026, 2027})),
                    Field("2026,2028", frozenset({2026, 2028})),
                    Field("2025/2", frozenset(range(2025, 2200, 2))),
                ]
            ),
        )
    )
    hours = st.one_of(plain_field(0, 23), st.sampled_from(CHANGE_HOURS))
    on_month_day = draw(st.booleans())  # exactly one of the two day fields is `?`
    days_of_month = st.sampled_from(EVERY_DAY) if around_changes else day_of_month()
    days_of_week = st.sampled_from(EVERY_DAY) if around_changes else day_of_week()
    return Cron(
        minutes=draw(plain_field(0, 59)),
        hours=draw(st.sampled_from(CHANGE_HOURS) if around_changes else hours),
        day_of_month=draw(days_of_month) if on_month_day else ("?", any_day),
        months=Field("*", frozenset(range(1, 13))) if around_changes else months,
        day_of_week=("?", any_day) if on_month_day else draw(days_of_week),
        years=Field("*", frozenset(range(1970, 2200))) if around_changes else years,
    )


SECONDS = st.sampled_from([0, 0.5, 59.999999])


@st.composite
def starts_in_any_zone(draw: st.DrawFn) -> tuple[str, datetime]:
    zone = draw(st.sampled_from(sorted(CHANGES)))
    start = draw(st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)))
    return zone, start


@st.composite
def starts_near_a_change(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone, and a start up to 90 minutes before one of its changes, or inside it."""
    zone = draw(st.sampled_from([zone for zone, changes in CHANGES.items() if changes]))
    change = draw(st.sampled_from(CHANGES[zone]))
    minutes = draw(st.integers(-90, 90))
    return zone, change + timedelta(minutes=minutes, seconds=draw(SECONDS))


# --- the brute-force scan ---------------------------------------------------------------------


def fires_at(cron: Cron, zone: ZoneInfo, instant: datetime) -> bool:
    local = instant.astimezone(zone)
    if local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset():
        return False  # the second instance of a repeated wall time: EventBridge fires once
    return (
        cron.names_day(local.date())
        and local.hour in cron.hours.values
        and local.minute in cron.minutes.values
    )


def hour_may_fire(cron: Cron, zone: ZoneInfo, hour: datetime) -> bool:
    """Whether any minute of this UTC hour can fire: its local date and hour at either end (the
    zones above change offset only on a UTC hour, so a UTC hour spans at most two local hours)."""
    ends = (hour.astimezone(zone), (hour + timedelta(minutes=59)).astimezone(zone))
    return any(cron.names_day(t.date()) and t.hour in cron.hours.values for t in ends)


def brute_force(
    cron: Cron, zone: ZoneInfo, after: datetime, count: int, end: datetime
) -> list[datetime]:
    found: list[datetime] = []
    hour = after.replace(minute=0, second=0, microsecond=0)
    while hour <= end and len(found) < count:
        if hour_may_fire(cron, zone, hour):
            for minute in range(60):
                instant = hour + timedelta(minutes=minute)
                if after < instant <= end and fires_at(cron, zone, instant):
                    found.append(instant)
                    if len(found) == count:
                        break
        hour += timedelta(hours=1)
    return found


def parsed(text: str) -> Expression | str:
    """The expression, or why it was refused."""
    try:
        return parse_expression(text)
    except ValidationFailedError as exc:
        return exc.problems[0].message


@settings(deadline=None, max_examples=150)
@given(cron=crons(), zone_and_start=starts_in_any_zone(), count=st.integers(1, 8))
def test_fire_times_equal_a_minute_by_minute_scan(
    cron: Cron, zone_and_start: tuple[str, datetime], count: int
) -> None:
    check_against_the_scan(cron, *zone_and_start, count)


@settings(deadline=None, max_examples=100)
@given(
    cron=crons(around_changes=True),
    zone_and_start=starts_near_a_change(),
    count=st.integers(1, 30),
)
def test_fire_times_across_clock_changes_equal_the_scan(
    cron: Cron, zone_and_start: tuple[str, datetime], count: int
) -> None:
    check_against_the_scan(cron, *zone_and_start, count)


def check_against_the_scan(cron: Cron, timezone: str, after: datetime, count: int) -> None:
    end = after + WINDOW
    expression = parsed(cron.text)
    if isinstance(expression, str):
        # Only the early "day n never occurs in these months" check may refuse a generated cron.
        assert "never fires" in expression
        assert brute_force(cron, ZoneInfo(timezone), after, 1, end) == []
        return
    got = next_fire_times(expression, timezone, after, count, end_at=end)
    ats = [fire.at for fire in got]
    assert all(a < b for a, b in pairwise(ats))
    assert all(fire.at > after for fire in got)
    assert all(fire.local == fire.at.astimezone(ZoneInfo(timezone)) for fire in got)
    assert ats == brute_force(cron, ZoneInfo(timezone), after, count, end)
