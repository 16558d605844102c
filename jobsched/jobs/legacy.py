"""The legacy job API on top of the scheduler (spec: "Coexistence Strategy", phase 2).

Legacy triggers become scheduler jobs (priority `immediate` unless the caller's `_scheduler`
block says otherwise), a legacy batch becomes a parallel JobGroup, and the legacy status is
derived from a Job and its latest JobRun. Knows no HTTP.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from jobsched.dispatch.dispatcher import DispatchConfig
from jobsched.dispatch.immediate import NowGroup, NowJob, start_now
from jobsched.errors import (
    ConflictError,
    FieldProblem,
    IdempotencyKeyTakenError,
    ValidationFailedError,
)
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group_once
from jobsched.jobs.idempotency import Operation, earlier, request_hash
from jobsched.jobs.jobs import (
    JobCreate,
    JobView,
    enqueue,
    list_jobs,
    template_for_new_jobs,
    view_job,
    view_jobs,
)
from jobsched.models import (
    GroupMode,
    GroupStatus,
    Job,
    JobGroup,
    JobRun,
    JobStatus,
    RunStatus,
    utcnow,
)
from jobsched.params import merge_params
from jobsched.ports import JobFilter, Stores
from jobsched.priority import LEVEL_VALUES, PriorityLevel, display_priority

LEGACY_PRIORITY = LEVEL_VALUES[PriorityLevel.IMMEDIATE]  # the old API started jobs at once


class LegacyStatus(StrEnum):
    CREATED = "created"  # accepted, not yet eligible for dispatch (a retry's backoff, a hold)
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Which stored job status each legacy status comes from (for list filters).
JOB_STATUS_OF: dict[LegacyStatus, JobStatus] = {
    LegacyStatus.CREATED: JobStatus.QUEUED,
    LegacyStatus.QUEUED: JobStatus.QUEUED,
    LegacyStatus.RUNNING: JobStatus.RUNNING,
    LegacyStatus.SUCCEEDED: JobStatus.FINISHED,
    LegacyStatus.FAILED: JobStatus.FINISHED,
    LegacyStatus.CANCELLED: JobStatus.CANCELLED,
}


def legacy_status(job: Job, run: JobRun | None, now: datetime | None = None) -> LegacyStatus:
    """The legacy status of a job: the job's own status, and for a finished job its latest run.

    queued + a retry's not_before still ahead -> created; held -> created (not started, and not
    to start until released); queued -> queued; running -> running;
    finished + run completed -> succeeded; finished otherwise (failed, or no run) -> failed;
    cancelled -> cancelled.
    """
    if job.status == JobStatus.HELD:
        return LegacyStatus.CREATED
    if job.status == JobStatus.QUEUED:
        if job.not_before is not None and job.not_before > (now or utcnow()):
            return LegacyStatus.CREATED
        return LegacyStatus.QUEUED
    if job.status == JobStatus.RUNNING:
        return LegacyStatus.RUNNING
    if job.status == JobStatus.CANCELLED:
        return LegacyStatus.CANCELLED
    if run is not None and run.status == RunStatus.COMPLETED:
        return LegacyStatus.SUCCEEDED
    return LegacyStatus.FAILED


GROUP_STATUS: dict[GroupStatus, LegacyStatus] = {
    GroupStatus.QUEUED: LegacyStatus.QUEUED,
    GroupStatus.RUNNING: LegacyStatus.RUNNING,
    GroupStatus.COMPLETED: LegacyStatus.SUCCEEDED,
    GroupStatus.FAILED: LegacyStatus.FAILED,
    GroupStatus.PARTIAL: LegacyStatus.FAILED,  # some jobs failed; the counts say how many
    GroupStatus.CANCELLED: LegacyStatus.CANCELLED,
}


def _invalid(exc: ValidationError, prefix: str) -> ValidationFailedError:
    problems = [
        FieldProblem(".".join([prefix, *(str(p) for p in e["loc"])]).strip("."), e["msg"])
        for e in exc.errors()
    ]
    return ValidationFailedError("; ".join(f"{p.field}: {p.message}" for p in problems), problems)


def trigger(
    stores: Stores,
    template_id: str,
    params: dict[str, Any],
    priority: int = LEGACY_PRIORITY,
    idempotency_key: str | None = None,
) -> tuple[JobView, bool]:
    """A legacy trigger: one job of the template with the body's keys as its params.
    Returns (view, created); False: the job an earlier call with the key made."""
    request = _job_request(template_id, params, priority)
    job, created = enqueue(stores, request, idempotency_key, Operation.LEGACY_TRIGGER)
    return view_job(stores, job), created


def _job_request(template_id: str, params: dict[str, Any], priority: int) -> JobCreate:
    try:
        return JobCreate(
            template_id=template_id, params=params, priority=display_priority(priority)
        )
    except ValidationError as exc:  # the edge checks shapes first; this keeps a 422 a 422
        raise _invalid(exc, "") from exc


def trigger_now(
    stores: Stores,
    template_id: str,
    params: dict[str, Any],
    priority: int = LEGACY_PRIORITY,
    config: DispatchConfig | None = None,
    idempotency_key: str | None = None,
) -> tuple[JobView, bool]:
    """The legacy immediate trigger (USE_SCHEDULER=false): the job starts at once, outside the
    queue, as the old system's subprocess did. The key is shared with `trigger`: either way
    it names one job."""
    request = _job_request(template_id, params, priority)
    digest = request_hash(Operation.LEGACY_TRIGGER, request)
    template = template_for_new_jobs(stores, request.template_id, fresh=True)
    item = NowJob(template, merge_params(template, request.params))
    keyed = (idempotency_key, digest) if idempotency_key else None
    try:
        jobs, _ = start_now(stores, [item], priority, config=config, idempotency=keyed)
    except IdempotencyKeyTakenError:
        job_id = _earlier(stores, idempotency_key, digest)
        return view_job(stores, stores.jobs.get(job_id)), False
    return view_job(stores, stores.jobs.get(jobs[0].job_id)), True


def _earlier(stores: Stores, key: str | None, digest: str) -> str:
    """What the earlier call with the key made (the store said the key is taken)."""
    assert key is not None
    made = earlier(stores, key, digest)
    if made is None:  # the record expired between the two calls
        raise ConflictError("the Idempotency-Key was used already; retry")
    return made


@dataclass(frozen=True)
class BatchItem:
    template_id: str
    params: dict[str, Any]


@dataclass(frozen=True)
class BatchView:
    group: JobGroup
    jobs: list[JobView]


def _batch_request(
    items: list[BatchItem], priority: int, webhook_url: str | None, name: str | None
) -> GroupCreate:
    try:
        return GroupCreate(
            name=name,
            mode=GroupMode.PARALLEL,
            priority=display_priority(priority),  # a level name: `immediate` is no 0-100 int
            webhook_url=webhook_url,
            jobs=[GroupJobSpec(template_id=i.template_id, params=i.params) for i in items],
        )
    except ValidationError as exc:
        raise _invalid(exc, "") from exc


def trigger_batch(
    stores: Stores,
    items: list[BatchItem],
    priority: int = LEGACY_PRIORITY,
    webhook_url: str | None = None,
    name: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[BatchView, bool]:
    """A legacy batch: one parallel group holding a job per item, the webhook kept on it.
    Returns (batch, created); False: the batch an earlier call with the key made."""
    request = _batch_request(items, priority, webhook_url, name)
    group, jobs, created = create_group_once(
        stores, request, idempotency_key, Operation.LEGACY_BATCH
    )
    return BatchView(group, view_jobs(stores, jobs)), created


def trigger_batch_now(
    stores: Stores,
    items: list[BatchItem],
    priority: int = LEGACY_PRIORITY,
    webhook_url: str | None = None,
    name: str | None = None,
    config: DispatchConfig | None = None,
    idempotency_key: str | None = None,
) -> tuple[BatchView, bool]:
    """The legacy immediate batch (USE_SCHEDULER=false): every job starts at once, outside the
    queue; they still form a parallel group, so the batch's status and webhook work. The key
    is shared with `trigger_batch`: either way it names one group."""
    # The same checks as the queued batch (sizes, webhook URL, params) and the same hash.
    digest = request_hash(
        Operation.LEGACY_BATCH, _batch_request(items, priority, webhook_url, name)
    )
    templates = {i.template_id: template_for_new_jobs(stores, i.template_id) for i in items}
    now_jobs = [
        NowJob(
            templates[i.template_id],
            merge_params(templates[i.template_id], i.params, field=f"jobs.{n}.params"),
        )
        for n, i in enumerate(items)
    ]
    keyed = (idempotency_key, digest) if idempotency_key else None
    try:
        _, group = start_now(
            stores, now_jobs, priority, NowGroup(name, webhook_url), config, idempotency=keyed
        )
    except IdempotencyKeyTakenError:
        return get_batch(stores, _earlier(stores, idempotency_key, digest)), False
    assert group is not None
    return get_batch(stores, group.group_id), True


def get_batch(stores: Stores, batch_id: str) -> BatchView:
    group = stores.groups.get(batch_id)
    return BatchView(group, view_jobs(stores, [stores.jobs.get(j) for j in group.job_ids]))


def list_legacy_jobs(
    stores: Stores,
    status: LegacyStatus | None,
    template_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[JobView], str | None]:
    """A page of jobs, newest first. A legacy status that two legacy statuses share a stored
    status with (created/queued, succeeded/failed) is filtered after the read, so such a page
    may hold fewer than `limit` items while `next_cursor` still leads on."""
    stored = JOB_STATUS_OF[status] if status else None
    views, next_cursor = list_jobs(stores, JobFilter(stored, template_id), limit, cursor)
    if status is not None:
        now = utcnow()
        views = [v for v in views if legacy_status(v.job, v.run, now) == status]
    return views, next_cursor
