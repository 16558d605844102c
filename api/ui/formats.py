"""Jinja filters: how the dashboard writes times, durations and counts."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# One reading of the API's instants for the dashboard and the client (jobsched_client.summary).
from jobsched_client.summary import parse_time as parse_time

NONE = "\u2013"  # an en dash: no value


def duration(seconds: float | int | None) -> str:
    """12 s, 3 min 4 s, 2 h 5 min, 3 d 4 h."""
    if seconds is None:
        return NONE
    total = round(float(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def since(value: str | datetime | None, now: datetime | None = None) -> str:
    """The age of a time: '3 min ago', 'in 5 s'."""
    moment = parse_time(value)
    if moment is None:
        return NONE
    delta = ((now or datetime.now(UTC)) - moment).total_seconds()
    return f"{duration(delta)} ago" if delta >= 0 else f"in {duration(-delta)}"


def clock(value: str | datetime | None) -> str:
    """A time as the dashboard shows it: UTC, to the second (the title attribute has it whole)."""
    moment = parse_time(value)
    return NONE if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(value: str | datetime | None) -> str:
    moment = parse_time(value)
    return "" if moment is None else moment.astimezone(UTC).isoformat()


def short_id(value: str | None) -> str:
    return "" if not value else (value if len(value) <= 12 else f"{value[:4]}…{value[-6:]}")


FILTERS: dict[str, Callable[..., Any]] = {
    "duration": duration,
    "since": since,
    "clock": clock,
    "iso": iso,
    "short_id": short_id,
}
