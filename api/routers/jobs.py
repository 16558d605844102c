"""/jobs: create (idempotently), list with filters, read, cancel, rerun, a job's runs and its
lineage."""

from fastapi import APIRouter, Response, status

from api.deps import (
    DEFAULT_LIMIT,
    CanRead,
    CanWrite,
    Cursor,
    IdempotencyKey,
    IdFilter,
    Limit,
    PathId,
    SlotsDep,
    StoresDep,
    WriteKey,
    idempotent_responses,
    mark_replayed,
)
from api.schemas import (
    JobCreated,
    JobDetailOut,
    JobOut,
    LineageJobOut,
    LineageOut,
    PageOut,
    RunOut,
)
from jobsched.errors import ValidationFailedError
from jobsched.foresight.estimates import job_eta
from jobsched.jobs import holds, reruns
from jobsched.jobs import jobs as use
from jobsched.jobs.budget_waits import budget_wait
from jobsched.jobs.runs import runs_of_job
from jobsched.models import JobStatus
from jobsched.ports import JobFilter

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CanWrite],
    responses=idempotent_responses(JobCreated),
)
def create_job(
    stores: StoresDep,
    body: use.JobCreate,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JobCreated:
    if "schedule_id" in body.model_fields_set:
        # Only a schedule's fire sets it; the request hash ignores it, so it cannot be honoured.
        raise ValidationFailedError.on("schedule_id", "is set by schedules only; remove it")
    job, created = use.enqueue(stores, body, idempotency_key)
    if not created:
        mark_replayed(response)
    view = use.view_job(stores, job)
    return JobCreated(**JobOut.of(view).model_dump(), idempotent_replay=not created)


@router.get("", dependencies=[CanRead])
def list_jobs(
    stores: StoresDep,
    status: JobStatus | None = None,
    template_id: IdFilter = None,
    schedule_id: IdFilter = None,
    group_id: IdFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[JobOut]:
    filters = JobFilter(status, template_id, schedule_id, group_id)
    views, next_cursor = use.list_jobs(stores, filters, limit, cursor)
    return PageOut(items=[JobOut.of(v) for v in views], next_cursor=next_cursor)


@router.get("/{job_id}", dependencies=[CanRead])
def get_job(stores: StoresDep, slots: SlotsDep, job_id: PathId) -> JobDetailOut:
    """The job, its latest run, and its ETA while it waits or runs; while queued, the spent
    budgets it waits for, if any (`budget_wait`)."""
    view = use.get_job(stores, job_id)
    wait = budget_wait(stores, view.job)
    eta = job_eta(stores, slots, view.job, view.run, view.queue_position, wait)
    return JobDetailOut.of_eta(view, eta, wait)


@router.post("/{job_id}/cancel", dependencies=[CanWrite])
def cancel_job(stores: StoresDep, job_id: PathId) -> JobOut:
    """A queued job is cancelled and leaves the queue; a running one is cancelled and its task
    stopped (its run fails with error "cancelled"); a finished one is 409."""
    job = use.cancel_job(stores, job_id)
    return JobOut.of(use.view_job(stores, job))


@router.post("/{job_id}/hold")
def hold_job(
    stores: StoresDep, job_id: PathId, key: WriteKey, body: holds.HoldRequest | None = None
) -> JobOut:
    """A queued job becomes `held`: it keeps its place in the queue (listed there, and it can
    be moved) and dispatch passes over it until it is released. The optional `note` and the
    holding key are shown in `hold`. A job that is not queued (held already, running, ended)
    is 409; a job of a parallel group is held with its group."""
    by = holds.Holder(key.key_id, key.name)
    job = holds.hold_job(stores, job_id, body.note if body else None, by)
    return JobOut.of(use.view_job(stores, job))


@router.post("/{job_id}/release", dependencies=[CanWrite])
def release_job(stores: StoresDep, job_id: PathId) -> JobOut:
    """A held job is queued again at the place it kept, and dispatch is woken. A job that is
    not held is 409."""
    job = holds.release_job(stores, job_id)
    return JobOut.of(use.view_job(stores, job))


@router.get("/{job_id}/runs", dependencies=[CanRead])
def list_job_runs(
    stores: StoresDep, job_id: PathId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[RunOut]:
    page = runs_of_job(stores, job_id, limit, cursor)
    return PageOut(items=[RunOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.post(
    "/{job_id}/rerun",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CanWrite],
    responses=idempotent_responses(JobCreated),
)
def rerun_job(
    stores: StoresDep,
    job_id: PathId,
    response: Response,
    body: reruns.RerunRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JobCreated:
    """A new job from this one: its template at the version this one ran with, its params with
    `params` laid over them (checked against that version's params_schema), its priority unless
    `priority` is given. The new job's `rerun_of` names this one. Any job can be rerun, in any
    state; an archived template takes no rerun (409)."""
    job, created = reruns.rerun(stores, job_id, body or reruns.RerunRequest(), idempotency_key)
    if not created:
        mark_replayed(response)
    view = use.view_job(stores, job)
    return JobCreated(**JobOut.of(view).model_dump(), idempotent_replay=not created)


@router.get("/{job_id}/lineage", dependencies=[CanRead])
def job_lineage(stores: StoresDep, job_id: PathId) -> LineageOut:
    """The tree of reruns this job belongs to: its first job and every rerun made from it,
    however deep, oldest first, each with its status and latest run (exit code, artifacts).
    At most `limit` jobs; `truncated` says when more were left out."""
    found = reruns.lineage(stores, job_id)
    return LineageOut(
        job_id=found.job_id,
        root_id=found.root_id,
        jobs=[LineageJobOut.of(view) for view in found.jobs],
        truncated=found.truncated,
        limit=reruns.MAX_LINEAGE,
    )
