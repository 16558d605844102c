"""Schedule management: create, read (with the next fire times), list, change, enable, disable,
delete. Each change reaches EventBridge Scheduler through `writes`, which keeps our record and
the EventBridge schedule together; `repair_drift` is exposed here for the periodic sync.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, Field

from jobsched.constants import (
    DEFAULT_CATCH_UP_WINDOW_MINUTES,
    MAX_CATCH_UP_WINDOW_MINUTES,
    MAX_FLEXIBLE_WINDOW_MINUTES,
)
from jobsched.dispatch.budgets import check_budgets
from jobsched.errors import (
    ConflictError,
    IdempotencyKeyTakenError,
    NotFoundError,
    ValidationFailedError,
    stale_version,
)
from jobsched.ids import new_id
from jobsched.jobs.idempotency import Operation, earlier, request_hash
from jobsched.jobs.jobs import template_for_new_jobs
from jobsched.models import (
    REQUEST_CONFIG,
    CatchUpPolicy,
    FromJson,
    OverlapPolicy,
    Schedule,
    SyncAction,
    utcnow,
)
from jobsched.models.budgets import MAX_BUDGETS, Budget
from jobsched.models.instants import TimeFromJson
from jobsched.params import JsonObject, merge_params
from jobsched.ports import IdempotencyClaim, Stores
from jobsched.priority import DEFAULT_PRIORITY, PriorityInput
from jobsched.schedules import writes
from jobsched.schedules.expressions import (
    FireTime,
    next_fire_times,
    parse_expression,
    validate_schedule,
)
from jobsched.schedules.writes import RepairReport, repair_drift

__all__ = ["RepairReport", "repair_drift"]

Name = Annotated[str, Field(min_length=1, max_length=200)]
TemplateId = Annotated[str, Field(min_length=1, max_length=64)]
ExpressionText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        description="EventBridge syntax: cron(min hour day-of-month month day-of-week year), "
        "rate(n unit) or at(yyyy-mm-ddThh:mm:ss)",
    ),
]
TimezoneName = Annotated[
    str, Field(min_length=1, max_length=64, description="an IANA name, e.g. Europe/London")
]
Window = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_FLEXIBLE_WINDOW_MINUTES,
        description="EventBridge may fire up to this many minutes after each time",
    ),
]
CatchUp = Annotated[
    CatchUpPolicy,
    FromJson,
    Field(
        description="what runs of the fire times missed (runtime stopped, schedule disabled, "
        "EventBridge undelivered): none, latest (the newest one within the window, once) or "
        "all within the window (at most JOBSCHED_CATCH_UP_MAX_FIRES, 10 by default, the "
        "newest); every missed time not run is recorded as a skipped run with the reason"
    ),
]
CatchUpWindow = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_CATCH_UP_WINDOW_MINUTES,
        description="missed times older than this many minutes are never run late",
    ),
]
Note = Annotated[str, Field(max_length=500, description="why the schedule is disabled")]
# A change to any of these is validated with the others, as a whole.
TIMING_FIELDS = frozenset({"expression", "timezone", "start_at", "end_at"})
NOT_NULLABLE = frozenset(
    {
        "name",
        "template_id",
        "params",
        "priority",
        "expression",
        "timezone",
        "overlap_policy",
        "catch_up",
        "catch_up_window_minutes",
        "budgets",
    }
)
BUDGETS_DOC = (
    f"Spend limits (at most {MAX_BUDGETS}): tokens and/or usd per day or month, in `timezone` "
    "(the schedule's unless given). A fire while one is spent is skipped, with the reason; a "
    "job of the schedule already queued waits until the period turns or the budget is raised. "
    "[] on PATCH removes them."
)


class ShownFields(BaseModel):
    """What a schedule's GET shows and only the server sets: a client may send them back (what
    the API returns, it accepts); they are checked, never applied."""

    model_config = REQUEST_CONFIG

    schedule_id: str | None = Field(default=None, description="read-only")
    version: int | None = Field(
        default=None, ge=1, description="read-only; on PATCH, the version you read (else 409)"
    )
    next_runs: list[dict[str, Any]] | None = Field(default=None, description="read-only")
    last_run: dict[str, Any] | None = Field(default=None, description="read-only")
    sync_pending: bool | None = Field(default=None, description="read-only")
    created_at: TimeFromJson | None = Field(default=None, description="read-only")
    updated_at: TimeFromJson | None = Field(default=None, description="read-only")
    budget_status: list[dict[str, Any]] | None = Field(
        default=None, max_length=MAX_BUDGETS, description="read-only"
    )


SHOWN = frozenset(ShownFields.model_fields)


class ScheduleCreate(ShownFields):
    model_config = REQUEST_CONFIG

    # Refused, never dropped in silence (a client may mean it): the server names a schedule.
    schedule_id: None = Field(default=None, description="leave out: the server names it")

    name: Name
    template_id: TemplateId
    params: JsonObject = Field(default_factory=dict)
    priority: PriorityInput = DEFAULT_PRIORITY
    expression: ExpressionText
    timezone: TimezoneName = "UTC"
    start_at: TimeFromJson | None = None
    end_at: TimeFromJson | None = None
    flexible_window_minutes: Window | None = None
    enabled: bool = True
    disabled_note: Note | None = None
    overlap_policy: Annotated[OverlapPolicy, FromJson] = OverlapPolicy.SKIP
    catch_up: CatchUp = CatchUpPolicy.LATEST
    catch_up_window_minutes: CatchUpWindow = DEFAULT_CATCH_UP_WINDOW_MINUTES
    budgets: list[Budget] = Field(
        default_factory=list, max_length=MAX_BUDGETS, description=BUDGETS_DOC
    )


class SchedulePatch(ShownFields):
    """Each field named replaces the stored one; null clears start_at, end_at and
    flexible_window_minutes. Enabled state has its own endpoints (`enabled` and
    `disabled_note` are taken only as they are, so a GET's body comes back whole)."""

    model_config = REQUEST_CONFIG

    enabled: bool | None = None
    disabled_note: Note | None = None

    name: Name | None = None
    template_id: TemplateId | None = None
    params: JsonObject | None = None
    priority: PriorityInput | None = None
    expression: ExpressionText | None = None
    timezone: TimezoneName | None = None
    start_at: TimeFromJson | None = None
    end_at: TimeFromJson | None = None
    flexible_window_minutes: Window | None = None
    overlap_policy: Annotated[OverlapPolicy, FromJson] | None = None
    catch_up: CatchUp | None = None
    catch_up_window_minutes: CatchUpWindow | None = None
    budgets: list[Budget] | None = Field(
        default=None, max_length=MAX_BUDGETS, description=BUDGETS_DOC
    )


@dataclass(frozen=True)
class ScheduleView:
    schedule: Schedule
    next_runs: list[FireTime]


def _check_note(enabled: bool, note: str | None) -> None:
    if enabled and note is not None:
        raise ValidationFailedError.on("disabled_note", "is for a disabled schedule only")


def create_schedule(
    stores: Stores, request: ScheduleCreate, now: datetime | None = None
) -> Schedule:
    schedule, _ = create_schedule_once(stores, request, None, now)
    return schedule


def create_schedule_once(
    stores: Stores,
    request: ScheduleCreate,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> tuple[Schedule, bool]:
    """A new schedule, in our table and EventBridge (writes.insert). Returns (schedule,
    created); with an Idempotency-Key used already for the same request, the schedule it made
    and False: nothing is written and EventBridge is not called again. The key is looked up
    first, since a retry may no longer pass the checks (an `at()` time passed meanwhile)."""
    digest = request_hash(Operation.CREATE_SCHEDULE, request) if idempotency_key else ""
    if idempotency_key:
        made = _made_with(stores, idempotency_key, digest)
        if made is not None:
            return made, False
    schedule = plan_schedule(stores, request, now)
    claim = (
        IdempotencyClaim(idempotency_key, digest, schedule.schedule_id) if idempotency_key else None
    )
    try:
        return writes.insert(stores, schedule, claim), True
    except IdempotencyKeyTakenError:  # a concurrent call with the key won
        assert idempotency_key is not None
        made = _made_with(stores, idempotency_key, digest)
        if made is None:  # it failed and let the key go meanwhile
            raise
        return made, False


def plan_schedule(stores: Stores, request: ScheduleCreate, now: datetime | None = None) -> Schedule:
    """The schedule `request` would create, every check made, nothing written (a dry run)."""
    now = now or utcnow()
    expression = validate_schedule(
        request.expression, request.timezone, request.start_at, request.end_at, now
    )
    _check_note(request.enabled, request.disabled_note)
    check_budgets(request.budgets)
    template = template_for_new_jobs(stores, request.template_id, fresh=True)
    return Schedule(
        **request.model_dump(exclude={"params", "expression", "priority", *SHOWN}),
        schedule_id=new_id("sch"),
        params=merge_params(template, request.params),
        priority=request.priority,
        expression=expression.text,
        created_at=now,
        updated_at=now,
    )


def _made_with(stores: Stores, key: str, digest: str) -> Schedule | None:
    """The schedule an earlier create with the key made, or None when the key is unused."""
    schedule_id = earlier(stores, key, digest)
    if schedule_id is None:
        return None
    schedule = stores.schedules.find(schedule_id)
    if schedule is None or (
        schedule.pending_sync and schedule.pending_sync.action == SyncAction.DELETE
    ):
        raise ConflictError(
            f"schedule {schedule_id!r}, created with this Idempotency-Key, was deleted since"
        )
    if schedule.version == 1 and schedule.pending_sync is not None:
        # Its EventBridge write is in flight (or awaits repair): answering 2xx now could
        # name a schedule that the first call is about to roll back.
        raise ConflictError(
            f"schedule {schedule_id!r}, created with this Idempotency-Key, is still being "
            "applied; retry shortly"
        )
    return schedule


def find_live(stores: Stores, schedule_id: str) -> Schedule:
    """The schedule, unless it is gone or being deleted (404 either way)."""
    schedule = stores.schedules.get(schedule_id)
    if schedule.pending_sync and schedule.pending_sync.action == SyncAction.DELETE:
        raise NotFoundError(f"no schedule {schedule_id!r}")
    return schedule


def next_version(current: Schedule, changes: dict[str, Any], now: datetime) -> Schedule:
    # Validated from plain data: model_copy(update=...) would skip the field rules.
    data = {**current.model_dump(), **changes}
    return Schedule.model_validate(
        {**data, "version": current.version + 1, "updated_at": now, "pending_sync": None}
    )


def _patch_changes(
    stores: Stores, current: Schedule, patch: SchedulePatch, now: datetime
) -> dict[str, Any]:
    _check_shown(current, patch)
    named = patch.model_fields_set - SHOWN - {"enabled", "disabled_note"}
    # A field sent as it is stored is no change (a GET's body sent back changes nothing).
    changes = {
        name: getattr(patch, name)
        for name in named
        if getattr(patch, name) != getattr(current, name)
    }
    for name in NOT_NULLABLE & changes.keys():
        if changes[name] is None:
            raise ValidationFailedError.on(name, "cannot be null")
    if "budgets" in changes:
        check_budgets(changes["budgets"])
    if TIMING_FIELDS & changes.keys():
        merged = {**current.model_dump(), **changes}
        changes["expression"] = validate_schedule(
            merged["expression"], merged["timezone"], merged["start_at"], merged["end_at"], now
        ).text
    if {"template_id", "params"} & changes.keys():
        # New params go over the (new) template's defaults; a new template without params
        # starts from its own defaults, since the old params were made for another template.
        template_id = changes.get("template_id", current.template_id)
        template = template_for_new_jobs(stores, template_id, fresh=True)
        changes["params"] = merge_params(template, changes.get("params") or {})
    return changes


def _check_shown(current: Schedule, patch: SchedulePatch) -> None:
    if patch.schedule_id is not None and patch.schedule_id != current.schedule_id:
        raise ValidationFailedError.on("schedule_id", "is read-only: the path names the schedule")
    if patch.version is not None and patch.version != current.version:
        raise stale_version(f"schedule {current.schedule_id!r}", current.version, patch.version)
    for name in ("enabled", "disabled_note"):
        if name in patch.model_fields_set and getattr(patch, name) != getattr(current, name):
            raise ValidationFailedError.on(name, "changes only through /enable and /disable")


def update_schedule(
    stores: Stores, schedule_id: str, patch: SchedulePatch, now: datetime | None = None
) -> Schedule:
    now = now or utcnow()
    current = find_live(stores, schedule_id)
    planned = _planned(stores, current, patch, now)
    if planned is current:
        return current
    changed = writes.change(stores, current, planned, writes.put)
    if planned.budgets != current.budgets:
        stores.kicker.kick()  # a raised budget lets its waiting jobs start now
    if any(getattr(planned, name) != getattr(current, name) for name in TIMING_FIELDS):
        # The old timing's times are not the new one's missed times: catch-up starts here.
        stores.schedules.advance_fired_through(schedule_id, now)
    return changed


def plan_update(
    stores: Stores, schedule_id: str, patch: SchedulePatch, now: datetime | None = None
) -> Schedule:
    """The schedule as `patch` would make it, checked as an update is; nothing written."""
    return _planned(stores, find_live(stores, schedule_id), patch, now or utcnow())


def _planned(stores: Stores, current: Schedule, patch: SchedulePatch, now: datetime) -> Schedule:
    """`current` itself when the patch changes nothing, else its next version."""
    changes = _patch_changes(stores, current, patch, now)
    return next_version(current, changes, now) if changes else current


def set_enabled(
    stores: Stores,
    schedule_id: str,
    enabled: bool,
    note: str | None = None,
    now: datetime | None = None,
) -> Schedule:
    """Enable (clears the note) or disable (with an optional note on why). Enabling checks
    nothing about the expression: a one-time schedule whose time has passed just never fires."""
    current = find_live(stores, schedule_id)
    note = None if enabled else note
    if current.enabled == enabled and current.disabled_note == note:
        return current
    updated = next_version(current, {"enabled": enabled, "disabled_note": note}, now or utcnow())
    return writes.change(stores, current, updated, writes.put_state)


def delete_schedule(stores: Stores, schedule_id: str) -> None:
    writes.remove(stores, find_live(stores, schedule_id))


def upcoming(schedule: Schedule, count: int, now: datetime) -> list[FireTime]:
    """The next `count` fire times; none for a disabled schedule, which will not fire."""
    if not schedule.enabled or count <= 0:
        return []
    expression = parse_expression(schedule.expression)
    # rate() counts from its start; without a start_at EventBridge starts it when created,
    # and fires at once: until that first fire is recorded (within its first interval), it is
    # the next one, though a preview made just after the creation is later than it.
    start_at = schedule.start_at
    after = now
    if expression.kind == "rate" and start_at is None:
        start_at = schedule.created_at
        assert expression.every is not None
        if schedule.last_run is None and now < start_at + expression.every:
            after = min(now, start_at - timedelta(microseconds=1))
    return next_fire_times(expression, schedule.timezone, after, count, start_at, schedule.end_at)


def get_schedule(
    stores: Stores, schedule_id: str, next_runs: int, now: datetime | None = None
) -> ScheduleView:
    schedule = find_live(stores, schedule_id)
    return ScheduleView(schedule, upcoming(schedule, next_runs, now or utcnow()))


def view(schedule: Schedule, next_runs: int, now: datetime | None = None) -> ScheduleView:
    return ScheduleView(schedule, upcoming(schedule, next_runs, now or utcnow()))


def list_schedules(
    stores: Stores,
    template_id: str | None,
    limit: int,
    cursor: str | None,
    next_runs: int,
    now: datetime | None = None,
) -> tuple[list[ScheduleView], str | None]:
    """Newest first. A schedule being deleted is left out (a page may be one short)."""
    now = now or utcnow()
    page = stores.schedules.list_page(template_id, limit, cursor)
    views = [
        view(schedule, next_runs, now)
        for schedule in page.items
        if not (schedule.pending_sync and schedule.pending_sync.action == SyncAction.DELETE)
    ]
    return views, page.next_cursor
