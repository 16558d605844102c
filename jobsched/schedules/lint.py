"""Schedule lint (issue 14, point 6): what a schedule will do that its author may not expect,
each warning with its reason. Pure: it reads nothing; the caller gives it the template's p90
run duration (when there is history), the other schedules' next fires and the catch-up bound.

Bounded whatever the expression: the coming year's daylight-saving changes are looked at one
by one (fires in a window around each), the fires per day are counted up to a cap, and
same-minute collisions are checked over the next fires only, and a catch-up window's fires
are counted up to one a minute (10,080 at most).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from jobsched.constants import DEFAULT_CATCH_UP_MAX_FIRES, DEFAULT_CATCH_UP_WINDOW_MINUTES
from jobsched.models import CatchUpPolicy, OverlapPolicy
from jobsched.schedules import dst
from jobsched.schedules.expressions import Expression, FireTime, next_fire_times

HORIZON = timedelta(days=366)  # "in the coming year"
DAY = timedelta(days=1)
FIRES_PER_DAY_CAP = 1_440  # a fire a minute: counted no further
BUSY_FIRES_PER_DAY = 48  # more often than every 30 minutes: worth saying
AROUND_A_CHANGE = timedelta(hours=3)  # a change moves wall times by at most two hours
FIRES_AROUND_A_CHANGE = 6 * 60  # a fire a minute for six hours
COLLISION_FIRES = 100  # this schedule's next fires checked against the others'
# A daily cron's gap is 23 hours across a spring change: still at most daily.
AT_MOST_DAILY = DAY - timedelta(hours=1)
_OVERLAP_EFFECT = {
    OverlapPolicy.SKIP: "a fire while the previous job is queued or running is recorded skipped",
    OverlapPolicy.BUFFER_ONE: "one job waits behind the running one; further fires are skipped",
    OverlapPolicy.ALLOW: "every fire enqueues a job: they pile up in the queue",
}


@dataclass(frozen=True)
class LintWarning:
    # Stable, for scripts: dst_skipped, dst_repeated, busy, overlap, same_minute,
    # catch_up_bound, missed_fire_lost, in_the_past, ends_before_next_fire, never_fires.
    code: str
    message: str


@dataclass(frozen=True)
class ScheduleDraft:
    """What lint needs of a schedule: a proposed one or a stored one."""

    expression: Expression
    timezone: str
    start_at: datetime | None
    end_at: datetime | None
    overlap_policy: OverlapPolicy
    catch_up: CatchUpPolicy = CatchUpPolicy.LATEST
    catch_up_window_minutes: int = DEFAULT_CATCH_UP_WINDOW_MINUTES


@dataclass(frozen=True)
class OtherFires:
    """Another schedule of the deployment (one queue) and its next fire times."""

    schedule_id: str
    name: str
    fires: list[datetime]


@dataclass(frozen=True)
class LintReport:
    warnings: list[LintWarning]
    fires_per_day: int | None  # in the first day it fires; None when it never fires again
    next_fire: datetime | None


def lint(
    draft: ScheduleDraft,
    now: datetime,
    p90_seconds: float | None = None,
    others: Iterable[OtherFires] = (),
    catch_up_max_fires: int = DEFAULT_CATCH_UP_MAX_FIRES,
) -> LintReport:
    next_fires = _fires(draft, now, COLLISION_FIRES)
    if not next_fires:
        return LintReport([_never_again(draft, now)], None, None)
    first = next_fires[0].at
    per_day = len(
        _fires(draft, first - timedelta(microseconds=1), FIRES_PER_DAY_CAP, _until(first, DAY))
    )
    warnings = [*_dst_warnings(draft, now)]
    if per_day > BUSY_FIRES_PER_DAY:
        more = "+" if per_day >= FIRES_PER_DAY_CAP else ""
        warnings.append(LintWarning("busy", f"fires {per_day}{more} times a day"))
    overlap = _overlap(draft, next_fires, p90_seconds)
    if overlap is not None:
        warnings.append(overlap)
    warnings += _same_minute(next_fires, others)
    catch_up = _catch_up(draft, next_fires, catch_up_max_fires)
    if catch_up is not None:
        warnings.append(catch_up)
    return LintReport(warnings, per_day, first)


def _fires(
    draft: ScheduleDraft, after: datetime, count: int, until: datetime | None = None
) -> list[FireTime]:
    end = draft.end_at
    if until is not None:
        end = until if end is None else min(end, until)
    return next_fire_times(draft.expression, draft.timezone, after, count, draft.start_at, end)


def _never_again(draft: ScheduleDraft, now: datetime) -> LintWarning:
    text = draft.expression.text
    if draft.expression.at_local is not None:
        return LintWarning(
            "in_the_past", f"{text} is not after now ({now.isoformat()}): it never fires"
        )
    if draft.end_at is not None:
        return LintWarning(
            "ends_before_next_fire",
            f"end_at ({draft.end_at.isoformat()}) comes before its next fire: it never fires again",
        )
    return LintWarning("never_fires", f"{text} names no time from now on")


def _dst_warnings(draft: ScheduleDraft, now: datetime) -> Iterator[LintWarning]:
    """The wall times the coming year's clock changes skip or repeat, for this schedule: one
    warning per change and kind."""
    if draft.expression.every is not None:
        return  # rate() counts elapsed time: a clock change moves no fire
    zone = ZoneInfo(draft.timezone)
    for change in _clock_changes(zone, now, now + HORIZON):
        repeated: list[str] = []
        # A skipped time's note rides on the next fire after it, which may be days later.
        for fire in _fires(draft, change - AROUND_A_CHANGE, 2 * FIRES_AROUND_A_CHANGE):
            if fire.at > change + AROUND_A_CHANGE and not fire.note:
                break
            wall = fire.local.replace(tzinfo=None)
            if dst.repeat_note(wall, zone) is not None:
                repeated.append(fire.note or "")
            elif fire.note:
                yield LintWarning("dst_skipped", fire.note)
        if repeated:
            more = (
                f" (and {len(repeated) - 1} more fire times that day)" if len(repeated) > 1 else ""
            )
            yield LintWarning("dst_repeated", repeated[0] + more)


def _clock_changes(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """The instants in [start, end) at which `zone`'s UTC offset changes (to the second)."""
    step = timedelta(hours=6)  # no zone changes its offset twice within six hours
    at = start.astimezone(UTC)
    offset = at.astimezone(zone).utcoffset()
    while at < end:
        later = at + step
        if later.astimezone(zone).utcoffset() != offset:
            low, high = at, later
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            yield high
            offset = later.astimezone(zone).utcoffset()
        at = later


def _overlap(
    draft: ScheduleDraft, fires: list[FireTime], p90_seconds: float | None
) -> LintWarning | None:
    if p90_seconds is None or len(fires) < 2:
        return None
    gap = min((b.at - a.at).total_seconds() for a, b in pairwise(fires))
    if gap >= p90_seconds:
        return None
    return LintWarning(
        "overlap",
        f"fires as often as every {_span(gap)}, under the template's p90 run of "
        f"{_span(p90_seconds)}: runs will overlap; overlap_policy "
        f"{draft.overlap_policy.value}: {_OVERLAP_EFFECT[draft.overlap_policy]}",
    )


def _same_minute(fires: list[FireTime], others: Iterable[OtherFires]) -> Iterator[LintWarning]:
    minutes = {_minute(fire.at) for fire in fires}
    for other in others:
        shared = sorted(minutes & {_minute(at) for at in other.fires})
        if shared:
            yield LintWarning(
                "same_minute",
                f"fires in the same minute as schedule {other.name} ({other.schedule_id}) into "
                f"the same queue, first at {shared[0].isoformat()} ({len(shared)} of its next "
                f"{len(fires)} fires): the two jobs queue one behind the other",
            )


def _catch_up(draft: ScheduleDraft, fires: list[FireTime], bound: int) -> LintWarning | None:
    """What an outage costs: under `all`, the missed fires past the bound are lost; under
    `none`, every missed fire is, which for a daily (or rarer) schedule is a whole day's run."""
    if draft.catch_up == CatchUpPolicy.ALL:
        return _over_the_bound(draft, fires[0].at, bound)
    if draft.catch_up == CatchUpPolicy.NONE:
        gaps = [b.at - a.at for a, b in pairwise(fires)]
        if not gaps or min(gaps) >= AT_MOST_DAILY:
            return LintWarning(
                "missed_fire_lost",
                "catch_up none: a fire missed (the runtime stopped, the schedule disabled, "
                "EventBridge undelivered) is never run late; firing at most daily, a missed "
                "fire is a lost day's run (latest runs the newest missed one, once)",
            )
    return None


def _over_the_bound(draft: ScheduleDraft, first: datetime, bound: int) -> LintWarning | None:
    window = draft.catch_up_window_minutes
    # Fires are a minute apart at least, so the count stops at the window's minutes.
    held = len(
        _fires(
            draft,
            first - timedelta(microseconds=1),
            window + 1,
            _until(first, timedelta(minutes=window)),
        )
    )
    if held <= bound:
        return None
    overlap = (
        " (and under overlap_policy skip only the first of them enqueues)"
        if draft.overlap_policy == OverlapPolicy.SKIP
        else ""
    )
    return LintWarning(
        "catch_up_bound",
        f"catch_up all: its catch-up window of {window} min holds {held} fires, over the "
        f"bound of {bound} (JOBSCHED_CATCH_UP_MAX_FIRES): after an outage of the whole window, "
        f"the newest {bound} run late, at once, and {held - bound} are recorded skipped; "
        f"a recovery spends at most {bound} runs' worth{overlap}, and the skipped runs' work "
        "is not done",
    )


def _until(start: datetime, span: timedelta) -> datetime | None:
    """The end of a window of `span` opened at `start`; None past the calendar's end (9999)."""
    try:
        return start + span - timedelta(microseconds=1)
    except OverflowError:
        return None


def _minute(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
