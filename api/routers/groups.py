"""/groups: a set of jobs run in parallel or in sequence (the legacy Batch)."""

from fastapi import APIRouter, Response, status

from api.deps import (
    DEFAULT_LIMIT,
    CanRead,
    CanWrite,
    Cursor,
    IdempotencyKey,
    Limit,
    PathId,
    StoresDep,
    WriteKey,
    idempotent_responses,
    mark_replayed,
)
from api.schemas import GroupCreated, GroupOut, GroupWithJobs, JobOut, PageOut
from jobsched.jobs import groups as use
from jobsched.jobs import holds
from jobsched.jobs.jobs import view_jobs
from jobsched.models import Job, JobGroup
from jobsched.ports import Stores

router = APIRouter(prefix="/groups", tags=["groups"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CanWrite],
    responses=idempotent_responses(GroupCreated),
)
def create_group(
    stores: StoresDep,
    body: use.GroupCreate,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> GroupCreated:
    # lazy: the webhooks package loads pydantic-settings, kept off the cold start
    from jobsched.webhooks.at_create import check_group_webhook, webhook_warnings

    check_group_webhook(body.webhook_url)
    group, jobs, created = use.create_group_once(stores, body, idempotency_key)
    if not created:
        mark_replayed(response)
    views = [JobOut.of(view) for view in view_jobs(stores, jobs)]
    from jobsched.settings import get_settings  # lazy: pydantic-settings loads on first use

    warnings = webhook_warnings(get_settings(), group)
    return GroupCreated(
        **GroupOut.of(group).model_dump(),
        jobs=views,
        warnings=warnings,
        idempotent_replay=not created,
    )


@router.get("", dependencies=[CanRead])
def list_groups(
    stores: StoresDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[GroupOut]:
    page = use.list_groups(stores, limit, cursor)
    return PageOut(items=[GroupOut.of(g) for g in page.items], next_cursor=page.next_cursor)


@router.get("/{group_id}", dependencies=[CanRead])
def get_group(stores: StoresDep, group_id: PathId) -> GroupOut:
    return GroupOut.of(stores.groups.get(group_id))


@router.post("/{group_id}/cancel", dependencies=[CanWrite])
def cancel_group(stores: StoresDep, group_id: PathId) -> GroupOut:
    """Cancels every job of the group that has not ended: queued jobs leave the queue, running
    jobs are stopped (their runs fail `cancelled`)."""
    return GroupOut.of(use.cancel_group(stores, group_id))


@router.post("/{group_id}/hold")
def hold_group(
    stores: StoresDep, group_id: PathId, key: WriteKey, body: holds.HoldRequest | None = None
) -> GroupWithJobs:
    """Every queued job of the group becomes `held` with the optional `note` (each keeps its
    place), and the group shows `hold`. A parallel group runs as one unit: it is held only
    before it starts, and does not start until released. A sequential group's running job
    continues; its queued ones wait. 409 when none of its jobs is queued, or a parallel group
    has started."""
    by = holds.Holder(key.key_id, key.name)
    group, jobs = holds.hold_group(stores, group_id, body.note if body else None, by)
    return _with_jobs(stores, group, jobs)


@router.post("/{group_id}/release", dependencies=[CanWrite])
def release_group(stores: StoresDep, group_id: PathId) -> GroupWithJobs:
    """Every held job of the group is queued again at the place it kept, the group's `hold`
    is cleared and dispatch is woken. 409 when nothing of the group is held."""
    group, jobs = holds.release_group(stores, group_id)
    return _with_jobs(stores, group, jobs)


def _with_jobs(stores: Stores, group: JobGroup, jobs: list[Job]) -> GroupWithJobs:
    views = [JobOut.of(view) for view in view_jobs(stores, jobs)]
    return GroupWithJobs(**GroupOut.of(group).model_dump(), jobs=views)
