"""Response shapes (spec: "Job Status Response Evolution", proposed). Requests reuse the core's
command models (jobsched.jobs.*), which already hold the field rules."""

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, computed_field

from jobsched.foresight.estimates import Eta
from jobsched.jobs import queue as queue_use
from jobsched.jobs.artifact_diff import ArtifactChange, RunsDiff
from jobsched.jobs.budget_waits import BudgetWait
from jobsched.jobs.jobs import JobView, get_job
from jobsched.models import (
    ApiKey,
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
    Scope,
)
from jobsched.models.budgets import (
    MICRO,
    Budget,
    BudgetHold,
    BudgetPeriod,
    BudgetScope,
    BudgetSpend,
    OnExceed,
)
from jobsched.models.concurrency import ConcurrencyLimit, KeyHold
from jobsched.models.gates import Check, FailedCheck
from jobsched.models.instants import Instant
from jobsched.models.usage import UsageTotals
from jobsched.ports import Stores
from jobsched.priority import PRIORITY_SCHEMA, display_priority
from jobsched.schedules.expressions import FireTime
from jobsched.schedules.lint import LintReport
from jobsched.schedules.usecases import ScheduleView

T = TypeVar("T")
PriorityOut = Annotated[str | int, PRIORITY_SCHEMA]  # a level's name, else the int


EtaStateOut = Literal["estimated", "running", "paused", "held", "budget", "unknown"]


class EtaOut(BaseModel):
    """When a unit should start and finish: the median (p50) and a late case (p90) of a replay
    of the dispatcher over the queue, with durations drawn from recent completed runs."""

    state: EtaStateOut = Field(
        description="estimated (queued), running (started: its finish), paused (the queue is "
        "paused: no estimate), held (starts only once released), budget (a spent budget holds "
        "it: it starts no earlier than the period turns, as `reason` says), unknown (waits on a "
        "held job of its group)"
    )
    start_p50: Instant | None
    start_p90: Instant | None
    finish_p50: Instant | None
    finish_p90: Instant | None
    reason: str | None = Field(
        description="why there is no estimate, or (budget) which spent budget it waits for"
    )
    basis: Literal["history", "pooled", "default"] | None = Field(
        description="the durations drawn: the template's own newest completed runs, all "
        "templates' (it has none yet), or an assumed five minutes (nothing ever completed)"
    )
    unread_ahead: int = Field(
        description="jobs ahead that were counted but not read, drawn from the mix of those read"
    )

    @classmethod
    def of(cls, eta: Eta | None) -> "EtaOut | None":
        return None if eta is None else cls.model_validate(eta, from_attributes=True)


ETA_DESCRIPTION = "estimated start and finish (p50, p90); null once it ended"


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")


class _TokensOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ModelUsageOut(_TokensOut):
    model: str = Field(description="as the template's params named it, e.g. gpt-4o-mini")
    calls: int
    cost_usd: float = Field(description="US$ of its priced calls")
    unpriced_calls: int = Field(description="calls the provider could not price")


class UsageOut(_TokensOut):
    """What a run's model calls used, as its worker reported at exit."""

    calls: int
    cost_usd: float = Field(
        description="US$ (LiteLLM's pricing of each call; 0 with the offline provider), "
        "of the priced calls only"
    )
    unpriced_calls: int = Field(description="calls the provider could not price")
    by_model: list[ModelUsageOut]


class UsageTotalsOut(_TokensOut):
    """Runs' usage added up."""

    runs: int = Field(description="runs that reported usage")
    calls: int
    cost_usd: float = Field(description="US$ of the priced calls")
    unpriced_calls: int

    @classmethod
    def of(cls, totals: UsageTotals) -> "UsageTotalsOut":
        return cls(
            runs=totals.runs,
            calls=totals.calls,
            prompt_tokens=totals.prompt_tokens,
            completion_tokens=totals.completion_tokens,
            cost_usd=totals.cost_usd,
            unpriced_calls=totals.unpriced_calls,
        )


class UsageGroupOut(UsageTotalsOut):
    id: str = Field(description="the template's (or schedule's) id")


class UsageReportOut(BaseModel):
    by: Literal["template", "schedule"]
    since: Instant = Field(description="the start of the first UTC hour added up")
    until: Instant = Field(description="the end of the last UTC hour added up")
    groups: list[UsageGroupOut]
    total: UsageTotalsOut


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
    usage: UsageOut | None = Field(
        default=None, description="what its model calls used; null while it runs or if none"
    )
    failed_checks: list[FailedCheck] | None = Field(
        default=None,
        description="a rejected run's failed checks (its template version's quality gates)",
    )

    @classmethod
    def of(cls, run: JobRun) -> "RunOut":
        return cls.model_validate(run.model_dump())


class ArtifactComparisonOut(BaseModel):
    name: str = Field(description="its path under the run's outputs, e.g. story.json")
    change: ArtifactChange = Field(
        description="identical, changed, added (in `run` only), removed (in `against` only), "
        "unreadable (see detail) or not_compared (past the bytes one comparison reads)"
    )
    detail: str | None = Field(default=None, description="why it was not compared")


class RunsDiffOut(BaseModel):
    run: RunOut = Field(description="the run whose artifacts are compared (the diff's + side)")
    against: RunOut = Field(description="the run they are compared with (the diff's - side)")
    name: str | None = Field(description="the artifact asked for; null: every artifact")
    identical: bool = Field(
        description="the artifact's text is the same in both runs; without `name`: both runs "
        "have the same artifacts with the same bytes"
    )
    artifacts: list[ArtifactComparisonOut] = Field(
        description="the artifact asked for, or every artifact of either run, by name"
    )
    diff: list[str] = Field(
        description="the unified diff from `against` to `run`, one line an item without its "
        "line end (empty when identical, or without `name`)"
    )
    diff_truncated: bool = Field(description="the diff had more lines than are answered")

    @classmethod
    def of(cls, found: RunsDiff) -> "RunsDiffOut":
        return cls(
            run=RunOut.of(found.run),
            against=RunOut.of(found.against),
            name=found.name,
            identical=found.identical,
            artifacts=[
                ArtifactComparisonOut(name=a.name, change=a.change, detail=a.detail)
                for a in found.artifacts
            ],
            diff=found.diff,
            diff_truncated=found.truncated,
        )


class HoldOut(BaseModel):
    note: str | None = Field(description="why it is held, as the holder said")
    held_by: str | None = Field(description="the id of the API key that held it")
    held_by_name: str | None = Field(description="that key's name")
    held_at: Instant


class JobOut(BaseModel):
    job_id: str
    template_id: str
    template_name: str | None
    template_version: int | None = Field(
        default=None, description="the template version it was made from and runs with"
    )
    schedule_id: str | None
    group_id: str | None
    rerun_of: str | None = Field(
        default=None, description="the job this one reruns (POST /jobs/{job_id}/rerun)"
    )
    params: dict[str, Any]
    status: JobStatus
    queue_position: int | None = Field(
        description="1-based place in the queue while queued or held (a held job keeps it)"
    )
    hold: HoldOut | None = Field(
        default=None, description="set while held: passed over by dispatch until released"
    )
    priority: PriorityOut
    attempt: int
    created_at: Instant
    updated_at: Instant
    finished_at: Instant | None
    run: RunSummary | None = Field(description="the latest run, if the job has started")
    concurrency_keys: list[KeyHold] = Field(
        default_factory=list,
        description="the concurrency keys it is held to (its template version's, resolved from "
        "its params when it was queued): it runs while each key's counter has a free place",
    )

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
                    "rerun_of",
                    "params",
                    "status",
                    "concurrency_keys",
                    "attempt",
                    "created_at",
                    "updated_at",
                    "finished_at",
                }
            ),
            template_name=view.template_name,
            queue_position=view.queue_position,
            hold=HoldOut.model_validate(job.hold.model_dump()) if job.hold else None,
            priority=display_priority(job.priority),
            run=run,
        )


class SpentBudgetOut(BaseModel):
    """One spent budget a queued job is held to, in the period it is counted in now."""

    scope: BudgetScope = Field(description="whose budget: the job's template's or schedule's")
    scope_id: str = Field(description="the template's or schedule's id")
    period: BudgetPeriod
    period_key: str = Field(description="the local date (2026-12-04) or month (2026-12)")
    timezone: str
    tokens: int | None = Field(description="its token limit, if it has one")
    usd: float | None = Field(description="its US$ limit, if it has one")
    used_tokens: int = Field(
        description="committed in the period: what its runs used, plus one per running run"
    )
    used_usd: float = Field(description="committed US$, counted as used_tokens is")
    resets_at: Instant = Field(description="when the period turns")


class BudgetWaitOut(BaseModel):
    """Why a queued job is not started: budgets of its template or schedule are spent."""

    reason: str = Field(description="which budgets are spent, how far, and when they turn")
    resumes_at: Instant = Field(
        description="when the last of them turns: it may start then (sooner if one is raised)"
    )
    budgets: list[SpentBudgetOut]

    @classmethod
    def of(cls, wait: BudgetWait | None) -> "BudgetWaitOut | None":
        if wait is None:
            return None
        budgets = [
            SpentBudgetOut(
                **hold.model_dump(
                    include={"scope", "scope_id", "period", "period_key", "timezone", "tokens"}
                ),
                usd=None if hold.micro_usd is None else hold.micro_usd / MICRO,
                used_tokens=spend.tokens,
                used_usd=spend.micro_usd / MICRO,
                resets_at=hold.resets_at,
            )
            for hold, spend in wait.spent
        ]
        return cls(reason=wait.reason, resumes_at=wait.resumes_at, budgets=budgets)


class JobDetailOut(JobOut):
    eta: EtaOut | None = Field(default=None, description=ETA_DESCRIPTION)
    budget_wait: BudgetWaitOut | None = Field(
        default=None,
        description="set while it is queued and a budget of its template or schedule is spent: "
        "it keeps its place and starts when the period turns or the budget is raised",
    )

    @classmethod
    def of_eta(
        cls, view: JobView, eta: Eta | None, wait: BudgetWait | None = None
    ) -> "JobDetailOut":
        return cls(
            **JobOut.of(view).model_dump(), eta=EtaOut.of(eta), budget_wait=BudgetWaitOut.of(wait)
        )


class JobCreated(JobOut):
    idempotent_replay: bool = Field(
        default=False, description="true when an Idempotency-Key returned an earlier job"
    )


class LineageRunOut(BaseModel):
    """A job's latest run, as its lineage shows it."""

    run_id: str
    status: RunStatus
    attempt: int
    exit_code: int | None
    error: str | None
    artifacts: list[str]
    started_at: Instant
    finished_at: Instant | None


class LineageJobOut(BaseModel):
    job_id: str
    rerun_of: str | None = Field(description="the job it reruns; null for the chain's first")
    template_id: str
    template_version: int | None
    params: dict[str, Any]
    priority: PriorityOut
    status: JobStatus
    created_at: Instant
    finished_at: Instant | None
    run: LineageRunOut | None = Field(description="its latest run, if it has started")

    @classmethod
    def of(cls, view: JobView) -> "LineageJobOut":
        job, run = view.job, view.run
        return cls(
            **job.model_dump(
                include={
                    "job_id",
                    "rerun_of",
                    "template_id",
                    "template_version",
                    "params",
                    "status",
                    "created_at",
                    "finished_at",
                }
            ),
            priority=display_priority(job.priority),
            run=LineageRunOut.model_validate(run.model_dump()) if run else None,
        )


class LineageOut(BaseModel):
    job_id: str = Field(description="the job asked about")
    root_id: str = Field(description="the first job of its chain (the one not a rerun)")
    jobs: list[LineageJobOut] = Field(
        description="the first job and every rerun made from it or from its reruns, however "
        "deep, oldest first (follow rerun_of for the tree)"
    )
    truncated: bool = Field(
        description="true when the chain holds more jobs than `limit`: the newest are left out"
    )
    limit: int = Field(description="the most jobs one answer lists")


class BudgetStatusOut(BaseModel):
    """A declared budget in its current period: its limits, what is committed against them."""

    period: BudgetPeriod
    period_key: str = Field(description="the current period: its local date or month")
    timezone: str = Field(description="the zone the period is counted in")
    tokens_limit: int | None
    usd_limit: float | None
    on_exceed: OnExceed
    committed_tokens: int = Field(
        description="what the period's runs used, plus one per run of it still running"
    )
    committed_usd: float = Field(description="likewise, in US$ (a running run: US$0.000001)")
    spent: bool = Field(description="a limit is reached: no new run starts until resets_at")
    resets_at: Instant = Field(description="when the period turns (UTC)")

    @classmethod
    def of(cls, hold: BudgetHold, spend: BudgetSpend) -> "BudgetStatusOut":
        return cls(
            period=hold.period,
            period_key=hold.period_key,
            timezone=hold.timezone,
            tokens_limit=hold.tokens,
            usd_limit=None if hold.micro_usd is None else hold.micro_usd / MICRO,
            on_exceed=hold.on_exceed,
            committed_tokens=spend.tokens,
            committed_usd=spend.micro_usd / MICRO,
            spent=spend.spent(hold),
            resets_at=hold.resets_at,
        )

    @classmethod
    def all_of(cls, spends: list[tuple[BudgetHold, BudgetSpend]]) -> list["BudgetStatusOut"]:
        return [cls.of(hold, spend) for hold, spend in spends]


BUDGET_STATUS_DESCRIPTION = "each declared budget, in order, in its current period"


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
    concurrency: list[ConcurrencyLimit] = Field(
        default_factory=list, description="at most `limit` of its units per key value at once"
    )
    checks: list[Check] = Field(
        default_factory=list, description="quality gates: a run whose outputs fail one is rejected"
    )
    budgets: list[Budget] = Field(
        default_factory=list,
        description="spend limits per day or month: a job whose budget is spent waits",
    )
    version: int


class TemplateOut(TemplateFields):
    archived: bool
    created_at: Instant
    updated_at: Instant

    @classmethod
    def of(cls, template: JobTemplate) -> "TemplateOut":
        return cls.model_validate(template.model_dump())


class TemplateDetailOut(TemplateOut):
    """GET /templates/{id}: the template, with its budgets' state now."""

    budget_status: list[BudgetStatusOut] = Field(
        default_factory=list, description=BUDGET_STATUS_DESCRIPTION
    )


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
    hold: HoldOut | None = Field(
        default=None, description="held (POST /groups/{id}/hold): why, and by whom"
    )
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
    held: bool = Field(default=False, description="held: keeps this place, passed over")
    hold: HoldOut | None = None
    eta: EtaOut | None = Field(default=None, description=ETA_DESCRIPTION)

    @classmethod
    def of(cls, position: int, entry: QueueEntry, eta: Eta | None = None) -> "QueueItemOut":
        hold = HoldOut.model_validate(entry.hold.model_dump()) if entry.hold else None
        return cls(
            position=position,
            **entry.model_dump(mode="json", include=QUEUE_ITEM_FIELDS),
            held=hold is not None,
            hold=hold,
            eta=EtaOut.of(eta),
        )


class PreviewItemOut(BaseModel):
    job_id: str = Field(description='a queued job, or "new" for a proposed new job')
    template_id: str
    priority: PriorityOut
    position: int | None = Field(description="its place after the change (null: it leaves)")
    position_now: int | None = Field(description="its place today (null: not queued today)")
    eta: EtaOut | None = Field(description="its ETA after the change")
    eta_now: EtaOut | None = Field(description="its ETA today")
    affected: bool = Field(description="the change moves it or changes its ETA")


class PreviewOut(BaseModel):
    items: list[PreviewItemOut] = Field(
        description="the queue's first places after the change, then any job it removes"
    )
    affected: list[str] = Field(description="the jobs whose place or ETA the change alters")


class QueuedReservationOut(BaseModel):
    reservation_id: str
    template_id: str
    created_at: Instant
    eta: EtaOut | None = Field(default=None, description=ETA_DESCRIPTION)

    @classmethod
    def of(cls, entry: QueueEntry, eta: Eta | None = None) -> "QueuedReservationOut":
        return cls(
            reservation_id=entry.job_id,
            template_id=entry.template_id,
            created_at=entry.created_at,
            eta=EtaOut.of(eta),
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
    usage: UsageOut | None = Field(
        default=None, description="what its model calls used; null until it ended, or if none"
    )
    created_at: Instant
    started_at: Instant | None
    finished_at: Instant | None

    eta: EtaOut | None = Field(default=None, description=ETA_DESCRIPTION)

    @classmethod
    def of(cls, reservation: Reservation, eta: Eta | None = None) -> "ReservationOut":
        shown = reservation.model_dump(include=set(cls.model_fields) - {"eta"})
        return cls.model_validate({**shown, "eta": EtaOut.of(eta)})


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
    rejected_runs: int = Field(
        default=0,
        description="runs whose outputs failed their template's checks (GET /runs?status=rejected)",
    )
    usage_last_24h: UsageTotalsOut | None = Field(
        default=None,
        description="every run's model usage over the last 24 whole UTC hours (GET /usage)",
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
    budgets: list[Budget] = Field(
        default_factory=list,
        description="spend limits per day or month, in its time zone unless they say: a fire "
        "while one is spent is skipped, with the reason",
    )
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


class ScheduleDetailOut(ScheduleOut):
    """GET /schedules/{id}: the schedule, with its own budgets' state now (its template's are
    GET /templates/{id}'s)."""

    budget_status: list[BudgetStatusOut] = Field(
        default_factory=list, description=BUDGET_STATUS_DESCRIPTION
    )


class KeyOut(BaseModel):
    """An API key's record: never its secret, nor the secret's hash."""

    key_id: str = Field(description="the `<id>` of `jsk_<id>_<secret>`")
    name: str
    scopes: list[Scope] = Field(description="admin implies write implies read")
    created_at: Instant
    revoked_at: Instant | None = Field(description="set once revoked: the key is refused since")

    @classmethod
    def of(cls, key: ApiKey) -> "KeyOut":
        return cls.model_validate(key.model_dump(exclude={"key_hash"}))


class KeyCreated(KeyOut):
    secret: str = Field(
        description="the whole bearer token (`jsk_<id>_<secret>`), shown in this answer only: "
        "it is stored as a hash and cannot be shown again"
    )


class GroupCreated(GroupOut):
    jobs: list[JobOut]
    warnings: list[str] = Field(
        default_factory=list, description="what the client should know now (e.g. its webhook)"
    )
    idempotent_replay: bool = Field(
        default=False, description="true when an Idempotency-Key returned an earlier group"
    )


class GroupWithJobs(GroupOut):
    jobs: list[JobOut] = Field(description="each of the group's jobs, as it is now")


class MovedJobOut(JobOut):
    note: str | None = Field(
        default=None, description="set when the move changed the job's priority, and why"
    )

    @classmethod
    def of_placement(cls, stores: Stores, placement: queue_use.Placement) -> "MovedJobOut":
        shown = JobOut.of(get_job(stores, placement.after.job_id))
        return cls(**shown.model_dump(), note=placement.note)


class LintWarningOut(BaseModel):
    code: str = Field(
        description="dst_skipped, dst_repeated, busy, overlap, same_minute, catch_up_bound, "
        "missed_fire_lost, in_the_past, ends_before_next_fire or never_fires"
    )
    message: str = Field(description="what will happen, and why")

    @classmethod
    def all_of(cls, report: LintReport) -> list["LintWarningOut"]:
        return [cls(code=w.code, message=w.message) for w in report.warnings]


class LintOut(BaseModel):
    warnings: list[LintWarningOut] = Field(description="empty when nothing is surprising")
    fires_per_day: int | None = Field(
        description="fires in its first day of firing (1440 at most counted); null: never again"
    )
    next_fire: Instant | None = None


class ScheduleDryRunOut(ScheduleOut):
    """A dry run's answer: the schedule as it would be, and what POST /schedules/lint says."""

    warnings: list[LintWarningOut] = Field(
        description="the lint's warnings for the schedule as it would be; empty when none"
    )
