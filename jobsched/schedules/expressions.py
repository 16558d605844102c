"""EventBridge Scheduler schedule expressions: parse and check them, and list their fire times.

`cron(...)`, `rate(value unit)` and `at(yyyy-mm-ddThh:mm:ss)` as the Scheduler User Guide
("Schedule types on EventBridge Scheduler") and the CreateSchedule reference define them. The
same engine serves the API (422s and `next_runs`) and the local ticker, so both agree with what
EventBridge fires on AWS: cron and at() read in the schedule's time zone, with EventBridge's
daylight-saving rules (`dst`); rate() in absolute time ("24 hours after the schedule's last
invocation", whatever the clocks do). Pure: no AWS calls.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobsched.errors import FieldProblem, ValidationFailedError
from jobsched.schedules import dst
from jobsched.schedules.cron_fields import (
    YEAR_MAX,
    YEAR_MIN,
    CronSpec,
    ExpressionError,
    parse_cron_fields,
)
from jobsched.schedules.cron_walls import cron_walls

MAX_EXPRESSION_LENGTH: Final = 256  # CreateSchedule's ScheduleExpression
MAX_TIMEZONE_LENGTH: Final = 50  # CreateSchedule's ScheduleExpressionTimezone
_RATE_UNITS: Final = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_EXPRESSION_RE: Final = re.compile(r"(cron|rate|at)\((.*)\)", re.IGNORECASE | re.DOTALL)
_RATE_RE: Final = re.compile(r"([0-9]{1,9}) +([a-z]+)")
_AT_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
T = TypeVar("T")


@dataclass(frozen=True)
class Expression:
    kind: Literal["cron", "rate", "at"]
    text: str  # normalised, e.g. "cron(0 9 ? * MON-FRI *)": what EventBridge is sent
    cron: CronSpec | None = None  # kind "cron"
    every: timedelta | None = None  # kind "rate"
    at_local: datetime | None = None  # kind "at": naive, a wall time in the schedule's zone


@dataclass(frozen=True)
class FireTime:
    at: datetime  # UTC, tz-aware
    local: datetime  # in the schedule's time zone, tz-aware
    note: str | None  # why daylight saving moved or removed a fire; None normally


def parse_expression(text: str, field: str = "expression") -> Expression:
    """Parse and normalise; a ValidationFailedError on `field` says which part is wrong and why."""
    try:
        return _parse(text)
    except ExpressionError as exc:
        raise ValidationFailedError.on(field, str(exc)) from exc


def _parse(text: str) -> Expression:
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("is empty: expected cron(...), rate(...) or at(...)")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"is longer than {MAX_EXPRESSION_LENGTH} characters")
    match = _EXPRESSION_RE.fullmatch(text.strip())
    if not match:
        raise ExpressionError(
            f"{text.strip()!r} is not cron(...), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)"
        )
    kind, body = match.group(1).lower(), match.group(2).strip()
    if kind == "cron":
        spec, fields = parse_cron_fields(body)
        return Expression("cron", f"cron({fields})", cron=spec)
    if kind == "rate":
        every, rate_text = _parse_rate(body)
        return Expression("rate", f"rate({rate_text})", every=every)
    wall = _parse_at(body)
    return Expression("at", f"at({wall.isoformat()})", at_local=wall)


def _parse_rate(body: str) -> tuple[timedelta, str]:
    match = _RATE_RE.fullmatch(body.lower())
    if not match:
        raise ExpressionError(
            f"rate({body}): expected rate(value unit) with a whole number value, "
            "e.g. rate(5 minutes) or rate(1 hour)"
        )
    value, unit = int(match.group(1)), match.group(2)
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS:
        raise ExpressionError(f"rate({body}): the unit must be minute(s), hour(s) or day(s)")
    if value < 1:
        raise ExpressionError(f"rate({body}): the value must be 1 or more")
    # EventBridge's rule: a value of 1 takes the singular unit, any other the plural.
    wanted = singular if value == 1 else f"{singular}s"
    if unit != wanted:
        raise ExpressionError(f"rate({body}): write rate({value} {wanted})")
    return value * _RATE_UNITS[singular], f"{value} {unit}"


def _parse_at(body: str) -> datetime:
    if not _AT_RE.fullmatch(body):
        raise ExpressionError(f"at({body}): expected at(yyyy-mm-ddThh:mm:ss)")
    try:
        wall = datetime.fromisoformat(body)
    except ValueError as exc:
        raise ExpressionError(f"at({body}): {exc}") from exc
    if not YEAR_MIN <= wall.year <= YEAR_MAX:
        raise ExpressionError(f"at({body}): the year must be {YEAR_MIN}-{YEAR_MAX}")
    return wall


def check_timezone(name: str, field: str = "timezone") -> ZoneInfo:
    """The zone of an IANA name (the database EventBridge Scheduler uses); 422 otherwise."""
    problem = f"{name!r} is not a known IANA time zone, e.g. America/New_York or UTC"
    if not isinstance(name, str) or not name or len(name) > MAX_TIMEZONE_LENGTH:
        raise ValidationFailedError.on(field, problem)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a folder, e.g. "America"
        raise ValidationFailedError.on(field, problem) from exc


def next_fire_times(
    expression: Expression,
    timezone: str,
    after: datetime,
    count: int,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> list[FireTime]:
    """The next `count` fire times strictly after `after`, within [start_at, end_at]; fewer when
    the schedule ends (end_at, its last year, or at() once fired).

    rate() fires at anchor + k * interval (k >= 0) with the anchor `start_at`, or `after` when
    there is none (then the first fire is one interval after `after`: a caller that knows when an
    open-started rate schedule was created should pass that as `start_at`). at() ignores
    start_at and end_at, as EventBridge Scheduler does for one-time schedules."""
    for name, value in (("after", after), ("start_at", start_at), ("end_at", end_at)):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if count <= 0:
        return []
    zone = check_timezone(timezone)
    after = after.astimezone(UTC)
    if expression.at_local is not None:
        return _at_fires(expression.at_local, zone, after)
    # Fires are >= start_at: begin the search just before it when it is later than `after`.
    begin = after
    if start_at is not None and start_at.astimezone(UTC) > after:
        begin = start_at.astimezone(UTC) - timedelta(microseconds=1)
    end = end_at.astimezone(UTC) if end_at is not None else None
    if expression.every is not None:
        anchor = start_at.astimezone(UTC) if start_at is not None else after
        return _rate_fires(expression.every, anchor, zone, begin, count, end)
    if expression.cron is not None:
        return _cron_fires(expression.cron, zone, begin, count, end)
    raise ValueError(f"{expression.text}: an Expression made by parse_expression is needed")


def _at_fires(wall: datetime, zone: ZoneInfo, after: datetime) -> list[FireTime]:
    instant = dst.first_instant(wall, zone)
    if instant is None or instant <= after:  # validate_schedule refuses a wall time in a gap
        return []
    return [FireTime(instant, instant.astimezone(zone), dst.repeat_note(wall, zone))]


def _rate_fires(
    every: timedelta,
    anchor: datetime,
    zone: ZoneInfo,
    begin: datetime,
    count: int,
    end: datetime | None,
) -> list[FireTime]:
    steps = 0 if begin < anchor else (begin - anchor) // every + 1
    fires: list[FireTime] = []
    try:
        instant = anchor + steps * every
        while len(fires) < count and instant.year <= YEAR_MAX and (end is None or instant <= end):
            fires.append(FireTime(instant, instant.astimezone(zone), None))
            instant += every
    except OverflowError:  # a huge rate runs past the calendar: the schedule ends there
        pass
    return fires


def _cron_fires(
    spec: CronSpec, zone: ZoneInfo, begin: datetime, count: int, end: datetime | None
) -> list[FireTime]:
    fires: list[FireTime] = []
    skipped: list[datetime] = []  # wall times in a gap since the last fire, for its note
    # Wall times after begin's own; the ones in a repeated hour that map before begin (begin
    # lies in the second instance) are dropped below, as EventBridge does not repeat them.
    for wall in cron_walls(spec, begin.astimezone(zone).replace(tzinfo=None)):
        instant = dst.first_instant(wall, zone)
        if instant is None:
            skipped.append(wall)
            continue
        if instant <= begin:
            continue
        if end is not None and instant > end:
            break
        notes = [
            note for note in (dst.skip_note(skipped, zone), dst.repeat_note(wall, zone)) if note
        ]
        fires.append(FireTime(instant, instant.astimezone(zone), "; ".join(notes) or None))
        skipped = []
        if len(fires) == count:
            break
    return fires


def validate_schedule(
    text: str,
    timezone: str,
    start_at: datetime | None,
    end_at: datetime | None,
    now: datetime,
) -> Expression:
    """Everything a schedule needs, at once: one ValidationFailedError naming every failing field
    (expression, timezone, start_at, end_at), or the parsed expression."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    problems: list[FieldProblem] = []
    expression = _collect(problems, lambda: parse_expression(text))
    zone = _collect(problems, lambda: check_timezone(timezone))
    problems.extend(_window_problems(start_at, end_at))
    if not problems and expression is not None and zone is not None:
        problem = _never_fires(expression, zone, start_at, end_at, now)
        if problem:
            problems.append(FieldProblem("expression", problem))
    if problems:
        raise ValidationFailedError(
            "; ".join(f"{p.field}: {p.message}" for p in problems), problems
        )
    assert expression is not None
    return expression


def _collect(problems: list[FieldProblem], check: Callable[[], T]) -> T | None:
    try:
        return check()
    except ValidationFailedError as exc:
        problems.extend(exc.problems)
        return None


def _never_fires(
    expression: Expression,
    zone: ZoneInfo,
    start_at: datetime | None,
    end_at: datetime | None,
    now: datetime,
) -> str | None:
    """Why the schedule would never fire from now on, or None."""
    wall = expression.at_local
    if wall is not None:
        instant = dst.first_instant(wall, zone)
        if instant is None:
            return f"{expression.text} never fires: {dst.gap_message(wall, zone)}"
        if instant <= now:
            return f"{expression.text} is in the past: {instant} is not after now ({now})"
        return None
    if next_fire_times(expression, zone.key, now, 1, start_at, end_at):
        return None
    if end_at is not None:
        since = f"start_at ({start_at})" if start_at is not None and start_at > now else "now"
        return f"{expression.text} never fires between {since} and end_at ({end_at})"
    if expression.cron is not None and _names_a_time(expression.cron, zone, now):
        return (
            f"{expression.text} never fires: every time it names from now on falls in a "
            f"daylight-saving gap in {zone.key}, and EventBridge Scheduler skips those"
        )
    return f"{expression.text} never fires: no time after now matches it (years up to {YEAR_MAX})"


def _names_a_time(spec: CronSpec, zone: ZoneInfo, now: datetime) -> bool:
    return next(cron_walls(spec, now.astimezone(zone).replace(tzinfo=None)), None) is not None


def check_window(start_at: datetime | None, end_at: datetime | None) -> None:
    """A ValidationFailedError naming start_at or end_at when the window is not one."""
    problems = _window_problems(start_at, end_at)
    if problems:
        raise ValidationFailedError(
            "; ".join(f"{p.field}: {p.message}" for p in problems), problems
        )


def _window_problems(start_at: datetime | None, end_at: datetime | None) -> list[FieldProblem]:
    problems = [
        FieldProblem(name, "needs a time zone, e.g. 2026-05-01T09:00:00Z")
        for name, value in (("start_at", start_at), ("end_at", end_at))
        if value is not None and value.utcoffset() is None
    ]
    if not problems and start_at is not None and end_at is not None and end_at < start_at:
        problems.append(FieldProblem("end_at", f"{end_at} is before start_at ({start_at})"))
    return problems
