"""/schedules: recurring and one-time jobs (EventBridge Scheduler on AWS, the ticker locally)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
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
from api.schemas import (
    BudgetStatusOut,
    JobCreated,
    JobOut,
    LintOut,
    LintWarningOut,
    PageOut,
    ScheduleDetailOut,
    ScheduleDryRunOut,
    ScheduleOut,
)
from jobsched.constants import DEFAULT_NEXT_RUNS, LIST_NEXT_RUNS, MAX_NEXT_RUNS
from jobsched.dispatch.budgets import hold_spends, schedule_holds
from jobsched.jobs.jobs import view_job
from jobsched.models import REQUEST_CONFIG, Schedule, utcnow
from jobsched.ports import Stores
from jobsched.schedules import usecases as use
from jobsched.schedules.fire import trigger
from jobsched.schedules.linting import lint_planned, lint_schedule

router = APIRouter(prefix="/schedules", tags=["schedules"])

NextRuns = Annotated[
    int, Query(ge=0, le=MAX_NEXT_RUNS, description="how many upcoming fire times to show")
]


class DisableRequest(BaseModel):
    model_config = REQUEST_CONFIG

    note: str | None = Field(default=None, max_length=500, description="why it is disabled")


class TriggerRequest(BaseModel):
    model_config = REQUEST_CONFIG

    force: bool = Field(
        default=False,
        description="run even if the overlap policy would skip (a spent budget still refuses)",
    )


# A 200 is a dry run's (with warnings) or, on create, a replay's, on update, the update's.
ScheduleOrDryRun = ScheduleDryRunOut | ScheduleOut


def catch_up_bound(request: Request) -> int:
    """The app's (tests set `app.state.catch_up_max_fires`), else the settings'."""
    configured = getattr(request.app.state, "catch_up_max_fires", None)
    if isinstance(configured, int):
        return configured
    from jobsched.settings import get_settings  # lazy: pydantic-settings loads on first use

    return get_settings().catch_up_max_fires


CatchUpBound = Annotated[int, Depends(catch_up_bound)]


def _dry_run(stores: Stores, planned: Schedule, bound: int) -> JSONResponse:
    # A Response of its own: the route's model (ScheduleOut) would drop the warnings.
    answer = ScheduleDryRunOut(
        **ScheduleOut.of(use.view(planned, DEFAULT_NEXT_RUNS)).model_dump(),
        warnings=LintWarningOut.all_of(lint_planned(stores, planned, bound)),
    )
    return JSONResponse(jsonable_encoder(answer), status_code=status.HTTP_200_OK)


def _create_responses() -> dict[int | str, dict[str, Any]]:
    responses = idempotent_responses(ScheduleOut)
    responses[200] = {
        **responses[200],
        "model": ScheduleOrDryRun,
        "description": "a replay of an earlier create with the Idempotency-Key, or a dry_run: "
        "the schedule as it would be, with the lint's warnings, nothing written",
    }
    return responses


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[CanWrite],
    response_model=ScheduleOut,
    responses=_create_responses(),
)
def create_schedule(
    stores: StoresDep,
    body: use.ScheduleCreate,
    response: Response,
    bound: CatchUpBound,
    idempotency_key: IdempotencyKey = None,
    dry_run: Annotated[
        bool,
        Query(
            description="check and preview (next_runs, warnings) only: 200, nothing written, "
            "an Idempotency-Key not used up"
        ),
    ] = False,
) -> ScheduleOut | JSONResponse:
    """The expression, timezone and window are checked here (422 naming the field); the
    EventBridge schedule is written with the record, or neither is (503, and the
    Idempotency-Key may be used again). A replay while the first call is still writing
    EventBridge is a 409: retry shortly. With `dry_run` the same checks run and the answer (200)
    is the schedule as it would be, with its next runs and the warnings POST /schedules/lint
    gives; nothing is written (an Idempotency-Key is neither looked up nor used up)."""
    if dry_run:
        return _dry_run(stores, use.plan_schedule(stores, body), bound)
    schedule, created = use.create_schedule_once(stores, body, idempotency_key)
    if not created:
        mark_replayed(response)
    return ScheduleOut.of(use.view(schedule, DEFAULT_NEXT_RUNS))


@router.post("/lint", dependencies=[CanRead])
def lint(stores: StoresDep, body: use.ScheduleCreate, bound: CatchUpBound) -> LintOut:
    """Check a proposed schedule as a create would (422 naming the field), then say what it
    will do that may surprise: times skipped or repeated by daylight saving in the coming year,
    more than 48 fires a day, fires closer than the template's p90 run (and what the overlap
    policy does then), fires in the same minute as another schedule's, a catch-up window
    holding more fires than the catch-up bound (catch_up all) or a missed daily fire lost
    (catch_up none), an end before the next fire, an at() in the past. Writes nothing."""
    report = lint_schedule(stores, body, bound)
    return LintOut(
        warnings=LintWarningOut.all_of(report),
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
) -> ScheduleDetailOut:
    """With the next fire times in UTC and in the schedule's timezone, the last run, and
    `budget_status`: what each of its budgets has committed in its current period."""
    view = use.get_schedule(stores, schedule_id, next_runs)
    spends = hold_spends(stores, schedule_holds(view.schedule, utcnow()))
    return ScheduleDetailOut(
        **ScheduleOut.of(view).model_dump(), budget_status=BudgetStatusOut.all_of(spends)
    )


@router.patch(
    "/{schedule_id}",
    dependencies=[CanWrite],
    response_model=ScheduleOrDryRun,  # the update's answer is a ScheduleOut
    responses={
        200: {
            "description": "the schedule updated, or a dry_run: the schedule as it would be, "
            "with the lint's warnings, nothing written",
        }
    },
)
def update_schedule(
    stores: StoresDep,
    schedule_id: PathId,
    body: use.SchedulePatch,
    bound: CatchUpBound,
    dry_run: Annotated[
        bool, Query(description="check and preview (next_runs, warnings) only: nothing written")
    ] = False,
) -> ScheduleOut | JSONResponse:
    """Each field named replaces the stored one (null clears start_at, end_at and
    flexible_window_minutes); a 503 leaves the schedule as it was. With `dry_run` the same
    checks run and the answer is the schedule as it would be, with its next runs and the
    warnings POST /schedules/lint gives for it (compared with the other schedules, not its
    stored self)."""
    if dry_run:
        return _dry_run(stores, use.plan_update(stores, schedule_id, body), bound)
    return ScheduleOut.of(
        use.view(use.update_schedule(stores, schedule_id, body), DEFAULT_NEXT_RUNS)
    )


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
    applies (409 naming the blocking job) unless `force` is true. A spent budget of the
    template or the schedule is a 409 with the reason, whatever `force`: raise the budget, or
    wait for its period to turn."""
    force = body.force if body else False
    job, created = trigger(stores, schedule_id, force, idempotency_key)
    if not created:
        mark_replayed(response)
    view = view_job(stores, job)
    return JobCreated(**JobOut.of(view).model_dump(), idempotent_replay=not created)
