"""Daylight saving: the instant EventBridge Scheduler fires a local wall time at, and the notes
that tell a reader why a fire moved or went missing.

The User Guide ("Daylight savings time on EventBridge Scheduler"): when time shifts forward, "if a
cron expression falls on a non-existent date and time, your schedule invocation is skipped";
when it shifts back, "your schedule runs only once and does not repeat its invocation" (its
example runs at the first 2:30, before the shift). So a wall time in the gap has no instant, and
one in the overlap has its first instance only.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_LISTED_TIMES = 4  # more skipped times than this in one day are given as a span
_LISTED_DAYS = 3


def first_instant(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of the naive `wall` in `zone`: None if the zone skips that wall time,
    its first instance if the zone repeats it."""
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    # A wall time in the gap does not survive the round trip (02:30 comes back as 03:30).
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def repeat_note(wall: datetime, zone: ZoneInfo) -> str | None:
    """Why an existing wall time fires once although the clock shows it twice; None normally."""
    first = wall.replace(tzinfo=zone, fold=0)
    first_offset = first.utcoffset() or timedelta(0)
    second_offset = wall.replace(tzinfo=zone, fold=1).utcoffset() or timedelta(0)
    if first_offset == second_offset:
        return None
    return (
        f"{_clock(wall)} happens twice on {wall.date()} in {zone.key} "
        f"(clocks go back {_duration(first_offset - second_offset)}); fires once, at the first "
        f"({_clock(wall)} {first.tzname()}), as EventBridge Scheduler does"
    )


def skip_note(walls: list[datetime], zone: ZoneInfo) -> str | None:
    """Why the wall times in `walls` (all in a gap) did not fire; None when there are none."""
    if not walls:
        return None
    by_day: dict[date, list[datetime]] = defaultdict(list)
    for wall in walls:
        by_day[wall.date()].append(wall)
    days = sorted(by_day)
    parts = [_skipped_on(by_day[day], zone) for day in days[:_LISTED_DAYS]]
    if len(days) > _LISTED_DAYS:
        parts.append(f"and on {len(days) - _LISTED_DAYS} more days")
    return "; ".join(parts)


def gap_message(wall: datetime, zone: ZoneInfo) -> str:
    """Why a single wall time (an at() expression's) does not exist."""
    return (
        f"{_clock(wall)} on {wall.date()} does not exist in {zone.key} "
        f"(clocks go forward {_duration(_gap(wall, zone))} that night)"
    )


def _skipped_on(walls: list[datetime], zone: ZoneInfo) -> str:
    one = len(walls) == 1
    if len(walls) <= _LISTED_TIMES:
        clocks = [_clock(wall) for wall in walls]
        times = clocks[0] if one else ", ".join(clocks[:-1]) + f" or {clocks[-1]}"
    else:
        times = f"the {len(walls)} times from {_clock(walls[0])} to {_clock(walls[-1])}"
    return (
        f"no fire at {times} on {walls[0].date()}: "
        f"{'that time does' if one else 'those times do'} not exist in {zone.key} "
        f"(clocks go forward {_duration(_gap(walls[0], zone))}), "
        f"and EventBridge Scheduler skips {'it' if one else 'them'}"
    )


def _gap(wall: datetime, zone: ZoneInfo) -> timedelta:
    # In a gap, fold=0 reads the wall time with the offset before the shift, fold=1 after it.
    before = wall.replace(tzinfo=zone, fold=0).utcoffset() or timedelta(0)
    after = wall.replace(tzinfo=zone, fold=1).utcoffset() or timedelta(0)
    return after - before


def _clock(wall: datetime) -> str:
    return wall.strftime("%H:%M:%S" if wall.second else "%H:%M")


def _duration(span: timedelta) -> str:
    minutes = int(abs(span).total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts) or "0 minutes"
