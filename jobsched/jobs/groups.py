"""Job groups (the legacy Batch): created with their jobs, cancelled as one."""

from typing import Annotated

from pydantic import BaseModel, Field

from jobsched import transitions
from jobsched.constants import MAX_GROUP_JOBS
from jobsched.dispatch.concurrency import concurrency_keys
from jobsched.errors import ConflictError, IdempotencyKeyTakenError, TemplateChangedError
from jobsched.ids import new_id
from jobsched.jobs.idempotency import Operation, earlier, request_hash
from jobsched.jobs.jobs import cancel_job, template_for_new_jobs
from jobsched.models import (
    REQUEST_CONFIG,
    FromJson,
    GroupMode,
    GroupStatus,
    Job,
    JobGroup,
    JobTemplate,
    OnFailure,
    utcnow,
)
from jobsched.models.steps import EndGroup, StepFailedError
from jobsched.params import JsonObject, merge_params
from jobsched.ports import IdempotencyClaim, NewJobs, Page, Stores
from jobsched.priority import DEFAULT_PRIORITY, PriorityInput
from jobsched.ranks import band_of, ranks_at_end
from jobsched.transitions import check_move


class GroupJobSpec(BaseModel):
    model_config = REQUEST_CONFIG

    template_id: str = Field(min_length=1, max_length=64)
    params: JsonObject = Field(default_factory=dict)


class GroupCreate(BaseModel):
    model_config = REQUEST_CONFIG

    name: str | None = Field(default=None, max_length=200)
    mode: Annotated[GroupMode, FromJson] = GroupMode.PARALLEL
    priority: PriorityInput = DEFAULT_PRIORITY
    on_failure: Annotated[OnFailure, FromJson] = OnFailure.CONTINUE
    max_parallel: int | None = Field(default=None, ge=1, le=100)
    webhook_url: str | None = Field(default=None, max_length=2000)
    jobs: list[GroupJobSpec] = Field(min_length=1, max_length=MAX_GROUP_JOBS)


def create_group(stores: Stores, request: GroupCreate) -> tuple[JobGroup, list[Job]]:
    group, jobs, _ = create_group_once(stores, request, None)
    return group, jobs


def create_group_once(
    stores: Stores,
    request: GroupCreate,
    idempotency_key: str | None,
    operation: Operation = Operation.CREATE_GROUP,
) -> tuple[JobGroup, list[Job], bool]:
    """The group and all its jobs in one transaction, queued next to each other. Returns
    (group, jobs, created): with an Idempotency-Key used already for the same request, the
    group it created and False (jobsched/jobs/idempotency.py)."""
    digest = request_hash(operation, request) if idempotency_key else ""
    for fresh in (False, True):
        templates = {
            spec.template_id: template_for_new_jobs(stores, spec.template_id, fresh=fresh)
            for spec in request.jobs
        }
        group, jobs = _new_group(request, templates)
        versions = {template_id: t.version for template_id, t in templates.items()}
        claim = (
            IdempotencyClaim(idempotency_key, digest, group.group_id) if idempotency_key else None
        )
        try:
            stores.jobs.insert(
                NewJobs(jobs=jobs, templates=versions, group=group, idempotency=claim)
            )
            stores.kicker.kick()
            return group, jobs, True
        except TemplateChangedError:
            for template_id in templates:
                stores.templates.forget(template_id)
        except IdempotencyKeyTakenError:
            assert idempotency_key is not None
            group_id = earlier(stores, idempotency_key, digest)
            if group_id is None:  # the record expired between the two calls
                raise
            made = stores.groups.get(group_id)
            return made, [stores.jobs.get(job_id) for job_id in made.job_ids], False
    raise ConflictError("the group's templates keep changing; retry")


def _new_group(
    request: GroupCreate, templates: dict[str, JobTemplate]
) -> tuple[JobGroup, list[Job]]:
    params = [
        merge_params(templates[spec.template_id], spec.params, field=f"jobs.{index}.params")
        for index, spec in enumerate(request.jobs)
    ]
    group_id = new_id("grp")
    job_ids = [new_id("job") for _ in request.jobs]
    ranks = ranks_at_end(band_of(request.priority), job_ids, utcnow())
    jobs = [
        Job(
            job_id=rank.job_id,
            template_id=spec.template_id,
            template_version=templates[spec.template_id].version,
            group_id=group_id,
            group_mode=request.mode,
            group_index=index,
            params=job_params,
            priority=request.priority,
            rank=rank.key,
            # A parallel group's jobs run under its one slot (max_parallel bounds them), so
            # keys hold only where each job is claimed on its own: sequential groups.
            concurrency_keys=concurrency_keys(templates[spec.template_id], job_params)
            if request.mode == GroupMode.SEQUENTIAL
            else [],
        )
        for index, (rank, spec, job_params) in enumerate(
            zip(ranks, request.jobs, params, strict=True)
        )
    ]
    group = JobGroup(group_id=group_id, job_ids=job_ids, **request.model_dump(exclude={"jobs"}))
    return group, jobs


def cancel_group(stores: Stores, group_id: str) -> JobGroup:
    """Cancel every job of the group that has not ended (a running one is stopped, its run
    failed "cancelled") and mark the group cancelled."""
    group = stores.groups.get(group_id)
    check_move(transitions.GROUP, f"group {group_id!r}", group.status, GroupStatus.CANCELLED)
    for job_id in group.job_ids:
        try:
            cancel_job(stores, job_id)
        except ConflictError:
            continue  # it ended meanwhile (or had already): nothing to cancel
    # Only the status and end time are written, on condition that the group is still open: a
    # put of the group read above would undo counts (and a webhook claim) recorded meanwhile.
    try:
        stores.dispatch.commit([EndGroup(group_id, GroupStatus.CANCELLED, utcnow())])
    except StepFailedError as exc:
        raise ConflictError(f"group {group_id!r} ended while it was being cancelled") from exc
    stores.notifier.group_ended(group_id)  # a cancelled group has ended: its webhook hears it
    return stores.groups.get(group_id)


def list_groups(stores: Stores, limit: int, cursor: str | None) -> Page[JobGroup]:
    return stores.groups.list_page(limit, cursor)
