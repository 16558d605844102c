"""The legacy /jobs routes, each a thin call into jobsched.usecases.legacy."""

import logging

from fastapi import APIRouter, Request

from api import problems
from api.deps import DEFAULT_LIMIT, CanRead, CanWrite, Cursor, IdFilter, Limit, PathId, StoresDep
from api.legacy.deprecation import DeprecatedRoute, policy_of
from api.legacy.schemas import (
    BatchBody,
    LegacyBatchOut,
    LegacyJobList,
    LegacyJobOut,
    TriggerBody,
    pick_template,
)
from jobsched.usecases import legacy as use
from jobsched.usecases.jobs import cancel_job, get_job, view_job

logger = logging.getLogger("jobsched.legacy")

router = APIRouter(
    prefix="/jobs",
    tags=["legacy (v1, deprecated)"],
    route_class=DeprecatedRoute,
    deprecated=True,
    responses={code: problems.PROBLEM_SCHEMA for code in (401, 403, 404, 409, 422)},
)

STORY_TEMPLATE = "story_generation"
RESEARCH_TEMPLATE = "research"


def _trigger(stores: StoresDep, request: Request, body: TriggerBody, default: str) -> LegacyJobOut:
    if not policy_of(request.scope).use_scheduler:
        # The off path (start at once outside the queue) is not built yet: say so, then queue.
        logger.warning("USE_SCHEDULER=false is not implemented yet; the job goes to the queue")
    options = body.scheduler
    named = {
        "job_type": body.job_type,
        "_scheduler.template_id": options.template_id if options else None,
        "_scheduler.job_type": options.job_type if options else None,
    }
    template_id = pick_template(named, default)
    priority = options.priority if options and options.priority is not None else None
    view = use.trigger(
        stores, template_id, body.params(), use.LEGACY_PRIORITY if priority is None else priority
    )
    return LegacyJobOut.of(view)


@router.post("/story/trigger", dependencies=[CanWrite])
def trigger_story(stores: StoresDep, request: Request, body: TriggerBody) -> LegacyJobOut:
    """Queue a story_generation job at priority `immediate`; the body's keys are its params."""
    return _trigger(stores, request, body, STORY_TEMPLATE)


@router.post("/research/trigger", dependencies=[CanWrite])
def trigger_research(stores: StoresDep, request: Request, body: TriggerBody) -> LegacyJobOut:
    """Queue a research job at priority `immediate`; the body's keys are its params."""
    return _trigger(stores, request, body, RESEARCH_TEMPLATE)


@router.post("/batch/trigger", dependencies=[CanWrite])
def trigger_batch(stores: StoresDep, body: BatchBody) -> LegacyBatchOut:
    """A parallel job group, one job per item ({job_type or template_id, params})."""
    items = [
        use.BatchItem(
            pick_template(
                {f"jobs.{i}.job_type": job.job_type, f"jobs.{i}.template_id": job.template_id},
                missing=f"jobs.{i}.job_type",
            ),
            job.params,
        )
        for i, job in enumerate(body.jobs)
    ]
    options = body.scheduler
    priority = options.priority if options and options.priority is not None else None
    batch = use.trigger_batch(
        stores,
        items,
        use.LEGACY_PRIORITY if priority is None else priority,
        webhook_url=body.webhook_url,
        name=body.name,
    )
    return LegacyBatchOut.of(batch)


@router.get("/batch/{batch_id}", dependencies=[CanRead])
def get_batch(stores: StoresDep, batch_id: PathId) -> LegacyBatchOut:
    return LegacyBatchOut.of(use.get_batch(stores, batch_id))


@router.get("", dependencies=[CanRead])
def list_jobs(
    stores: StoresDep,
    status: use.LegacyStatus | None = None,
    type: IdFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> LegacyJobList:
    """Newest first; `status` takes the legacy statuses, `type` a job type (template id)."""
    views, next_cursor = use.list_legacy_jobs(stores, status, type, limit, cursor)
    jobs = [LegacyJobOut.of(view) for view in views]
    return LegacyJobList(jobs=jobs, count=len(jobs), next_cursor=next_cursor)


@router.get("/{job_id}", dependencies=[CanRead])
def get_legacy_job(stores: StoresDep, job_id: PathId) -> LegacyJobOut:
    return LegacyJobOut.of(get_job(stores, job_id))


@router.post("/{job_id}/cancel", dependencies=[CanWrite])
def cancel(stores: StoresDep, job_id: PathId) -> LegacyJobOut:
    """A queued job leaves the queue; a running one is stopped; a finished one is 409."""
    return LegacyJobOut.of(view_job(stores, cancel_job(stores, job_id)))
