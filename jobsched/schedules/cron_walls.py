"""The wall-clock times a cron names, in order: croniter behind a thin filter.

croniter walks naive local times (calendar arithmetic only, so daylight saving is left to
`dst`). It stops at 2099 and knows no year field in 5-field form, so the year, which EventBridge
allows up to 2199, is filtered here by jumping straight to the next allowed year; so are the
months in which an `nW` day does not exist.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Final

from jobsched.schedules.cron_fields import YEAR_MAX, YEAR_MIN, CronSpec, day_exists, to_croniter

# How far croniter looks for a match before it gives up: EventBridge's whole year range, so a
# gap between matches (40 years for a fifth Sunday in February) never ends the search early.
_SEARCH_YEARS: Final = YEAR_MAX - YEAR_MIN + 1
# croniter keeps times as float seconds, which cannot hold a microsecond near 2199.
_JUST_BEFORE: Final = timedelta(seconds=1)


def cron_walls(spec: CronSpec, after: datetime) -> Iterator[datetime]:
    """Naive wall times strictly after the naive `after`, in order, up to the end of 2199."""
    # Imported here: croniter (and dateutil) take about 15 ms, which a cold start that only
    # parses expressions or lists rate() times should not pay.
    from croniter import CroniterBadDateError, croniter

    # Whole seconds: a float timestamp could round 08:59:59.999999 up past a 09:00 match.
    start = after.replace(microsecond=0)
    matcher = croniter(to_croniter(spec), start, max_years_between_matches=_SEARCH_YEARS)
    years = spec.years
    while True:
        try:
            wall: datetime = matcher.get_next(datetime)
        except CroniterBadDateError:  # nothing in the next _SEARCH_YEARS years
            return
        if wall.year > YEAR_MAX:
            return
        if wall.year not in years:
            following = [year for year in years if year > wall.year]
            if not following:
                return
            matcher.set_current(datetime(following[0], 1, 1) - _JUST_BEFORE)
            continue
        if not day_exists(spec, wall.year, wall.month):
            matcher.set_current(_next_month(wall) - _JUST_BEFORE)
            continue
        yield wall


def _next_month(wall: datetime) -> datetime:
    if wall.month == 12:
        return datetime(wall.year + 1, 1, 1)
    return datetime(wall.year, wall.month + 1, 1)
