"""A schedule's fire: one job per (schedule, scheduled time), under the schedule's overlap policy.

EventBridge Scheduler delivers at least once, and the local ticker may fire a time again after a
restart, so a fire is idempotent: the job is enqueued with the Idempotency-Key
`schedule:<id>:<scheduled time>` (recorded in the job's own transaction), and a skipped fire is
a SKIPPED run whose id is derived from the same key. A repeat finds either and does nothing.

Fires that can never succeed (the template is gone or archived, the params no longer match its
schema) are recorded as SKIPPED runs with the reason rather than raised, since raising makes
EventBridge retry for an hour to no end. Store failures are raised: a retry may succeed.

A fire while the template's or the schedule's budget is spent (at the fire's handling time) is
a SKIPPED run too, with the reason: its job would only wait, and a day of them would start
together when the period turns. The next fire after the turn (or after the budget is raised)
enqueues again. The claim still decides on its own: this read only spares the queue.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jobsched.constants import MAX_ID_LENGTH, OVERLAP_LOOKBACK, SCHEDULE_KEY_PREFIX
from jobsched.dispatch.budgets import spent_holds, spent_reason, unit_holds
from jobsched.errors import ConflictError, NotFoundError, ValidationFailedError
from jobsched.jobs.idempotency import Operation, earlier, request_hash
from jobsched.jobs.jobs import JobCreate, enqueue, template_for_new_jobs
from jobsched.models import (
    FireOutcome,
    Job,
    JobRun,
    JobStatus,
    JobTemplate,
    LastRun,
    OverlapPolicy,
    RunStatus,
    Schedule,
    SyncAction,
    utcnow,
)
from jobsched.ports import JobFilter, Stores
from jobsched.schedules.missed import TICK, fire_times, missed_since
from jobsched.schedules.usecases import find_live

logger = logging.getLogger(__name__)

ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.HELD, JobStatus.RUNNING})  # held will run
_GAP_LOOKUPS = 20  # times before a fire checked for being handled; more: catch-up's to mend


class FireResult(StrEnum):
    ENQUEUED = "enqueued"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"  # this time was handled already
    IGNORED = "ignored"  # no such schedule, or it is disabled or being deleted


class FireEvent(BaseModel):
    """What EventBridge Scheduler (or the local ticker) sends for one fire."""

    model_config = ConfigDict(extra="ignore")

    schedule_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    scheduled_time: AwareDatetime


@dataclass(frozen=True)
class Fired:
    result: FireResult
    schedule_id: str
    job_id: str | None = None
    run_id: str | None = None
    reason: str | None = None


def fire_key(schedule_id: str, scheduled_time: datetime) -> str:
    """The Idempotency-Key of one fire: the same time in any notation gives the same key."""
    moment = scheduled_time.astimezone(UTC).replace(microsecond=0)
    return f"{SCHEDULE_KEY_PREFIX}{schedule_id}:{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def skip_run_id(key: str) -> str:
    """A skipped fire's run id, the same for every delivery of that fire."""
    return "skip_" + hashlib.sha256(key.encode()).hexdigest()[:26]


def fire(
    stores: Stores, schedule_id: str, scheduled_time: datetime, now: datetime | None = None
) -> Fired:
    if scheduled_time.tzinfo is None:
        raise ValueError("scheduled_time needs a time zone")
    now = now or utcnow()
    schedule = stores.schedules.find(schedule_id)
    if schedule is None:
        return _leftover(stores, schedule_id)
    ignored = _ignored(schedule)
    if ignored is not None:
        return ignored
    key = fire_key(schedule_id, scheduled_time)
    earlier = _earlier(stores, schedule_id, key)
    if earlier is not None:
        return earlier
    fired = _decide_and_act(stores, schedule, key, now)
    if fired.result == FireResult.DUPLICATE:  # a concurrent delivery recorded it
        return fired
    stores.schedules.record_fire(
        schedule_id,
        LastRun(
            fired_at=now,
            scheduled_time=scheduled_time.astimezone(UTC),
            job_id=fired.job_id,
            run_id=fired.run_id,
            outcome=FireOutcome(fired.result.value),
            reason=fired.reason,
        ),
    )
    _advance_mark(stores, schedule, scheduled_time.astimezone(UTC))
    logger.info(
        "schedule %s fired for %s: %s %s",
        schedule_id,
        scheduled_time.isoformat(),
        fired.result.value,
        fired.job_id or fired.reason,
        extra={"schedule_id": schedule_id, "result": fired.result.value, "job_id": fired.job_id},
    )
    return fired


def _advance_mark(stores: Stores, schedule: Schedule, scheduled_time: datetime) -> None:
    """Move `fired_through` to this time if every time before it is handled too: a time in
    between that is not (EventBridge never delivered it) keeps the mark for catch-up to find.
    Normally there is none, and no read; right after a catch-up, the few times EventBridge
    fired during its grace are looked up once."""
    between = list(
        islice(
            fire_times(schedule, missed_since(schedule), scheduled_time - TICK), _GAP_LOOKUPS + 1
        )
    )
    if len(between) > _GAP_LOOKUPS:
        return
    for time in between:
        if _earlier(stores, schedule.schedule_id, fire_key(schedule.schedule_id, time)) is None:
            return
    stores.schedules.advance_fired_through(schedule.schedule_id, scheduled_time)


def _leftover(stores: Stores, schedule_id: str) -> Fired:
    # Our record is written before its EventBridge schedule and deleted after it, so a fire
    # without a record comes from a leftover (a rollback whose delete failed): remove it.
    logger.warning("schedule %s fired but does not exist; deleting its leftover", schedule_id)
    try:
        stores.schedule_sync.delete(schedule_id)
    except Exception:
        logger.exception("schedule %s: the leftover could not be deleted", schedule_id)
    return Fired(FireResult.IGNORED, schedule_id, reason="no such schedule")


def _ignored(schedule: Schedule) -> Fired | None:
    schedule_id = schedule.schedule_id
    if schedule.pending_sync and schedule.pending_sync.action == SyncAction.DELETE:
        logger.info("schedule %s fired while being deleted; ignored", schedule_id)
        return Fired(FireResult.IGNORED, schedule_id, reason="being deleted")
    if not schedule.enabled:
        logger.info("schedule %s fired while disabled; ignored", schedule_id)
        return Fired(FireResult.IGNORED, schedule_id, reason="disabled")
    return None


def _earlier(stores: Stores, schedule_id: str, key: str) -> Fired | None:
    """What an earlier delivery of this fire did, if one got that far."""
    record = stores.jobs.find_idempotency(key)
    if record is not None:
        return Fired(FireResult.DUPLICATE, schedule_id, job_id=record.resource_id)
    run_id = skip_run_id(key)
    try:
        stores.runs.get(run_id)
    except NotFoundError:
        return None
    return Fired(FireResult.DUPLICATE, schedule_id, run_id=run_id)


def skip_missed(
    stores: Stores, schedule: Schedule, scheduled_time: datetime, reason: str, now: datetime
) -> Fired:
    """Record a time that catch-up does not run as a SKIPPED run, keyed like a fire's skip, so a
    repeat (or a late delivery of that time) finds it; a time fired already is left as it is."""
    key = fire_key(schedule.schedule_id, scheduled_time)
    earlier = _earlier(stores, schedule.schedule_id, key)
    if earlier is not None:
        return earlier
    return _skip(stores, schedule, key, now, reason)


def _decide_and_act(stores: Stores, schedule: Schedule, key: str, now: datetime) -> Fired:
    blocking = blocking_job(stores, schedule)
    if blocking is not None:
        return _skip(stores, schedule, key, now, overlap_reason(blocking))
    try:
        template = template_for_new_jobs(stores, schedule.template_id)
    except (NotFoundError, ConflictError) as exc:  # gone or archived: no retry would help
        return _skip(stores, schedule, key, now, exc.detail)
    spent = budget_spent(stores, template, schedule, now)
    if spent is not None:
        return _skip(stores, schedule, key, now, spent)
    try:
        job, created = enqueue(stores, job_request(schedule), key)
    except ValidationFailedError as exc:  # the template's schema changed under the params
        return _skip(stores, schedule, key, now, exc.detail)
    except ConflictError:
        record = stores.jobs.find_idempotency(key)
        if record is not None:  # a concurrent delivery won (perhaps with older params)
            return Fired(FireResult.DUPLICATE, schedule.schedule_id, job_id=record.resource_id)
        raise  # the template changed meanwhile: the delivery's retry decides again
    result = FireResult.ENQUEUED if created else FireResult.DUPLICATE
    return Fired(result, schedule.schedule_id, job_id=job.job_id)


def job_request(schedule: Schedule) -> JobCreate:
    return JobCreate(
        template_id=schedule.template_id,
        params=schedule.params,
        priority=schedule.priority,
        schedule_id=schedule.schedule_id,
    )


def blocking_job(stores: Stores, schedule: Schedule) -> Job | None:
    """The job that stops a new one under the schedule's overlap policy, if any.

    Reads the schedule's newest jobs only (one query, newest first): under `skip` and
    `buffer_one` at most one or two of its jobs are ever active, and they are the newest.
    """
    if schedule.overlap_policy == OverlapPolicy.ALLOW:
        return None
    page = stores.jobs.list_page(
        JobFilter(schedule_id=schedule.schedule_id), OVERLAP_LOOKBACK, None
    )
    active = [job for job in page.items if job.status in ACTIVE]
    if schedule.overlap_policy == OverlapPolicy.BUFFER_ONE:
        # One job may wait behind a running one; a second waiting one would be a backlog.
        return next((job for job in active if job.status == JobStatus.QUEUED), None)
    return active[0] if active else None


def budget_spent(
    stores: Stores, template: JobTemplate, schedule: Schedule, now: datetime
) -> str | None:
    """Why a job of the schedule would wait for a spent budget now (the template's current
    budgets and the schedule's own; one read, none without budgets), or None."""
    return spent_reason(spent_holds(stores, unit_holds(template, schedule, now)))


def overlap_reason(job: Job) -> str:
    return f"overlap: previous job {job.job_id} is {job.status.value}"


def _skip(stores: Stores, schedule: Schedule, key: str, now: datetime, reason: str) -> Fired:
    """Record the fire as a SKIPPED run. It has no job: its job_id is its own run id."""
    run_id = skip_run_id(key)
    stores.runs.put(
        JobRun(
            run_id=run_id,
            job_id=run_id,
            template_id=schedule.template_id,
            schedule_id=schedule.schedule_id,
            status=RunStatus.SKIPPED,
            attempt=0,
            started_at=now,
            finished_at=now,
            error=reason,
        )
    )
    return Fired(FireResult.SKIPPED, schedule.schedule_id, run_id=run_id, reason=reason)


def trigger(
    stores: Stores,
    schedule_id: str,
    force: bool = False,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Job, bool]:
    """Enqueue one job now, also for a disabled schedule. The overlap policy applies unless
    `force`: a job it would skip is a 409 naming the blocking job. A spent budget is a 409 with
    the reason, `force` or not: the budget is its owner's limit, and `force` is about overlap.
    Returns (job, created).

    The key is the client's own, as on every create: the same key for another schedule or
    another `force` is a conflict. A retry is answered before the overlap check, which the
    first call's own job would now fail."""
    request = {"schedule_id": schedule_id, "force": force}
    digest = request_hash(Operation.TRIGGER_SCHEDULE, request) if idempotency_key else None
    if idempotency_key and digest is not None:
        job_id = earlier(stores, idempotency_key, digest)
        if job_id is not None:
            return stores.jobs.get(job_id), False
    schedule = find_live(stores, schedule_id)
    if not force:
        blocking = blocking_job(stores, schedule)
        if blocking is not None:
            raise ConflictError(f"{overlap_reason(blocking)}; trigger with force to run anyway")
    template = template_for_new_jobs(stores, schedule.template_id)
    spent = budget_spent(stores, template, schedule, now or utcnow())
    if spent is not None:
        raise ConflictError(f"{spent}; raise the budget to run more in this period")
    job, created = enqueue(
        stores, job_request(schedule), idempotency_key, Operation.TRIGGER_SCHEDULE, digest
    )
    if created:
        stores.schedules.record_fire(
            schedule_id,
            LastRun(
                fired_at=now or utcnow(),
                job_id=job.job_id,
                outcome=FireOutcome.ENQUEUED,
                manual=True,
            ),
        )
    return job, created
