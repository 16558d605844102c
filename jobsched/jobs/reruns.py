"""Reruns: a new job from an earlier one, with edits, and the lineage that links them.

A rerun runs with the template version its original ran with (not the current one), so that
what changed between the two runs is what the rerun's request says. Each rerun names the job
it reruns (`rerun_of`) and the first job of the chain (`lineage_root`), by which the store
reads a whole chain at once.
"""

from contextlib import suppress
from dataclasses import dataclass

from pydantic import BaseModel, Field

from jobsched.constants import MAX_POSITION
from jobsched.errors import (
    ConflictError,
    IdempotencyKeyTakenError,
    NotFoundError,
    TemplateChangedError,
)
from jobsched.jobs.idempotency import Operation, earlier, request_hash
from jobsched.jobs.jobs import JobCreate, JobView, new_job, template_for_new_jobs, view_jobs
from jobsched.models import REQUEST_CONFIG, Job, JobTemplate
from jobsched.params import JsonObject
from jobsched.ports import IdempotencyClaim, NewJobs, Stores
from jobsched.priority import PriorityInput, display_priority

MAX_LINEAGE = 100  # jobs in one lineage answer


class RerunRequest(BaseModel):
    model_config = REQUEST_CONFIG

    params: JsonObject = Field(
        default_factory=dict,
        description="replace these keys of the original's params (a shallow merge); the result "
        "is checked against the params_schema of the template version the original ran with",
    )
    priority: PriorityInput | None = Field(
        default=None,
        description="the original's unless given (with `position` alone: the place's, as for "
        "POST /jobs)",
    )
    position: int | None = Field(
        default=None, ge=1, le=MAX_POSITION, description="1-based place in the queue"
    )


def rerun(
    stores: Stores,
    job_id: str,
    request: RerunRequest,
    idempotency_key: str | None = None,
) -> tuple[Job, bool]:
    """Enqueue a rerun of `job_id`. Returns (job, created), as `jobs.enqueue` does for a key
    sent again. The original may be in any state (a rerun of a running job is a second job)."""
    digest = (
        request_hash(Operation.RERUN_JOB, {"job_id": job_id, **request.model_dump(mode="json")})
        if idempotency_key
        else ""
    )
    if idempotency_key:  # a replay needs no read of the original (it may answer 404 later)
        done = earlier(stores, idempotency_key, digest)
        if done is not None:
            return stores.jobs.get(done), False
    original = stores.jobs.get(job_id)
    create = _create_request(original, request)
    for fresh in (False, True):
        # The current template is read for its condition (unchanged, not archived); the job is
        # made from the original's version.
        current = template_for_new_jobs(stores, original.template_id, fresh=fresh)
        version = _version_of(stores, original, current)
        job = new_job(stores, create, version).model_copy(
            update={
                "rerun_of": original.job_id,
                "lineage_root": original.lineage_root or original.job_id,
            }
        )
        claim = IdempotencyClaim(idempotency_key, digest, job.job_id) if idempotency_key else None
        new = NewJobs(
            jobs=[job], templates={current.template_id: current.version}, idempotency=claim
        )
        try:
            stores.jobs.insert(new)
            stores.kicker.kick()
            return job, True
        except TemplateChangedError:
            stores.templates.forget(current.template_id)
        except IdempotencyKeyTakenError:
            assert idempotency_key is not None
            done = earlier(stores, idempotency_key, digest)
            if done is None:  # the record expired between the two calls
                raise
            return stores.jobs.get(done), False
    raise ConflictError(f"template {original.template_id!r} keeps changing; retry")


def _create_request(original: Job, request: RerunRequest) -> JobCreate:
    given = request.model_fields_set
    fields: dict[str, object] = {
        "template_id": original.template_id,
        "params": {**original.params, **request.params},
    }
    if request.position is not None:
        fields["position"] = request.position
    if request.priority is not None:
        fields["priority"] = request.priority
    elif "position" not in given:
        # As a client would send it: `immediate` is stored above the ints a request takes.
        fields["priority"] = display_priority(original.priority)
    return JobCreate.model_validate(fields)


def _version_of(stores: Stores, original: Job, current: JobTemplate) -> JobTemplate:
    """The template version the original ran with (the current one for a job from before
    versions were recorded)."""
    if original.template_version is None or original.template_version == current.version:
        return current
    return stores.templates.get_version(original.template_id, original.template_version)


@dataclass(frozen=True)
class Lineage:
    job_id: str  # the job asked about
    root_id: str  # the first job of its chain
    jobs: list[JobView]  # the root and every rerun made from it, however deep, oldest first
    truncated: bool  # more than MAX_LINEAGE: the newest were left out


def lineage(stores: Stores, job_id: str) -> Lineage:
    """The whole tree of reruns `job_id` belongs to, from its first job, in creation order."""
    job = stores.jobs.get(job_id)
    root_id = job.lineage_root or job.job_id
    chain: list[Job] = []
    with suppress(NotFoundError):  # the first job is gone: its reruns still form the chain
        chain.append(job if root_id == job.job_id else stores.jobs.get(root_id))
    reruns = stores.jobs.lineage(root_id, MAX_LINEAGE + 1 - len(chain))
    chain += reruns
    truncated = len(chain) > MAX_LINEAGE
    return Lineage(job_id, root_id, view_jobs(stores, chain[:MAX_LINEAGE]), truncated)
