"""Response shapes (spec: "Job Status Response Evolution", proposed). Requests reuse the core's
command models (jobsched.jobs.*), which already hold the field rules."""

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field

from jobsched.jobs.jobs import JobView
from jobsched.models import (
    CatchUpPolicy,
    FireOutcome,
    GroupMode,
    GroupStatus,
    JobGroup,
    JobRun,
    JobStatus,
    JobTemplate,
    LastRun,
    OnFailure,
    OverlapPolicy,
    QueueEntry,
    Reservation,
    ReservationStatus,
    RunStatus,
)
from jobsched.models.instants import Instant
from jobsched.priority import PRIORITY_SCHEMA, display_priority
from jobsched.schedules.expressions import FireTime
from jobsched.schedules.usecases import ScheduleView

T = TypeVar("T")
PriorityOut = Annotated[str | int, PRIORITY_SCHEMA]  # a level's name, else the int


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")


class RunSummary(BaseModel):
    run_id: str
    status: RunStatus
    attempt: int
    started_at: Instant
    finished_at: Instant | None
    pid: int | None
    exit_code: int | None


class RunOut(RunSummary):
    job_id: str
    template_id: str
    template_version: int | None = Field(
        default=None, description="the template version it ran with (none before versions)"
    )
    schedule_id: str | None
    group_id: str | None
    task_arn: str | None
    error: str | None
    artifacts: list[str]
    log_path: str | None

    @classmethod
    def of(cls, run: JobRun) -> "RunOut":
        return cls.model_validate(run.model_dump())


class JobOut(BaseModel):
    job_id: str
    template_id: str
    template_name: str | None
    template_version: int | None = Field(
        default=None, description="the template version it was made from and runs with"
    )
    schedule_id: str | None
    group_id: str | None
    params: dict[str, Any]
    status: JobStatus
    queue_position: int | None = Field(description="1-based place in the queue while queued")
    priority: PriorityOut
    attempt: int
    created_at: Instant
    updated_at: Instant
    finished_at: Instant | None
    run: RunSummary | None = Field(description="the latest run, if the job has started")

    @classmethod
    def of(cls, view: JobView) -> "JobOut":
        job = view.job
        run = RunSummary.model_validate(view.run.model_dump()) if view.run else None
        return cls(
            **job.model_dump(
                include={
                    "job_id",
                    "template_id",
                    "template_version",
                    "schedule_id",
                    "group_id",
                    "params",
                    "status",
                    "attempt",
                    "created_at",
                    "updated_at",
                    "finished_at",
                }
            ),
            template_name=view.template_name,
            queue_position=view.queue_position,
            priority=display_priority(job.priority),
            run=run,
        )


class JobCreated(JobOut):
    idempotent_replay: bool = Field(
        default=False, description="true when an Idempotency-Key returned an earlier job"
    )


class TemplateFields(BaseModel):
    """What a template holds at a version: the template's answer and a version's share it."""

    template_id: str
    name: str
    description: str
    workload: str
    default_params: dict[str, Any]
    params_schema: dict[str, Any]
    cpu: int
    memory: int
    timeout_seconds: int
    retry: dict[str, Any]
    version: int


class TemplateOut(TemplateFields):
    archived: bool
    created_at: Instant
    updated_at: Instant

    @classmethod
    def of(cls, template: JobTemplate) -> "TemplateOut":
        return cls.model_validate(template.model_dump())


class WebhookResultOut(BaseModel):
    status: str = Field(description="delivered, failed (attempts used up) or refused (never sent)")
    attempts: int
    status_code: int | None = Field(description="the receiver's last answer")
    error: str | None
    delivery_id: str | None
    at: Instant


class TemplateVersionOut(TemplateFields):
    """One version as it was saved; whether the template is archived now is the template's."""

    created_at: Instant = Field(description="when the template was created")
    updated_at: Instant = Field(description="when this version was saved")

    @classmethod
    def of(cls, template: JobTemplate) -> "TemplateVersionOut":
        return cls.model_validate(template.model_dump(exclude={"archived"}))


class GroupOut(BaseModel):
    group_id: str
    name: str | None
    mode: GroupMode
    job_ids: list[str]
    status: GroupStatus
    priority: PriorityOut
    on_failure: OnFailure
    max_parallel: int | None
    webhook_url: str | None
    created_at: Instant
    started_at: Instant | None
    finished_at: Instant | None
    notified_at: Instant | None = None  # when its webhook was sent (claimed), at most once
    webhook: WebhookResultOut | None = Field(
        default=None, description="what became of its webhook: delivered, failed or refused, why"
    )

    @classmethod
    def of(cls, group: JobGroup) -> "GroupOut":
        return cls.model_validate(group.model_dump(mode="json"))


QUEUE_ITEM_FIELDS = {"job_id", "template_id", "priority", "group_id", "schedule_id", "created_at"}


class QueueItemOut(BaseModel):
    position: int
    job_id: str
    template_id: str
    priority: PriorityOut
    group_id: str | None
    schedule_id: str | None
    created_at: Instant

    @classmethod
    def of(cls, position: int, entry: QueueEntry) -> "QueueItemOut":
        return cls(position=position, **entry.model_dump(mode="json", include=QUEUE_ITEM_FIELDS))


class QueuedReservationOut(BaseModel):
    reservation_id: str
    template_id: str
    created_at: Instant

    @classmethod
    def of(cls, entry: QueueEntry) -> "QueuedReservationOut":
        return cls(
            reservation_id=entry.job_id,
            template_id=entry.template_id,
            created_at=entry.created_at,
        )


class QueueOut(PageOut[QueueItemOut]):
    paused: bool
    state: "QueueStateOut"
    reservations: list[QueuedReservationOut] = Field(
        default_factory=list,
        description="pending next-slot reservations, which run before every queued job in "
        "this order (first page only)",
    )


class ReservationOut(BaseModel):
    reservation_id: str
    template_id: str
    params: dict[str, Any]
    status: ReservationStatus
    exit_code: int | None
    error: str | None
    result: dict[str, Any] | None
    artifacts: list[str]
    log_path: str | None
    created_at: Instant
    started_at: Instant | None
    finished_at: Instant | None

    @classmethod
    def of(cls, reservation: Reservation) -> "ReservationOut":
        return cls.model_validate(reservation.model_dump(include=set(cls.model_fields)))


class RunLogsOut(BaseModel):
    lines: list[str] = Field(description="log lines, oldest first (JSON lines from the worker)")
    next_cursor: str | None = Field(
        description="pass as ?cursor= to read on; a running job's log grows behind it"
    )


class QueueStateOut(BaseModel):
    paused: bool
    changed_at: Instant | None
    changed_by: str | None = Field(
        default=None, description="the id of the API key that paused or resumed the queue"
    )
    note: str | None = Field(default=None, description="why, as given to pause or resume")


class QueueStatsOut(BaseModel):
    counts_by_status: dict[str, int]
    queued_by_template: dict[str, int]
    queued: int
    oldest_queued_at: Instant | None
    oldest_wait_seconds: float | None
    running: list[str]
    paused: bool
    state: QueueStateOut
    skipped_fires: int = Field(
        description="schedule fires recorded as skipped runs (GET /runs?status=skipped)"
    )


class FireTimeOut(BaseModel):
    utc: Instant
    local: datetime = Field(description="the same time in the schedule's timezone")
    note: str | None = Field(
        description="set where a daylight-saving change moves or removes the wall-clock time"
    )

    @classmethod
    def of(cls, fire: FireTime) -> "FireTimeOut":
        return cls(utc=fire.at, local=fire.local, note=fire.note)


class LastRunOut(BaseModel):
    fired_at: Instant
    scheduled_time: Instant | None = Field(description="the time it fired for; null if manual")
    job_id: str | None = Field(description="the job it created")
    run_id: str | None = Field(description="the skipped run it recorded instead")
    outcome: FireOutcome
    reason: str | None
    manual: bool = Field(description="true for POST /schedules/{id}/trigger")

    @classmethod
    def of(cls, last_run: LastRun) -> "LastRunOut":
        return cls.model_validate(last_run.model_dump())


class ScheduleOut(BaseModel):
    schedule_id: str
    name: str
    template_id: str
    params: dict[str, Any]
    priority: PriorityOut
    expression: str
    timezone: str
    start_at: Instant | None
    end_at: Instant | None
    flexible_window_minutes: int | None
    enabled: bool
    disabled_note: str | None
    overlap_policy: OverlapPolicy
    catch_up: CatchUpPolicy = Field(description="what runs of missed fire times")
    catch_up_window_minutes: int = Field(description="missed times older than this never run")
    next_runs: list[FireTimeOut] = Field(description="the next fire times; none when disabled")
    last_run: LastRunOut | None
    sync_pending: bool = Field(
        description="true while EventBridge Scheduler has not yet taken the latest change"
    )
    version: int
    created_at: Instant
    updated_at: Instant

    @classmethod
    def of(cls, view: ScheduleView) -> "ScheduleOut":
        schedule = view.schedule
        return cls(
            **schedule.model_dump(
                exclude={"priority", "last_run", "pending_sync", "fired_through"},
            ),
            priority=display_priority(schedule.priority),
            next_runs=[FireTimeOut.of(fire) for fire in view.next_runs],
            last_run=LastRunOut.of(schedule.last_run) if schedule.last_run else None,
            sync_pending=schedule.pending_sync is not None,
        )
