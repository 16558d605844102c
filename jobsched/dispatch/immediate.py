"""Jobs started outside the queue: the legacy immediate behaviour (USE_SCHEDULER=false).

The spec's "Current Behavior" of the job trigger APIs: the job starts at once, with no queue,
no waiting and no ordering. Such a job is a Job with its JobRun like any other, so reads, runs,
logs, cancel and monitor work on it; but it never has a queue place and holds no slot: it runs
beside the queue's units. A Launcher starts its task (ECS RunTask on AWS, a worker subprocess
locally). Whoever sees the task end, ends the run: the local launcher's thread, and on AWS the
sweeper, once the worker reported its exit or its heartbeat lapsed. There are no retries: the
old system had none.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobsched.dispatch.dispatcher import DispatchConfig, end_group_if_done, indexed
from jobsched.errors import IdempotencyKeyTakenError
from jobsched.ids import new_id
from jobsched.models import (
    GroupMode,
    GroupStatus,
    Job,
    JobGroup,
    JobRun,
    JobStatus,
    JobTemplate,
    UnitKind,
    utcnow,
)
from jobsched.models.idempotency import IdempotencyClaim
from jobsched.models.steps import (
    CountGroupJob,
    CreateGroup,
    EndJob,
    EndRun,
    RecordIdempotencyKey,
    StartOutsideQueue,
    Step,
    StepFailedError,
)
from jobsched.models.units import OUTSIDE_QUEUE, Claim, Outcome
from jobsched.ports import Stores, metrics
from jobsched.ports.dispatch import LaunchError


@dataclass(frozen=True)
class NowJob:
    """One job to start at once: its template and its params (the template's defaults merged)."""

    template: JobTemplate
    params: dict[str, Any]


@dataclass(frozen=True)
class NowGroup:
    """The group a batch of such jobs forms (a legacy batch)."""

    name: str | None = None
    webhook_url: str | None = None


def start_now(
    stores: Stores,
    jobs: Sequence[NowJob],
    priority: int,
    group: NowGroup | None = None,
    config: DispatchConfig | None = None,
    idempotency: tuple[str, str] | None = None,
) -> tuple[list[Job], JobGroup | None]:
    """Create the jobs already running, each with its run (and their group), in one
    transaction; then launch each with the stores' launcher. A job whose task cannot start
    ends failed at once. `idempotency` (key, request hash) is recorded in that transaction,
    naming the group, or else the first job; IdempotencyKeyTakenError when the key is taken,
    and then nothing is written or launched."""
    config = config or DispatchConfig()
    now = utcnow()
    group_id = new_id("grp") if group is not None else None
    claims = [_claim(item, index, group_id, priority, config) for index, item in enumerate(jobs)]
    steps: list[Step] = []
    made_group = None
    if group is not None:
        assert group_id is not None
        made_group = JobGroup(
            group_id=group_id,
            name=group.name,
            mode=GroupMode.PARALLEL,
            job_ids=[_job(c).job_id for c in claims],
            status=GroupStatus.RUNNING,
            priority=priority,
            webhook_url=group.webhook_url,
            outside_queue=True,
            created_at=now,
            started_at=now,
        )
        steps.append(CreateGroup(made_group))
    steps += [StartOutsideQueue(_job(c), _run(c)) for c in claims]
    if idempotency is not None:
        key, digest = idempotency
        made = group_id or _job(claims[0]).job_id
        steps.append(RecordIdempotencyKey(IdempotencyClaim(key, digest, made)))
    try:
        stores.dispatch.commit(steps)
    except StepFailedError as exc:
        if isinstance(exc.step, RecordIdempotencyKey):
            raise IdempotencyKeyTakenError("the Idempotency-Key was used already") from exc
        raise
    for claim in claims:
        try:
            stores.launcher.launch(claim)
        except LaunchError as exc:
            finish_outside_queue(stores, claim, Outcome(exit_code=None, error=f"launch: {exc}"))
    return [_job(c) for c in claims], made_group


def _claim(
    item: NowJob, index: int, group_id: str | None, priority: int, config: DispatchConfig
) -> Claim:
    job_id = new_id("job")
    run = JobRun(
        run_id=new_id("run"),
        job_id=job_id,
        template_id=item.template.template_id,
        template_version=item.template.version,
        group_id=group_id,
        slot=OUTSIDE_QUEUE,
    )
    job = Job(
        job_id=job_id,
        template_id=item.template.template_id,
        template_version=item.template.version,
        group_id=group_id,
        group_mode=GroupMode.PARALLEL if group_id else None,
        group_index=index if group_id else None,
        params=item.params,
        priority=priority,
        status=JobStatus.RUNNING,
        attempt=1,
        last_run_id=run.run_id,
        outside_queue=True,
        created_at=run.started_at,
        updated_at=run.started_at,
    )
    lease_until = time.time() + config.startup_lease_seconds
    return outside_claim(job, run, item.template, lease_until)


def outside_claim(
    job: Job, run: JobRun, template: JobTemplate | None = None, lease_until: float = 0.0
) -> Claim:
    """The claim of a job running outside the queue: its run is the unit; it holds no slot."""
    return Claim(
        slot=OUTSIDE_QUEUE,
        kind=UnitKind.JOB,
        unit_id=run.run_id,
        holder=run.run_id,
        lease_until=lease_until,
        job=job,
        run=run,
        template=template,
    )


def _job(claim: Claim) -> Job:
    assert claim.job is not None
    return claim.job


def _run(claim: Claim) -> JobRun:
    assert claim.run is not None
    return claim.run


def finish_outside_queue(stores: Stores, claim: Claim, outcome: Outcome) -> Outcome | None:
    """End a job started outside the queue with `outcome` (no retry); the outcome it ended
    with (its outputs checked against its template's gates), or None when it was ended
    elsewhere already (cancelled, or found lost by monitor or the sweeper)."""
    job, run = _job(claim), _run(claim)
    outcome = indexed(stores, claim, outcome)
    now = utcnow()
    steps: list[Step] = [
        EndRun.of(run.run_id, outcome, now, run),
        EndJob(job.job_id, run.run_id, now),
    ]
    if job.group_id:
        steps.append(CountGroupJob(job.group_id, outcome.succeeded))
    try:
        stores.dispatch.commit(steps)
    except StepFailedError:
        return None
    metrics.run_ended(stores.metrics, outcome.succeeded, run.started_at, now)
    if job.group_id:
        end_group_if_done(stores, job.group_id)
    return outcome
