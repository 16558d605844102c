"""Catch-up: what happens to a schedule's fire times that passed unfired (the local runtime was
stopped, the schedule was disabled, EventBridge could not deliver).

Missed times are the schedule's fire times after the latest one handled (`fired_through`; for
a record older than that field, its last timed fire; else its creation or start_at) and up to a
horizon a little before now: times younger than that are still being fired on time. The
schedule's `catch_up` policy picks what runs of the missed times within its window:

- `none`: nothing; `latest` (the default): the newest one; `all`: every one, but never more
  than `max_fires` in one pass (the newest ones): a long outage must not start a day of jobs.

Every missed time not run is a SKIPPED run with the reason, keyed as a fire's skip is (a repeat
of the pass, or a late delivery of that time, finds it), the newest `CATCH_UP_SKIP_RECORDS` one
by one and the rest, with every time older than the window, as one summary run: a year-long
outage of a per-minute schedule writes a hundred records, not half a million, and enumerates
at most the window's times. Runs go through the fire use case, so the overlap policy applies
to each and a pass that races the ticker, EventBridge or itself never enqueues a time twice.
Then `fired_through` moves to the horizon, so the next pass starts there.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from jobsched.constants import CATCH_UP_GRACE_SECONDS, CATCH_UP_SKIP_RECORDS
from jobsched.models import CatchUpPolicy, FireOutcome, LastRun, Schedule, SyncAction, utcnow
from jobsched.ports import Stores
from jobsched.schedules.fire import Fired, FireResult, fire, skip_missed
from jobsched.schedules.missed import TICK, fire_times, missed_since

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatchUpPlan:
    """What one pass does with a schedule's missed times (pure: computed, not applied)."""

    fire: list[datetime]  # oldest first
    skip: list[tuple[datetime, str]]  # recorded one by one, oldest first
    summary: tuple[datetime, str] | None  # one run (keyed by its time) for all the others
    through: datetime  # every time up to here is handled once the plan is applied


@dataclass
class CaughtUp:
    fired: list[tuple[datetime, Fired]] = field(default_factory=list)
    skipped: list[Fired] = field(default_factory=list)


@dataclass
class CatchUpReport:
    fired: int = 0  # missed times run (enqueued, or skipped by the overlap policy)
    skipped: int = 0  # skipped runs recorded for missed times not run
    failed: list[str] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_catch_up(
    schedule: Schedule,
    now: datetime,
    horizon: datetime,
    max_fires: int,
    max_records: int = CATCH_UP_SKIP_RECORDS,
) -> CatchUpPlan | None:
    """The plan for the schedule's times missed up to `horizon`; None when none was missed."""
    since = missed_since(schedule)
    first = next(fire_times(schedule, since, horizon), None)
    if first is None:
        return None
    window = schedule.catch_up_window_minutes
    window_start = now - timedelta(minutes=window)
    inside = list(fire_times(schedule, max(since, window_start - TICK), horizon))
    run, passed = _apply_policy(schedule.catch_up, inside, max_fires)
    recorded = passed[-max_records:] if max_records > 0 else []
    rest = passed[: len(passed) - len(recorded)]
    summary = None
    if first < window_start or rest:
        why = []
        if first < window_start:
            why.append(f"older than the catch-up window of {window} minutes")
        if rest:
            why.append(f"{len(rest)} in the window beyond the {max_records} recorded one by one")
        last = rest[-1][0] if rest else window_start
        summary = (
            first,
            f"catch-up: missed fires from {_iso(first)} to {_iso(last)} not run ({'; '.join(why)})",
        )
    return CatchUpPlan(fire=run, skip=recorded, summary=summary, through=horizon)


def _apply_policy(
    policy: CatchUpPolicy, inside: list[datetime], max_fires: int
) -> tuple[list[datetime], list[tuple[datetime, str]]]:
    """(the times to run, the times passed over with why) of the missed times in the window."""
    if policy == CatchUpPolicy.NONE or not inside:
        return [], [(time, "catch-up none: a missed fire is not run late") for time in inside]
    if policy == CatchUpPolicy.LATEST:
        reason = f"catch-up latest: the newest missed fire, {_iso(inside[-1])}, runs instead"
        return inside[-1:], [(time, reason) for time in inside[:-1]]
    run = inside[-max_fires:]
    reason = f"catch-up bound of {max_fires} reached"
    return run, [(time, reason) for time in inside[: len(inside) - len(run)]]


def catch_up(
    stores: Stores, schedule: Schedule, now: datetime, horizon: datetime, max_fires: int
) -> CaughtUp:
    """Apply the schedule's catch-up plan. Skips are recorded before the fires and the mark is
    moved last, so a pass that dies midway is redone whole by the next (each step is
    idempotent). A disabled schedule is left for its enable: its times are caught up then."""
    done = CaughtUp()
    if not schedule.enabled or (
        schedule.pending_sync and schedule.pending_sync.action == SyncAction.DELETE
    ):
        return done
    plan = plan_catch_up(schedule, now, horizon, max_fires)
    if plan is None:
        return done
    passed = ([plan.summary] if plan.summary else []) + plan.skip
    for time, reason in passed:
        done.skipped.append(skip_missed(stores, schedule, time, reason, now))
    for time in plan.fire:
        done.fired.append((time, fire(stores, schedule.schedule_id, time, now)))
    last = done.skipped[-1] if done.skipped else None
    if not plan.fire and last is not None and last.result == FireResult.SKIPPED:
        # Nothing ran: the record shows the newest missed time and why it did not.
        stores.schedules.record_fire(
            schedule.schedule_id,
            LastRun(
                fired_at=now,
                scheduled_time=passed[-1][0].astimezone(UTC),
                run_id=last.run_id,
                outcome=FireOutcome.SKIPPED,
                reason=last.reason,
            ),
        )
    stores.schedules.advance_fired_through(schedule.schedule_id, plan.through)
    logger.info(
        "schedule %s caught up to %s: %d run, %d recorded as skipped",
        schedule.schedule_id,
        _iso(plan.through),
        len(done.fired),
        len(done.skipped),
        extra={"schedule_id": schedule.schedule_id},
    )
    return done


def repair_horizon(schedule: Schedule, now: datetime, grace: timedelta) -> datetime:
    """On AWS: EventBridge may still deliver a time within its flexible window, plus a grace."""
    return now - grace - timedelta(minutes=schedule.flexible_window_minutes or 0)


def catch_up_all(
    stores: Stores,
    max_fires: int,
    grace: timedelta = timedelta(seconds=CATCH_UP_GRACE_SECONDS),
    now: datetime | None = None,
) -> CatchUpReport:
    """Catch up every schedule (the repair's periodic pass on AWS). A failure is logged and
    reported; the next pass tries again from the same mark."""
    now = now or utcnow()
    report = CatchUpReport()
    cursor: str | None = None
    while True:
        page = stores.schedules.list_page(None, 200, cursor)
        for schedule in page.items:
            try:
                done = catch_up(
                    stores, schedule, now, repair_horizon(schedule, now, grace), max_fires
                )
            except Exception:  # one failure must not stop the others
                logger.exception(
                    "schedule %s: catch-up failed; next run retries", schedule.schedule_id
                )
                report.failed.append(schedule.schedule_id)
                continue
            report.fired += len(done.fired)
            report.skipped += sum(s.result == FireResult.SKIPPED for s in done.skipped)
        cursor = page.next_cursor
        if cursor is None:
            return report
