"""The six fields of an EventBridge Scheduler cron expression, parsed and checked.

`cron(minutes hours day-of-month month day-of-week year)`, as the Scheduler User Guide's
"Schedule types" page and the CreateSchedule reference describe it. Plain fields (lists, ranges,
steps, `*`) are expanded here into explicit values, so that every error names its field and why,
and croniter (see `cron_walls`) only ever sees a canonical expression. The special day forms are
kept as rules: `L`, `LW`, `nW` in day-of-month; `L`, `nL`, `n#k` in day-of-week.
"""

import calendar
import re
from dataclasses import dataclass
from typing import Final, Literal

YEAR_MIN: Final = 1970  # EventBridge's year range
YEAR_MAX: Final = 2199

_MONTH_NAMES: Final = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
# EventBridge numbers the days of the week 1-7 from Sunday.
_DAY_NAMES: Final = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_DAYS_MAX: Final = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: leap years


class ExpressionError(ValueError):
    """Why an expression is invalid; the caller adds the request field it came from."""


@dataclass(frozen=True)
class _FieldKind:
    name: str
    low: int
    high: int
    names: dict[str, int]
    steps: bool  # the User Guide lists `/` for every field but day-of-week
    names_hint: str = ""


MINUTES: Final = _FieldKind("minutes", 0, 59, {}, steps=True)
HOURS: Final = _FieldKind("hours", 0, 23, {}, steps=True)
DAY_OF_MONTH: Final = _FieldKind("day-of-month", 1, 31, {}, steps=True)
MONTH: Final = _FieldKind("month", 1, 12, _MONTH_NAMES, steps=True, names_hint=" or JAN-DEC")
DAY_OF_WEEK: Final = _FieldKind(
    "day-of-week", 1, 7, _DAY_NAMES, steps=False, names_hint=" or SUN-SAT"
)
YEAR: Final = _FieldKind("year", YEAR_MIN, YEAR_MAX, {}, steps=True)
_CRONITER_WEEKDAYS: Final = _FieldKind("weekday", 0, 6, {}, steps=False)


@dataclass(frozen=True)
class DayOfMonthRule:
    """`any` is `?`; `days` a set of days; `last` is `L`; `last_weekday` is `LW`;
    `nearest_weekday` is `nW` (the Monday-Friday nearest day n, within the month)."""

    kind: Literal["any", "days", "last", "last_weekday", "nearest_weekday"]
    days: tuple[int, ...] = ()


@dataclass(frozen=True)
class DayOfWeekRule:
    """`any` is `?`; `days` a set of days 1-7 (SUN-SAT; `L` alone is SAT, the week's last day);
    `last` is `nL` (the month's last such day); `nth` is `n#k` (the month's k-th such day)."""

    kind: Literal["any", "days", "last", "nth"]
    days: tuple[int, ...] = ()
    nth: int = 0


@dataclass(frozen=True)
class CronSpec:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: DayOfMonthRule
    months: tuple[int, ...]
    days_of_week: DayOfWeekRule
    years: tuple[int, ...]


def parse_cron_fields(body: str) -> tuple[CronSpec, str]:
    """The spec and the normalised text inside `cron(...)` (upper case, one space, six fields).

    The User Guide calls the year optional while the API reference asks for six fields: five are
    accepted and the normalised text, which is what reaches EventBridge, always has six."""
    parts = body.upper().split()
    if len(parts) == 5:
        parts.append("*")
    if len(parts) != 6:
        raise ExpressionError(
            "cron() needs 6 fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(parts)}"
        )
    minutes, hours, dom, month, dow, year = parts
    spec = CronSpec(
        minutes=_parse_list(MINUTES, minutes),
        hours=_parse_list(HOURS, hours),
        days_of_month=_parse_day_of_month(dom),
        months=_parse_list(MONTH, month),
        days_of_week=_parse_day_of_week(dow),
        years=_parse_list(YEAR, year),
    )
    _check_one_question_mark(spec)
    _check_days_exist(spec)
    return spec, " ".join(parts)


def _check_one_question_mark(spec: CronSpec) -> None:
    # "You can't use * in both the Day-of-month and Day-of-week fields. If you use it in one,
    # you must use ? in the other" (User Guide); EventBridge never combines the two fields.
    dom_any = spec.days_of_month.kind == "any"
    dow_any = spec.days_of_week.kind == "any"
    if dom_any and dow_any:
        raise ExpressionError("day-of-month and day-of-week cannot both be ?: set one of them")
    if not dom_any and not dow_any:
        raise ExpressionError(
            "one of day-of-month and day-of-week must be ? (EventBridge does not combine them), "
            "e.g. cron(0 9 ? * MON-FRI *) or cron(0 9 1 * ? *)"
        )


def _check_days_exist(spec: CronSpec) -> None:
    """Catch the common never-firing day early, with a message that says why (30 FEB)."""
    rule = spec.days_of_month
    if rule.kind not in ("days", "nearest_weekday"):
        return
    longest = max(_MONTH_DAYS_MAX[m - 1] for m in spec.months)
    if min(rule.days) > longest:
        months = ",".join(calendar.month_abbr[m].upper() for m in spec.months)
        raise ExpressionError(
            f"never fires: day-of-month {min(rule.days)} does not occur in month {months}"
        )


def _parse_day_of_month(text: str) -> DayOfMonthRule:
    if text == "?":
        return DayOfMonthRule("any")
    if text == "L":
        return DayOfMonthRule("last")
    if text == "LW":
        return DayOfMonthRule("last_weekday")
    nearest = re.fullmatch(r"([0-9]+)W", text)
    if nearest:
        return DayOfMonthRule("nearest_weekday", (_value(DAY_OF_MONTH, nearest.group(1)),))
    if "W" in text or "L" in text:
        raise ExpressionError(
            f"day-of-month field {text!r}: L, LW and W stand alone (L, LW, 15W), "
            "W after a single day"
        )
    return DayOfMonthRule("days", _parse_list(DAY_OF_MONTH, text))


def _parse_day_of_week(text: str) -> DayOfWeekRule:
    if text == "?":
        return DayOfWeekRule("any")
    if text == "L":
        return DayOfWeekRule("days", (7,))
    if "#" in text:
        nth = re.fullmatch(r"([0-9A-Z]+)#([0-9]+)", text)
        if not nth:
            # "If you use a '#' character, you can define only one expression" (User Guide).
            raise ExpressionError(
                f"day-of-week field {text!r}: # takes one day and an instance, e.g. 3#2 "
                "(the second Tuesday), and nothing else in the field"
            )
        if not 1 <= int(nth.group(2)) <= 5:
            raise ExpressionError(f"day-of-week field {text!r}: the instance after # must be 1-5")
        return DayOfWeekRule("nth", (_value(DAY_OF_WEEK, nth.group(1)),), int(nth.group(2)))
    last = re.fullmatch(r"([0-9A-Z]+?)L", text)
    if last:
        return DayOfWeekRule("last", (_value(DAY_OF_WEEK, last.group(1)),))
    if "L" in text:  # no day name holds an L
        raise ExpressionError(
            f"day-of-week field {text!r}: L stands alone (Saturday) or after one day, e.g. 6L"
        )
    return DayOfWeekRule("days", _parse_list(DAY_OF_WEEK, text))


def _parse_list(kind: _FieldKind, text: str) -> tuple[int, ...]:
    if text == "?":
        raise ExpressionError(f"{kind.name} field: ? is only for day-of-month or day-of-week")
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise ExpressionError(f"{kind.name} field {text!r}: empty item in a list")
        values.update(_parse_item(kind, item))
    return tuple(sorted(values))


def _parse_item(kind: _FieldKind, item: str) -> range:
    """One list item: `*`, `v`, `a-b`, each optionally followed by `/step`."""
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not kind.steps:
            raise ExpressionError(f"{kind.name} field {item!r}: / is not allowed here")
        if not _is_number(step_text) or int(step_text) < 1:
            raise ExpressionError(f"{kind.name} field {item!r}: the step must be 1 or more")
        step = int(step_text)
    if base == "*":
        return range(kind.low, kind.high + 1, step)
    if "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(kind, first), _value(kind, last)
        if low > high:
            raise ExpressionError(
                f"{kind.name} field {item!r}: the range runs backwards ({first} is after {last})"
            )
        return range(low, high + 1, step)
    low = _value(kind, base)
    # `a/n` is "every n from a": the User Guide's `1/10` is minutes 1, 11, 21, ...
    return range(low, (kind.high if slash else low) + 1, step)


def _value(kind: _FieldKind, text: str) -> int:
    if text in kind.names:
        return kind.names[text]
    if not _is_number(text):
        raise ExpressionError(
            f"{kind.name} field: {text!r} is not a number {kind.low}-{kind.high}{kind.names_hint}"
        )
    value = int(text)
    if not kind.low <= value <= kind.high:
        raise ExpressionError(f"{kind.name} field: {value} is out of range {kind.low}-{kind.high}")
    return value


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit alone takes "²" and other scripts


def day_exists(spec: CronSpec, year: int, month: int) -> bool:
    """False for `nW` in a month without day n: like a plain `31`, it does not fire there
    (croniter would move it to the month's last weekday instead)."""
    rule = spec.days_of_month
    if rule.kind != "nearest_weekday":
        return True
    return rule.days[0] <= calendar.monthrange(year, month)[1]


def to_croniter(spec: CronSpec) -> str:
    """The same schedule as a 5-field croniter expression, without the year (croniter stops at
    2099; `cron_walls` filters the year itself)."""
    return " ".join(
        (
            _join(spec.minutes, MINUTES),
            _join(spec.hours, HOURS),
            _croniter_day_of_month(spec.days_of_month),
            _join(spec.months, MONTH),
            _croniter_day_of_week(spec.days_of_week),
        )
    )


def _croniter_day_of_month(rule: DayOfMonthRule) -> str:
    match rule.kind:
        case "any":
            return "*"
        case "days":
            return _join(rule.days, DAY_OF_MONTH)
        case "last":
            return "l"
        case "last_weekday":
            # croniter clamps nW to the month's last day, so 31W is exactly EventBridge's LW.
            return "31w"
        case "nearest_weekday":
            return f"{rule.days[0]}w"


def _croniter_day_of_week(rule: DayOfWeekRule) -> str:
    weekdays = tuple(day - 1 for day in rule.days)  # croniter: 0-6 from Sunday
    match rule.kind:
        case "any":
            return "*"
        case "days":
            return _join(weekdays, _CRONITER_WEEKDAYS)
        case "last":
            return f"l{weekdays[0]}"
        case "nth":
            return f"{weekdays[0]}#{rule.nth}"


def _join(values: tuple[int, ...], kind: _FieldKind) -> str:
    if len(values) == kind.high - kind.low + 1:
        return "*"
    return ",".join(str(v) for v in values)
