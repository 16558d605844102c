"""Which of a schedule's fire times are missed: after the latest one handled, walked with the
expression engine (so daylight saving is as EventBridge fires it). Pure."""

from collections.abc import Iterator
from datetime import datetime, timedelta

from jobsched.models import Schedule
from jobsched.schedules.expressions import next_fire_times, parse_expression

_CHUNK = 100  # fire times computed per call while walking a range
TICK = timedelta(microseconds=1)


def missed_since(schedule: Schedule) -> datetime:
    """The instant after which a fire time not handled is missed: `fired_through`; for a
    record older than that field, its last timed fire; else the latest of its creation, its
    start_at and a manual trigger (which hides the last timed fire of an older record: the
    times before it cannot be told apart from fired ones, whose keys expire after a day)."""
    if schedule.fired_through is not None:
        return schedule.fired_through
    if schedule.last_run is not None and schedule.last_run.scheduled_time is not None:
        return schedule.last_run.scheduled_time
    begin = schedule.created_at
    if schedule.start_at is not None and schedule.start_at > begin:
        begin = schedule.start_at
    if schedule.last_run is not None and schedule.last_run.fired_at > begin:
        return schedule.last_run.fired_at
    return begin - TICK  # a time at the very creation (a rate's first) is one of them


def fire_times(schedule: Schedule, after: datetime, until: datetime) -> Iterator[datetime]:
    """The schedule's fire times in (after, until], oldest first; a rate without start_at
    counts from the schedule's creation, as EventBridge starts it."""
    expression = parse_expression(schedule.expression)
    start_at = schedule.start_at
    if expression.kind == "rate" and start_at is None:
        start_at = schedule.created_at
    while True:
        times = next_fire_times(
            expression, schedule.timezone, after, _CHUNK, start_at, schedule.end_at
        )
        for time in times:
            if time.at > until:
                return
            yield time.at
        if len(times) < _CHUNK:
            return
        after = times[-1].at
