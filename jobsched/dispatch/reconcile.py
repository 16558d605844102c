"""Reconciling what the store believes runs with what really runs.

`monitor` (POST /jobs/monitor, /jobs/{id}/monitor) asks the RunProbe which units have a live
task or process and ends the runs that have none: with the outcome their worker reported if it
did, else failed ("lost"). `sweep_outside_queue` is the sweeper's share for jobs started
outside the queue, which hold no slot and so have no lease the slot sweep would see: they end
when their worker has reported, when their heartbeat lapsed, or when they outlived their
template's timeout.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from jobsched.dispatch.dispatcher import DispatchConfig, end_running_job, indexed
from jobsched.dispatch.immediate import finish_outside_queue, outside_claim
from jobsched.dispatch.template_version import template_of
from jobsched.errors import NotFoundError
from jobsched.models import Job, JobRun, JobStatus, RunStatus
from jobsched.models.steps import StepFailedError
from jobsched.models.units import Claim, Outcome
from jobsched.ports import JobFilter, Stores, every_item

logger = logging.getLogger(__name__)

# A run this young may not have its task or process yet (the claim commits first): it is
# reported as starting, never ended.
MONITOR_GRACE_SECONDS = 30.0
PAGE = 100


@dataclass(frozen=True)
class RunChange:
    job_id: str
    run_id: str
    was: str
    now: str
    reason: str


@dataclass
class MonitorReport:
    checked: int = 0
    running: list[str] = field(default_factory=list)  # job ids really running
    starting: list[str] = field(default_factory=list)  # too young to judge
    changed: list[RunChange] = field(default_factory=list)
    probed: bool = True  # False: nothing could say what really runs; nothing was changed


def running_jobs(
    stores: Stores, job_id: str | None = None, outside_queue_only: bool = False
) -> Iterator[tuple[Job, JobRun]]:
    """Each running job (or the one) with its started run; a run is read only for the jobs
    asked for (the sweeper's pass reads none of the queue's)."""
    if job_id is not None:
        jobs: Iterator[Job] = iter([stores.jobs.get(job_id)])
    else:
        jobs = _all_running(stores)
    for job in jobs:
        if job.status != JobStatus.RUNNING or job.last_run_id is None:
            continue
        if outside_queue_only and not job.outside_queue:
            continue
        try:
            run = stores.runs.get(job.last_run_id)
        except NotFoundError:
            continue
        if run.status == RunStatus.STARTED:
            yield job, run


def _all_running(stores: Stores) -> Iterator[Job]:
    running = JobFilter(status=JobStatus.RUNNING)
    return every_item(lambda limit, cursor: stores.jobs.list_page(running, limit, cursor), PAGE)


def monitor(
    stores: Stores,
    job_id: str | None = None,
    grace_seconds: float = MONITOR_GRACE_SECONDS,
    clock: float | None = None,
) -> MonitorReport:
    """Check every running job (or one) against the probe; end those with no live task."""
    now = time.time() if clock is None else clock
    report = MonitorReport()
    live = stores.probe.running_units()
    if live is None:
        report.probed = False
    for job, run in running_jobs(stores, job_id):
        report.checked += 1
        if live is None or run.run_id in live:
            report.running.append(job.job_id)
        elif now - run.started_at.timestamp() < grace_seconds:
            report.starting.append(job.job_id)
        else:
            change = _end_lost(stores, job, run)
            if change is not None:
                report.changed.append(change)
    return report


def _end_lost(stores: Stores, job: Job, run: JobRun) -> RunChange | None:
    reported = Outcome.reported(run)
    outcome = reported or Outcome(exit_code=None, error="lost: no task or process runs it")
    reason = (
        f"its worker had exited with code {run.worker_exit_code}; the end was not recorded"
        if reported
        else "no task or process runs it"
    )
    ended = _end(stores, job, run, outcome)
    if ended is None:
        return None  # it ended meanwhile, on its own
    now = RunStatus.COMPLETED if ended.succeeded else RunStatus.FAILED
    if ended.failed_checks:
        now = RunStatus.REJECTED
    logger.warning("monitor: run %s of job %s ended %s: %s", run.run_id, job.job_id, now, reason)
    return RunChange(job.job_id, run.run_id, "running", now.value.lower(), reason)


def _end(stores: Stores, job: Job, run: JobRun, outcome: Outcome) -> Outcome | None:
    """The outcome the run ended with (its outputs checked against its template's gates, as a
    dispatcher's finish does), or None when it had ended meanwhile."""
    claim = _claim_of(stores, job, run)
    if job.outside_queue:
        return finish_outside_queue(stores, claim, outcome)
    outcome = indexed(stores, claim, outcome)
    try:
        end_running_job(stores, job, outcome, started_at=run.started_at)
    except StepFailedError:
        return None
    return outcome


def _claim_of(stores: Stores, job: Job, run: JobRun) -> Claim:
    """The run as a claim with its template version, whose checks its outputs must pass."""
    return outside_claim(job, run, template_of(stores, job.template_id, job.template_version))


def sweep_outside_queue(stores: Stores, config: DispatchConfig, now: float) -> list[str]:
    """End the runs outside the queue whose worker reported, went silent, or outlived its
    template's timeout. Returns the run ids ended."""
    ended = []
    for job, run in running_jobs(stores, outside_queue_only=True):
        outcome = _sweep_outcome(stores, job, run, config, now)
        if outcome is None:
            continue
        if outcome.error is not None and outcome.exit_code is None:
            stores.tasks.stop(run.run_id, outcome.error)
        if finish_outside_queue(stores, _claim_of(stores, job, run), outcome):
            ended.append(run.run_id)
    return ended


def _sweep_outcome(
    stores: Stores, job: Job, run: JobRun, config: DispatchConfig, now: float
) -> Outcome | None:
    reported = Outcome.reported(run)
    if reported is not None:
        return reported
    started = run.started_at.timestamp()
    if run.heartbeat_at is None:
        if started + config.startup_lease_seconds < now:
            return Outcome.lost()
    elif run.heartbeat_at + config.heartbeat_lease_seconds < now:
        return Outcome.lost()
    template = template_of(stores, job.template_id, job.template_version)
    if started + config.startup_lease_seconds + template.timeout_seconds < now:
        return Outcome(exit_code=None, error="timeout")
    return None
