"""/groups: a set of jobs run in parallel or in sequence (the legacy Batch)."""

from fastapi import APIRouter, status
from pydantic import Field

from api.deps import DEFAULT_LIMIT, CanRead, CanWrite, Cursor, Limit, PathId, StoresDep
from api.schemas import GroupOut, JobOut, PageOut
from jobsched.jobs import groups as use
from jobsched.jobs.jobs import view_jobs

router = APIRouter(prefix="/groups", tags=["groups"])


class GroupCreated(GroupOut):
    jobs: list[JobOut]
    warnings: list[str] = Field(
        default_factory=list, description="what the client should know now (e.g. its webhook)"
    )


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[CanWrite])
def create_group(stores: StoresDep, body: use.GroupCreate) -> GroupCreated:
    # lazy: the webhooks package loads pydantic-settings, kept off the cold start
    from jobsched.webhooks.at_create import check_group_webhook, webhook_warnings

    check_group_webhook(body.webhook_url)
    group, jobs = use.create_group(stores, body)
    views = [JobOut.of(view) for view in view_jobs(stores, jobs)]
    from jobsched.settings import get_settings  # lazy: pydantic-settings loads on first use

    warnings = webhook_warnings(get_settings(), group)
    return GroupCreated(**GroupOut.of(group).model_dump(), jobs=views, warnings=warnings)


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
