"""The legacy /jobs routes, each a thin call into jobsched.jobs.legacy."""

import logging

from fastapi import APIRouter, Request, Response

from api import problems
from api.content_schemas import DedupCheckBody, DuplicateItemOut
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
    idempotent_responses,
    mark_replayed,
)
from api.legacy.deprecation import DeprecatedRoute, policy_of
from api.legacy.schemas import (
    BatchBody,
    DedupCheckOut,
    JobMonitorOut,
    LegacyBatchOut,
    LegacyJobList,
    LegacyJobOut,
    MonitorOut,
    TriggerBody,
    pick_template,
)
from api.schemas import EtaOut
from jobsched.content.usecases import dedup_check
from jobsched.dispatch.reconcile import monitor
from jobsched.errors import ConflictError
from jobsched.foresight.estimates import job_eta
from jobsched.jobs import legacy as use
from jobsched.jobs.budget_waits import budget_wait
from jobsched.jobs.jobs import cancel_job, get_job, view_job

logger = logging.getLogger("jobsched.legacy")

router = APIRouter(
    prefix="/jobs",
    tags=["legacy (v1, deprecated)"],
    route_class=DeprecatedRoute,
    deprecated=True,
    responses=problems.responses(401, 403, 404, 409, 413, 422, 503),
)

STORY_TEMPLATE = "story_generation"
RESEARCH_TEMPLATE = "research"


def _trigger(
    stores: StoresDep,
    request: Request,
    response: Response,
    body: TriggerBody,
    default: str,
    key: str | None,
) -> LegacyJobOut:
    options = body.scheduler
    named = {
        "job_type": body.job_type,
        "_scheduler.template_id": options.template_id if options else None,
        "_scheduler.job_type": options.job_type if options else None,
    }
    template_id = pick_template(named, default)
    priority = options.priority if options and options.priority is not None else None
    level = use.LEGACY_PRIORITY if priority is None else priority
    if policy_of(request.scope).use_scheduler:
        view, created = use.trigger(stores, template_id, body.params(), level, idempotency_key=key)
    else:
        view, created = use.trigger_now(
            stores, template_id, body.params(), level, idempotency_key=key
        )
    if not created:
        mark_replayed(response)
    return LegacyJobOut.of(view)


@router.post("/story/trigger", dependencies=[CanWrite], responses=idempotent_responses())
def trigger_story(
    stores: StoresDep,
    request: Request,
    response: Response,
    body: TriggerBody,
    idempotency_key: IdempotencyKey = None,
) -> LegacyJobOut:
    """Queue a story_generation job at priority `immediate`; the body's keys are its params."""
    return _trigger(stores, request, response, body, STORY_TEMPLATE, idempotency_key)


@router.post("/research/trigger", dependencies=[CanWrite], responses=idempotent_responses())
def trigger_research(
    stores: StoresDep,
    request: Request,
    response: Response,
    body: TriggerBody,
    idempotency_key: IdempotencyKey = None,
) -> LegacyJobOut:
    """Queue a research job at priority `immediate`; the body's keys are its params."""
    return _trigger(stores, request, response, body, RESEARCH_TEMPLATE, idempotency_key)


@router.post("/batch/trigger", dependencies=[CanWrite], responses=idempotent_responses())
def trigger_batch(
    stores: StoresDep,
    request: Request,
    response: Response,
    body: BatchBody,
    idempotency_key: IdempotencyKey = None,
) -> LegacyBatchOut:
    """A parallel job group, one job per item ({job_type or template_id, params}); its
    webhook_url hears `group.finished` when the last job ends."""
    from jobsched.webhooks.at_create import check_group_webhook  # lazy: off the cold start

    check_group_webhook(body.webhook_url)
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
    start = use.trigger_batch if policy_of(request.scope).use_scheduler else use.trigger_batch_now
    batch, created = start(
        stores,
        items,
        use.LEGACY_PRIORITY if priority is None else priority,
        webhook_url=body.webhook_url,
        name=body.name,
        idempotency_key=idempotency_key,
    )
    if not created:
        mark_replayed(response)
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


@router.post("/monitor", dependencies=[CanWrite])
def monitor_all(stores: StoresDep) -> MonitorOut:
    """Check every running job against what really runs (ECS tasks, or local worker processes)
    and end, failed, the runs that nothing runs any more."""
    return MonitorOut.of(monitor(stores))


@router.get("/{job_id}", dependencies=[CanRead])
def get_legacy_job(stores: StoresDep, slots: SlotsDep, job_id: PathId) -> LegacyJobOut:
    view = get_job(stores, job_id)
    wait = budget_wait(stores, view.job)
    eta = EtaOut.of(job_eta(stores, slots, view.job, view.run, view.queue_position, wait))
    return LegacyJobOut.of(view).model_copy(update={"eta": eta})


@router.post("/{job_id}/monitor", dependencies=[CanWrite])
def monitor_one(stores: StoresDep, job_id: PathId) -> JobMonitorOut:
    """The monitor check for one job; a job that is not running is reported unchanged."""
    report = monitor(stores, job_id)
    job = LegacyJobOut.of(get_job(stores, job_id))
    return JobMonitorOut(**MonitorOut.of(report).model_dump(), job=job)


@router.post("/{job_id}/dedup_check", dependencies=[CanRead])
def check_duplicates(
    stores: StoresDep, job_id: PathId, body: DedupCheckBody | None = None
) -> DedupCheckOut:
    """Compare the stories or cards the job's latest run made with every other stored one;
    each at or over the threshold is listed with the item it nearly repeats. Writes nothing."""
    job = stores.jobs.get(job_id)
    if job.last_run_id is None:
        raise ConflictError(f"job {job_id!r} has not run yet: it has no outputs to check")
    threshold = body.threshold if body and body.threshold else _default_threshold()
    check = dedup_check(stores.content, job.last_run_id, threshold)
    return DedupCheckOut(
        job_id=job_id,
        run_id=job.last_run_id,
        checked=check["checked"],
        duplicates=[DuplicateItemOut(**dict(d)) for d in check["duplicates"]],
        threshold=check["threshold"],
    )


@router.post("/{job_id}/cancel", dependencies=[CanWrite])
def cancel(stores: StoresDep, job_id: PathId) -> LegacyJobOut:
    """A queued job leaves the queue; a running one is stopped; a finished one is 409."""
    return LegacyJobOut.of(view_job(stores, cancel_job(stores, job_id)))


def _default_threshold() -> float:
    from jobsched.settings import get_settings  # lazy: pydantic-settings stays off cold start

    return get_settings().dedup_threshold
