"""Jobs: enqueue (idempotently), read with their queue place and latest run, cancel."""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from jobsched.constants import MAX_ID_LENGTH, MAX_POSITION
from jobsched.dispatch.concurrency import concurrency_keys
from jobsched.dispatch.dispatcher import cancel_running
from jobsched.errors import (
    ConflictError,
    IdempotencyKeyTakenError,
    NotFoundError,
    TemplateChangedError,
    ValidationFailedError,
)
from jobsched.ids import new_id
from jobsched.jobs.idempotency import Operation, earlier, request_hash
from jobsched.jobs.placement import at_position, end_of_band
from jobsched.models import (
    REQUEST_CONFIG,
    GroupStatus,
    Job,
    JobGroup,
    JobRun,
    JobStatus,
    JobTemplate,
)
from jobsched.models.steps import StepFailedError
from jobsched.params import JsonObject, merge_params
from jobsched.ports import IdempotencyClaim, JobFilter, NewJobs, Page, Stores
from jobsched.priority import DEFAULT_PRIORITY, PriorityInput, display_priority
from jobsched.ranks import QueueRank, band_of, priority_of_band

WAITING = frozenset({JobStatus.QUEUED, JobStatus.HELD})  # what has a place in the queue


class JobCreate(BaseModel):
    model_config = REQUEST_CONFIG

    template_id: str = Field(min_length=1, max_length=64)
    params: JsonObject = Field(default_factory=dict)
    priority: PriorityInput = DEFAULT_PRIORITY
    group_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_LENGTH)
    position: int | None = Field(
        default=None, ge=1, le=MAX_POSITION, description="1-based place in the queue"
    )
    # Set by the schedule fire only: hidden from the API schema, and the API rejects it.
    schedule_id: SkipJsonSchema[str | None] = Field(default=None, exclude=True)


@dataclass(frozen=True)
class JobView:
    """A job with what a client wants to see next to it."""

    job: Job
    template_name: str | None
    queue_position: int | None
    run: JobRun | None


def enqueue(
    stores: Stores,
    request: JobCreate,
    idempotency_key: str | None = None,
    operation: Operation = Operation.CREATE_JOB,
    digest: str | None = None,
) -> tuple[Job, bool]:
    """Create a job at the end of its priority band (or at `position`).

    Returns (job, created). With an Idempotency-Key already used for the same request, returns
    the job it created and False; the same key with another request is a conflict. `digest`:
    the request hash when the caller's request is not `request` itself (a schedule's trigger).
    In the common case this is one store write: the template comes from a cache that the
    write's condition on the template's version keeps honest.
    """
    if idempotency_key and digest is None:
        digest = request_hash(operation, request)
    group = _open_group(stores, request.group_id) if request.group_id else None
    for fresh in (False, True):
        template = template_for_new_jobs(stores, request.template_id, fresh=fresh)
        job = new_job(stores, request, template)
        if group is not None:  # it joins at the end of the group's order
            job = job.model_copy(
                update={"group_mode": group.mode, "group_index": len(group.job_ids)}
            )
        claim = (
            IdempotencyClaim(idempotency_key, digest or "", job.job_id) if idempotency_key else None
        )
        new = NewJobs(
            jobs=[job],
            templates={template.template_id: template.version},
            idempotency=claim,
            join_group=request.group_id,
            group_size=len(group.job_ids) if group else None,
        )
        try:
            stores.jobs.insert(new)
            stores.kicker.kick()
            return job, True
        except TemplateChangedError:
            stores.templates.forget(template.template_id)
        except IdempotencyKeyTakenError:
            assert idempotency_key is not None
            legacy = request if operation == Operation.CREATE_JOB else None
            job_id = earlier(stores, idempotency_key, digest or "", legacy)
            if job_id is None:  # the record expired between the two calls
                raise
            return stores.jobs.get(job_id), False
    raise ConflictError(f"template {request.template_id!r} keeps changing; retry")


def planned_job(stores: Stores, request: JobCreate) -> Job:
    """The job `request` would create (its params checked, its place chosen), unwritten: what
    a preview of a new job shows."""
    if request.group_id:
        raise ValidationFailedError.on("group_id", "a preview places a job of its own")
    return new_job(stores, request, template_for_new_jobs(stores, request.template_id))


def new_job(stores: Stores, request: JobCreate, template: JobTemplate) -> Job:
    """The job `request` makes from `template` (the version it runs with), unwritten."""
    params = merge_params(template, request.params)
    job_id = new_id("job")
    band = band_of(request.priority)
    if request.position is not None:
        rank = at_position(stores.queue, band, request.position, job_id)
        if rank.band != band and "priority" in request.model_fields_set:
            raise _priority_against_position(stores, request.position, band, rank.band)
    else:
        rank = end_of_band(band, job_id)
    return Job(
        job_id=job_id,
        template_id=template.template_id,
        template_version=template.version,
        schedule_id=request.schedule_id,
        group_id=request.group_id,
        params=params,
        priority=rank.priority,
        rank=rank.key,
        concurrency_keys=concurrency_keys(template, params),
    )


def _priority_against_position(
    stores: Stores, position: int, band: str, place_band: str
) -> ValidationFailedError:
    """Both were sent and they disagree: neither is dropped in silence; the answer says which
    positions that priority can take."""
    first = stores.queue.position_of(QueueRank(band, "", "")) + 1  # after every higher band
    last = stores.queue.position_of(end_of_band(band, "")) + 1  # its own end
    asked, there = (display_priority(priority_of_band(b)) for b in (band, place_band))
    return ValidationFailedError.on(
        "position",
        f"position {position} lies among {there} jobs; a {asked} job can take positions "
        f"{first} to {last} (or send no priority to take the priority of the place)",
    )


def template_for_new_jobs(stores: Stores, template_id: str, fresh: bool = False) -> JobTemplate:
    getter = stores.templates.get if fresh else stores.templates.get_cached
    template = getter(template_id)
    if template.archived and not fresh:  # the cache may not have seen a restore yet
        template = stores.templates.get(template_id)
    if template.archived:
        raise ConflictError(f"template {template_id!r} is archived; it takes no new jobs")
    return template


def _open_group(stores: Stores, group_id: str) -> JobGroup:
    group = stores.groups.get(group_id)
    if group.status != GroupStatus.QUEUED:
        raise ConflictError(f"group {group_id!r} is {group.status}; it takes no new jobs")
    return group


def view_job(stores: Stores, job: Job, template_names: dict[str, str] | None = None) -> JobView:
    [view] = view_jobs(stores, [job], template_names)
    return view


def view_jobs(
    stores: Stores, jobs: Sequence[Job], template_names: dict[str, str] | None = None
) -> list[JobView]:
    """Views of a page of jobs: the queued ones' positions counted together (positions_of)."""
    names = template_names if template_names is not None else {}
    for job in jobs:
        if job.template_id not in names:
            try:
                names[job.template_id] = stores.templates.get_cached(job.template_id).name
            except NotFoundError:
                names[job.template_id] = job.template_id
    queued = [job for job in jobs if job.status in WAITING and job.rank]
    ranks = [QueueRank.parse(job.rank) for job in queued if job.rank]
    positions = (
        dict(zip((job.job_id for job in queued), stores.queue.positions_of(ranks), strict=True))
        if ranks
        else {}
    )
    return [
        JobView(
            job,
            names.get(job.template_id),
            positions.get(job.job_id),
            stores.runs.get(job.last_run_id) if job.last_run_id else None,
        )
        for job in jobs
    ]


def get_job(stores: Stores, job_id: str) -> JobView:
    return view_job(stores, stores.jobs.get(job_id))


def list_jobs(
    stores: Stores, filters: JobFilter, limit: int, cursor: str | None
) -> tuple[list[JobView], str | None]:
    page: Page[Job] = stores.jobs.list_page(filters, limit, cursor)
    return view_jobs(stores, page.items), page.next_cursor


def cancel_job(stores: Stores, job_id: str) -> Job:
    """queued or held -> cancelled; running -> cancelled with its run failed ("cancelled") and
    its task stopped. A finished or cancelled job is a conflict."""
    try:
        return stores.jobs.cancel(job_id)
    except ConflictError as exc:
        job = stores.jobs.get(job_id)
        if job.status == JobStatus.CANCELLED:
            raise ConflictError(f"job {job_id!r} is cancelled already") from exc
        if job.status != JobStatus.RUNNING:
            raise ConflictError(
                f"job {job_id!r} is {job.status}; only a queued or running job can be cancelled"
            ) from exc
    try:
        cancel_running(stores, job)
    except StepFailedError as exc:
        raise ConflictError(f"job {job_id!r} ended meanwhile; it cannot be cancelled") from exc
    return stores.jobs.get(job_id)


def require_one_of(**given: object) -> str:
    chosen = [name for name, value in given.items() if value is not None]
    if len(chosen) != 1:
        fields = ", ".join(given)
        raise ValidationFailedError.on("body", f"give exactly one of: {fields}")
    return chosen[0]
