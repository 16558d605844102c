"""The entities of the scheduler (spec: "Entity Mapping", proposed models)."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict
from pydantic.config import JsonValue

from jobsched.constants import DEFAULT_CATCH_UP_WINDOW_MINUTES
from jobsched.models.budgets import Budget, BudgetHold
from jobsched.models.concurrency import ConcurrencyLimit, KeyHold
from jobsched.models.gates import Checks, FailedCheck
from jobsched.models.usage import Usage
from jobsched.priority import DEFAULT_PRIORITY, PriorityValue
from jobsched.ranks import QueueRank


def utcnow() -> datetime:
    return datetime.now(UTC)


class Status(StrEnum):
    """A status enum that also takes its values in upper case (QUEUED, as the spec writes it)."""

    @classmethod
    def _missing_(cls, value: object) -> "Status | None":
        if isinstance(value, str):
            for member in cls:
                if member.value == value.lower():
                    return member
        return None


class JobStatus(Status):
    QUEUED = "queued"
    HELD = "held"  # queued, keeping its place, passed over until released
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class RunStatus(Status):
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    # Ended with outputs that failed its template's checks (jobsched/gates): a failed run.
    REJECTED = "rejected"


class GroupMode(StrEnum):
    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"


class GroupStatus(Status):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIAL = "partial"
    CANCELLED = "cancelled"


class OnFailure(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"


class ReservationStatus(Status):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class OverlapPolicy(StrEnum):
    SKIP = "skip"
    ALLOW = "allow"
    BUFFER_ONE = "buffer_one"


class CatchUpPolicy(StrEnum):
    """What happens to a schedule's fire times that passed unfired."""

    NONE = "none"  # recorded as skipped, never run late
    LATEST = "latest"  # the newest missed time within the window runs once
    ALL = "all"  # every missed time within the window runs, up to the bound


class UnitKind(StrEnum):
    """What holds a slot: one job, a parallel group (all its jobs), or a reservation."""

    JOB = "job"
    GROUP = "group"
    RESERVATION = "reservation"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


# Request bodies take each value as the JSON type it must be (`false` is no number, "2" no int);
# FromJson marks the fields that a JSON string stands for (an enum's value); a time is
# models.instants.TimeFromJson, which takes RFC 3339 text only.
REQUEST_CONFIG = ConfigDict(extra="forbid", strict=True)
FromJson = Strict(False)


def exactly_one_of(*names: str) -> ConfigDict:
    """REQUEST_CONFIG for a body that takes exactly one of `names` (null counts as absent),
    with the rule stated in its JSON schema as a oneOf."""
    one_of: list[JsonValue] = [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names
    ]
    return ConfigDict(extra="forbid", strict=True, json_schema_extra={"oneOf": one_of})


class Entity(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)


class RetryPolicy(Entity):
    # Strict: a template's request takes it as sent (stored values are numbers already).
    max_attempts: Annotated[int, Strict()] = Field(default=1, ge=1, le=20)
    backoff_seconds: Annotated[float, Strict()] = Field(default=30.0, ge=0, le=86_400)
    backoff_multiplier: Annotated[float, Strict()] = Field(default=2.0, ge=1, le=10)


class Hold(Entity):
    """Why a job is held, and by whom (an API key's id and name, never its secret)."""

    note: str | None = None
    held_by: str | None = None
    held_by_name: str | None = None
    held_at: datetime = Field(default_factory=utcnow)


class JobTemplate(Entity):
    template_id: str
    name: str
    description: str = ""
    workload: str
    default_params: dict[str, Any] = Field(default_factory=dict)
    params_schema: dict[str, Any] = Field(default_factory=dict)
    cpu: int = 1024
    memory: int = 2048
    timeout_seconds: int = 3600
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    concurrency: list[ConcurrencyLimit] = Field(default_factory=list)
    checks: Checks = Field(default_factory=list)  # quality gates on its runs' outputs
    # Spend limits (models/budgets.py): the current version's hold every job of the template.
    budgets: list[Budget] = Field(default_factory=list)
    version: int = 1
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Job(Entity):
    job_id: str
    template_id: str
    # The template version its params were made and checked against; it runs with that
    # version. None for a job enqueued before versions were recorded (it runs with the current).
    template_version: int | None = None
    schedule_id: str | None = None
    group_id: str | None = None
    # A rerun (POST /jobs/{id}/rerun): the job it reruns, and the first job of that chain,
    # which every rerun made from it, however deep, names (what its lineage is read by).
    rerun_of: str | None = None
    lineage_root: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    priority: PriorityValue = DEFAULT_PRIORITY
    status: JobStatus = JobStatus.QUEUED
    rank: str | None = None  # set while QUEUED or HELD; the queue order key (see ranks.py)
    hold: Hold | None = None  # set while HELD
    group_mode: GroupMode | None = None
    group_index: int | None = None  # its place in the group's job_ids
    attempt: int = 0
    last_run_id: str | None = None
    not_before: datetime | None = None
    # Started at once beside the queue, holding no slot (the legacy USE_SCHEDULER=false path).
    outside_queue: bool = False
    # Resolved at enqueue from its template version's limits: the claim and every ender of its
    # run need no template read (jobsched/dispatch/concurrency.py).
    concurrency_keys: list[KeyHold] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class JobRun(Entity):
    run_id: str
    job_id: str
    template_id: str
    template_version: int | None = None  # the version it ran with (its job's)
    schedule_id: str | None = None
    group_id: str | None = None
    status: RunStatus = RunStatus.STARTED
    attempt: int = 1
    slot: str | None = None
    heartbeat_at: float | None = None
    # What the worker itself reported at exit: lets a lost dispatcher's run be reconciled.
    worker_exit_code: int | None = None
    worker_artifacts: str | None = None  # a JSON list, as the worker wrote it
    worker_usage: str | None = None  # its usage report (JSON), as it wrote it
    live_usage: str | None = None  # what it used so far (JSON), as its latest heartbeat said
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    pid: int | None = None
    task_arn: str | None = None
    exit_code: int | None = None
    error: str | None = None
    artifacts: list[str] = Field(default_factory=list)
    log_path: str | None = None
    usage: Usage | None = None  # what its model calls used, once it ended (models/usage.py)
    # Set on a REJECTED run: the checks of its template version that its outputs failed.
    failed_checks: list[FailedCheck] | None = None
    # The budgets its claim charged (models/budgets.py): its end settles them.
    budget_holds: list[BudgetHold] = Field(default_factory=list)


class WebhookResult(Entity):
    """The outcome of a group's webhook: delivered, failed (and why), or refused unsent."""

    status: str  # delivered | failed | refused (jobsched.webhooks.sender.DeliveryStatus)
    attempts: int = 0
    status_code: int | None = None  # the last answer's
    error: str | None = None
    delivery_id: str | None = None
    at: datetime = Field(default_factory=utcnow)


class JobGroup(Entity):
    group_id: str
    name: str | None = None
    mode: GroupMode = GroupMode.PARALLEL
    job_ids: list[str] = Field(default_factory=list)
    status: GroupStatus = GroupStatus.QUEUED
    next_index: int = 0  # sequential: the index of the job whose turn it is
    completed: int = 0
    failed: int = 0
    priority: PriorityValue = DEFAULT_PRIORITY
    on_failure: OnFailure = OnFailure.CONTINUE
    max_parallel: int | None = None
    webhook_url: str | None = None
    # Held (POST /groups/{id}/hold): a parallel group does not start while it has one
    hold: Hold | None = None
    outside_queue: bool = False  # a legacy batch whose jobs all started at once
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    notified_at: datetime | None = None  # when its webhook was claimed (sent at most once)
    webhook: WebhookResult | None = None  # what became of that one delivery


class FireOutcome(StrEnum):
    """What became of one fire (or manual trigger) of a schedule."""

    ENQUEUED = "enqueued"  # a job was created
    SKIPPED = "skipped"  # recorded as a SKIPPED run, with the reason


class LastRun(Entity):
    """The latest fire of a schedule, as its record shows it."""

    fired_at: datetime  # when we handled it
    scheduled_time: datetime | None = None  # the time EventBridge (or the ticker) fired for
    job_id: str | None = None  # the job it created
    run_id: str | None = None  # the SKIPPED run it recorded instead
    outcome: FireOutcome
    reason: str | None = None  # why it was skipped
    manual: bool = False  # POST /schedules/{id}/trigger rather than a timed fire


class SyncAction(StrEnum):
    APPLY = "apply"  # make the EventBridge schedule match this record
    DELETE = "delete"  # delete the EventBridge schedule, then this record


class PendingSync(Entity):
    """Set on a schedule record before its EventBridge schedule is written and cleared after:
    a record that keeps it (the process died, or a rollback failed) is what drift repair finds."""

    action: SyncAction = SyncAction.APPLY
    since: datetime = Field(default_factory=utcnow)


class Schedule(Entity):
    schedule_id: str
    name: str
    template_id: str
    params: dict[str, Any] = Field(default_factory=dict)  # the template's defaults merged in
    priority: PriorityValue = DEFAULT_PRIORITY
    expression: str  # normalised EventBridge syntax: cron(...), rate(...) or at(...)
    timezone: str = "UTC"
    start_at: datetime | None = None
    end_at: datetime | None = None
    flexible_window_minutes: int | None = None
    enabled: bool = True
    disabled_note: str | None = None
    overlap_policy: OverlapPolicy = OverlapPolicy.SKIP
    catch_up: CatchUpPolicy = CatchUpPolicy.LATEST
    catch_up_window_minutes: int = DEFAULT_CATCH_UP_WINDOW_MINUTES
    budgets: list[Budget] = Field(default_factory=list)  # in its time zone unless they say
    last_run: LastRun | None = None
    # The latest scheduled time handled (fired, skipped or caught up); only moves forward.
    # Like last_run, written by its own update (advance_fired_through), never by a versioned one.
    fired_through: datetime | None = None
    pending_sync: PendingSync | None = None
    version: int = 1  # every write but a fire's last_run is conditional on it
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Reservation(Entity):
    """A direct API call waiting for the next slot; never a Job."""

    reservation_id: str
    template_id: str
    params: dict[str, Any] = Field(default_factory=dict)
    status: ReservationStatus = ReservationStatus.PENDING
    slot: str | None = None
    exit_code: int | None = None
    heartbeat_at: float | None = None
    worker_exit_code: int | None = None
    worker_artifacts: str | None = None
    worker_usage: str | None = None  # written by the same result transaction as a run's
    usage: Usage | None = None  # what its model calls used, once it ended
    result: dict[str, Any] | None = None
    artifacts: list[str] = Field(default_factory=list)
    log_path: str | None = None
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class QueueEntry(Entity):
    """One place in the queue, with what the queue view and the dispatcher need of its unit.

    `job_id` is the reservation's id for a reservation.
    """

    job_id: str
    rank: str
    kind: UnitKind = UnitKind.JOB
    template_id: str
    template_version: int | None = None
    priority: PriorityValue
    group_id: str | None = None
    group_mode: GroupMode | None = None
    group_index: int | None = None
    schedule_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)  # what the executor needs, read once
    attempt: int = 0
    not_before: float | None = None  # epoch seconds: a retry waits until then
    hold: Hold | None = None  # held: listed at its place, passed over by the dispatcher
    concurrency_keys: list[KeyHold] = Field(default_factory=list)  # the job's, for the claim
    created_at: datetime

    @classmethod
    def of_job(cls, job: Job, rank: QueueRank, not_before: float | None = None) -> "QueueEntry":
        """A queued job's place at `rank` (its priority is the rank's band's)."""
        return cls(
            job_id=job.job_id,
            rank=rank.key,
            template_id=job.template_id,
            template_version=job.template_version,
            priority=rank.priority,
            group_id=job.group_id,
            group_mode=job.group_mode,
            group_index=job.group_index,
            schedule_id=job.schedule_id,
            params=job.params,
            attempt=job.attempt,
            not_before=not_before,
            concurrency_keys=job.concurrency_keys,
            created_at=job.created_at,
        )


class SlotLease(Entity):
    """One dispatch slot (SLOTS of them) and what holds it until when."""

    slot: str
    holder: str | None = None  # a run id, a group id or a reservation id
    kind: UnitKind | None = None
    lease_until: float = 0.0  # epoch seconds; extended by the worker's heartbeat
    taken_at: datetime | None = None


class ApiKey(Entity):
    key_id: str
    name: str
    scopes: list[Scope]
    key_hash: str
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None

    def allows(self, scope: Scope) -> bool:
        """admin implies write implies read."""
        order = [Scope.READ, Scope.WRITE, Scope.ADMIN]
        return any(order.index(held) >= order.index(scope) for held in self.scopes)


class QueueState(Entity):
    paused: bool = False
    changed_at: datetime | None = None
    changed_by: str | None = None  # the id of the API key that paused or resumed it
    note: str | None = None  # why, as the person who paused (or resumed) it said


class QueueStats(Entity):
    counts_by_status: dict[str, int]
    queued_by_template: dict[str, int]
    oldest_queued_at: datetime | None
    oldest_wait_seconds: float | None
    running: list[str]
    state: QueueState = Field(default_factory=QueueState)
    paused: bool
    skipped_fires: int = 0  # schedule fires recorded as SKIPPED runs (overlap, archived template)
    rejected_runs: int = 0  # runs whose outputs failed their template's checks
