"""/schedules: recurring and one-time jobs (EventBridge Scheduler on AWS, the ticker locally)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from api.deps import (
    DEFAULT_LIMIT,
    CanRead,
    CanWrite,
    Cursor,
    IdempotencyKey,
    IdFilter,
    Limit,
    PathId,
    StoresDep,
    idempotent_responses,
    mark_replayed,
)
from api.schemas import JobCreated, JobOut, PageOut, ScheduleOut
from jobsched.constants import DEFAULT_NEXT_RUNS, LIST_NEXT_RUNS, MAX_NEXT_RUNS
from jobsched.jobs.jobs import view_job
from jobsched.models import REQUEST_CONFIG
from jobsched.models.instants import Instant
from jobsched.schedules import usecases as use
from jobsched.schedules.fire import trigger
from jobsched.schedules.linting import lint_schedule

router = APIRouter(prefix="/schedules", tags=["schedules"])

NextRuns = Annotated[
    int, Query(ge=0, le=MAX_NEXT_RUNS, description="how many upcoming fire times to show")
]


class DisableRequest(BaseModel):
    model_config = REQUEST_CONFIG

    note: str | None = Field(default=None, max_length=500, description="why it is disabled")


class TriggerRequest(BaseModel):
    model_config = REQUEST_CONFIG

    force: bool = Field(default=False, description="run even if the overlap policy would skip")


class LintWarningOut(BaseModel):
    code: str = Field(
        description="dst_skipped, dst_repeated, busy, overlap, same_minute, in_the_past, "
        "ends_before_next_fire or never_fires"
    )
    message: str = Field(description="what will happen, and why")


class LintOut(BaseModel):
    warnings: list[LintWarningOut] = Field(description="empty when nothing is surprising")
    fires_per_day: int | None = Field(
        description="fires in its first day of firing (1440 at most counted); null: never again"
    )
    next_fire: Instant | None = None


def _create_responses() -> dict[int | str, dict[str, Any]]:
    responses = idempotent_responses(ScheduleOut)
    responses[200] = {
        **responses[200],
        "description": "a replay of an earlier create with the Idempotency-Key, or a dry_run: "
        "the schedule as it would be, nothing written",
    }
    return responses


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CanWrite],
    responses=_create_responses(),
)
def create_schedule(
    stores: StoresDep,
    body: use.ScheduleCreate,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    dry_run: Annotated[
        bool, Query(description="check and preview (next_runs) only: 200, nothing written")
    ] = False,
) -> ScheduleOut:
    """The expression, timezone and window are checked here (422 naming the field); the
    EventBridge schedule is written with the record, or neither is (503, and the
    Idempotency-Key may be used again). A replay while the first call is still writing
    EventBridge is a 409: retry shortly. With `dry_run` the same checks run and the answer (200)
    is the schedule as it would be, with its next runs; nothing is written."""
    if dry_run:
        response.status_code = status.HTTP_200_OK
        return ScheduleOut.of(use.view(use.plan_schedule(stores, body), DEFAULT_NEXT_RUNS))
    schedule, created = use.create_schedule_once(stores, body, idempotency_key)
    if not created:
        mark_replayed(response)
    return ScheduleOut.of(use.view(schedule, DEFAULT_NEXT_RUNS))


@router.post("/lint", dependencies=[CanRead])
def lint(stores: StoresDep, body: use.ScheduleCreate) -> LintOut:
    """Check a proposed schedule as a create would (422 naming the field), then say what it
    will do that may surprise: times skipped or repeated by daylight saving in the coming year,
    more than 48 fires a day, fires closer than the template's p90 run (and what the overlap
    policy does then), fires in the same minute as another schedule's, an end before the next
    fire, an at() in the past. Writes nothing."""
    report = lint_schedule(stores, body)
    return LintOut(
        warnings=[LintWarningOut(code=w.code, message=w.message) for w in report.warnings],
        fires_per_day=report.fires_per_day,
        next_fire=report.next_fire,
    )


@router.get("", dependencies=[CanRead])
def list_schedules(
    stores: StoresDep,
    template_id: IdFilter = None,
    next_runs: NextRuns = LIST_NEXT_RUNS,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[ScheduleOut]:
    """Newest first."""
    views, next_cursor = use.list_schedules(stores, template_id, limit, cursor, next_runs)
    return PageOut(items=[ScheduleOut.of(v) for v in views], next_cursor=next_cursor)


@router.get("/{schedule_id}", dependencies=[CanRead])
def get_schedule(
    stores: StoresDep, schedule_id: PathId, next_runs: NextRuns = DEFAULT_NEXT_RUNS
) -> ScheduleOut:
    """With the next fire times in UTC and in the schedule's timezone, and the last run."""
    return ScheduleOut.of(use.get_schedule(stores, schedule_id, next_runs))


@router.patch("/{schedule_id}", dependencies=[CanWrite])
def update_schedule(
    stores: StoresDep,
    schedule_id: PathId,
    body: use.SchedulePatch,
    dry_run: Annotated[
        bool, Query(description="check and preview (next_runs) only: nothing written")
    ] = False,
) -> ScheduleOut:
    """Each field named replaces the stored one (null clears start_at, end_at and
    flexible_window_minutes); a 503 leaves the schedule as it was. With `dry_run` the same
    checks run and the answer is the schedule as it would be, with its next runs."""
    plan = use.plan_update if dry_run else use.update_schedule
    return ScheduleOut.of(use.view(plan(stores, schedule_id, body), DEFAULT_NEXT_RUNS))


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[CanWrite])
def delete_schedule(stores: StoresDep, schedule_id: PathId) -> Response:
    """Deletes the EventBridge schedule, then the record. Its jobs and runs stay."""
    use.delete_schedule(stores, schedule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{schedule_id}/enable", dependencies=[CanWrite])
def enable_schedule(stores: StoresDep, schedule_id: PathId) -> ScheduleOut:
    schedule = use.set_enabled(stores, schedule_id, True)
    return ScheduleOut.of(use.view(schedule, DEFAULT_NEXT_RUNS))


@router.post("/{schedule_id}/disable", dependencies=[CanWrite])
def disable_schedule(
    stores: StoresDep, schedule_id: PathId, body: DisableRequest | None = None
) -> ScheduleOut:
    """Stops its fires until enabled again; the note says why (shown as disabled_note)."""
    note = body.note if body else None
    schedule = use.set_enabled(stores, schedule_id, False, note)
    return ScheduleOut.of(use.view(schedule, DEFAULT_NEXT_RUNS))


@router.post(
    "/{schedule_id}/trigger",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CanWrite],
    responses=idempotent_responses(JobCreated),
)
def trigger_schedule(
    stores: StoresDep,
    schedule_id: PathId,
    response: Response,
    body: TriggerRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JobCreated:
    """Enqueue one job from the schedule now, also when it is disabled. The overlap policy
    applies (409 naming the blocking job) unless `force` is true."""
    force = body.force if body else False
    job, created = trigger(stores, schedule_id, force, idempotency_key)
    if not created:
        mark_replayed(response)
    view = view_job(stores, job)
    return JobCreated(**JobOut.of(view).model_dump(), idempotent_replay=not created)
