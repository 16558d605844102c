"""Legacy request and response shapes (spec: "Request/Response Changes", the "Current" examples).

Responses keep the old fields (job_id, type, status, pid, created_at; a batch's batch_id,
job_ids, status, webhook_url, created_at) and add harmless ones (queue_position, priority...).
"""

from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from api.content_schemas import DuplicateItemOut
from api.schemas import EtaOut
from jobsched.constants import MAX_GROUP_JOBS
from jobsched.dispatch.reconcile import MonitorReport
from jobsched.errors import ValidationFailedError
from jobsched.jobs.jobs import JobView
from jobsched.jobs.legacy import GROUP_STATUS, BatchView, LegacyStatus, legacy_status
from jobsched.models import REQUEST_CONFIG
from jobsched.models.instants import Instant
from jobsched.params import JsonObject
from jobsched.priority import PRIORITY_SCHEMA, PriorityInput, display_priority


@cache
def _json_object() -> TypeAdapter[dict[str, Any]]:
    return TypeAdapter(JsonObject)


TemplateId = Field(default=None, min_length=1, max_length=64)


class SchedulerOptions(BaseModel):
    """The spec's `_scheduler` block: how the scheduler should take a legacy request."""

    model_config = REQUEST_CONFIG

    priority: PriorityInput | None = None
    template_id: str | None = TemplateId
    job_type: str | None = Field(
        default=None, min_length=1, max_length=64, description="alias of template_id"
    )


def pick_template(
    named: dict[str, str | None], default: str | None = None, missing: str = "job_type"
) -> str:
    """The one template the request names (its aliases must agree), else the route's default."""
    given = {name: value for name, value in named.items() if value is not None}
    if len(set(given.values())) > 1:
        fields = ", ".join(given)
        raise ValidationFailedError.on(next(iter(given)), f"{fields} name different templates")
    chosen = next(iter(given.values()), default)
    if chosen is None:
        raise ValidationFailedError.on(missing, "name the job type (or template_id)")
    return chosen


class TriggerBody(BaseModel):
    """A legacy trigger body: every key but `_scheduler` and `job_type` is a job param, e.g.
    `{"max_stories": 1, "enable_dedup": true, "model": "gemini/gemini-2.0-flash-exp"}`."""

    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=False)

    scheduler: SchedulerOptions | None = Field(default=None, alias="_scheduler")
    job_type: str | None = Field(
        default=None, min_length=1, max_length=64, description="alias of template_id"
    )

    @model_validator(mode="after")
    def _params_are_bounded(self) -> "TriggerBody":
        try:
            _json_object().validate_python(self.model_extra or {})
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"]) from None
        return self

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class BatchJob(BaseModel):
    model_config = REQUEST_CONFIG

    job_type: str | None = TemplateId
    template_id: str | None = TemplateId
    params: JsonObject = Field(default_factory=dict)


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)

    jobs: list[BatchJob] = Field(min_length=1, max_length=MAX_GROUP_JOBS)
    webhook_url: str | None = Field(default=None, max_length=2000)
    name: str | None = Field(default=None, max_length=200)
    scheduler: SchedulerOptions | None = Field(default=None, alias="_scheduler")


class LegacyJobOut(BaseModel):
    job_id: str
    type: str = Field(description="the job type: its template id (story_generation, research)")
    status: LegacyStatus
    pid: int | None = Field(description="the latest run's process id, when it reported one")
    created_at: Instant
    # Additions of the scheduler era; old clients ignore them.
    params: dict[str, Any]
    priority: Annotated[str | int, PRIORITY_SCHEMA]
    queue_position: int | None
    batch_id: str | None
    run_id: str | None
    started_at: Instant | None
    finished_at: Instant | None
    exit_code: int | None
    error: str | None
    outside_queue: bool = Field(description="started at once beside the queue (USE_SCHEDULER off)")
    template_version: int | None = Field(
        description="the version of its template the job runs with (null: saved before versions)"
    )
    eta: EtaOut | None = Field(
        default=None,
        description="GET /jobs/{job_id} only: estimated start and finish (p50, p90) while it "
        "waits or runs",
    )

    @classmethod
    def of(cls, view: JobView) -> "LegacyJobOut":
        job, run = view.job, view.run
        return cls(
            job_id=job.job_id,
            type=job.template_id,
            status=legacy_status(job, run),
            pid=run.pid if run else None,
            created_at=job.created_at,
            params=job.params,
            priority=display_priority(job.priority),
            queue_position=view.queue_position,
            batch_id=job.group_id,
            run_id=run.run_id if run else None,
            started_at=run.started_at if run else None,
            finished_at=job.finished_at,
            exit_code=run.exit_code if run else None,
            error=run.error if run else None,
            outside_queue=job.outside_queue,
            template_version=job.template_version,
        )


class LegacyJobList(BaseModel):
    jobs: list[LegacyJobOut]
    count: int = Field(description="jobs on this page")
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for more")


class LegacyBatchOut(BaseModel):
    batch_id: str
    job_ids: list[str]
    status: LegacyStatus
    webhook_url: str | None
    created_at: Instant
    name: str | None
    completed: int
    failed: int
    started_at: Instant | None
    finished_at: Instant | None
    jobs: list[LegacyJobOut]

    @classmethod
    def of(cls, batch: BatchView) -> "LegacyBatchOut":
        group = batch.group
        return cls(
            batch_id=group.group_id,
            job_ids=group.job_ids,
            status=GROUP_STATUS[group.status],
            webhook_url=group.webhook_url,
            created_at=group.created_at,
            name=group.name,
            completed=group.completed,
            failed=group.failed,
            started_at=group.started_at,
            finished_at=group.finished_at,
            jobs=[LegacyJobOut.of(view) for view in batch.jobs],
        )


class RunChangeOut(BaseModel):
    job_id: str
    run_id: str
    was: str = Field(description="the legacy status the store held: running")
    now: str = Field(
        description="the legacy status it holds now: failed, or succeeded when the "
        "worker had reported a clean exit that was never recorded"
    )
    reason: str


class MonitorOut(BaseModel):
    """What a monitor pass found: the running jobs checked against the tasks (ECS) or worker
    processes (local) that really run, and the runs it ended because nothing runs them."""

    checked: int = Field(description="running jobs looked at")
    running: list[str] = Field(description="job ids whose task or process is alive")
    starting: list[str] = Field(description="job ids too young to judge (started < 30 s ago)")
    changed: list[RunChangeOut]
    probed: bool = Field(description="false: this deployment cannot see its tasks; nothing changed")

    @classmethod
    def of(cls, report: MonitorReport) -> "MonitorOut":
        return cls(
            checked=report.checked,
            running=report.running,
            starting=report.starting,
            changed=[RunChangeOut(**vars(change)) for change in report.changed],
            probed=report.probed,
        )


class JobMonitorOut(MonitorOut):
    job: LegacyJobOut = Field(description="the job as it is after the check")


class DedupCheckOut(BaseModel):
    job_id: str
    run_id: str = Field(description="the run whose outputs were checked (the job's latest)")
    checked: int = Field(description="stories and cards indexed from that run")
    duplicates: list[DuplicateItemOut]
    threshold: float
