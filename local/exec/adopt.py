"""At start, the runs a previous life of the runtime left `started` (it was killed, or the
machine stopped) are reconciled before any slot is dispatched:

- a worker still alive (its pid and its start time match the note beside its log) is adopted:
  followed as if this runtime had started it (lease, cancel, timeout) and finished when it
  ends, from the outcome its log records;
- a worker that ended while the runtime was down has its outcome recorded from its log;
- otherwise the run is lost, and the template's retry policy applies.

Workers run in sessions of their own, so a kill of the runtime does not kill them. Jobs of a
parallel group, reservations and jobs started outside the queue are left to the sweeper, which
finds them by their leases.
"""

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.dispatch.template_version import template_of
from jobsched.errors import NotFoundError
from jobsched.models import GroupMode, JobRun, RunStatus, UnitKind
from jobsched.models.units import OUTSIDE_QUEUE, Claim, Outcome
from jobsched.ports import RunFilter, Stores, every_item
from local.exec.executor import LocalExecutor, read_artifacts, read_exit_code, read_usage
from local.exec.lease import LEASE_PERIODS
from local.exec.logs import log_file, read_worker_note, run_dir

logger = logging.getLogger(__name__)

PAGE = 100
# psutil reports start times rounded differently on some platforms: within this, the same.
START_TIME_TOLERANCE = 0.05
EXITED = -1  # poll() of a worker that ended: its exit status went to its real parent


class AdoptedWorker:
    """A worker this runtime did not start, behind the part of Popen the executor uses. Its
    exit status is not ours to read (`returncode` stays None): its log's last event says it."""

    def __init__(self, process: psutil.Process) -> None:
        self._process = process
        self.pid = process.pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        try:
            alive = self._process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            alive = False
        return None if alive else EXITED

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            self._process.wait(timeout)
        except psutil.TimeoutExpired as exc:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0) from exc
        except psutil.NoSuchProcess:
            pass
        return None

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self._process.send_signal(signal.Signals(sig))

    def kill(self) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self._process.kill()


def live_worker(unit_dir: Path, log: Path) -> AdoptedWorker | None:
    """The worker of the unit in `unit_dir`, if it still runs: the process its note names, or,
    when the runtime died before it wrote the note (between the fork and the note), the
    session leader that has the unit's log open (every worker's stdout is its log)."""
    note = read_worker_note(unit_dir)
    if note is None:
        process = _holder_of(log)
        return None if process is None else AdoptedWorker(process)
    try:
        process = psutil.Process(note.pid)
        same = abs(process.create_time() - note.created) <= START_TIME_TOLERANCE
        if not same or process.status() == psutil.STATUS_ZOMBIE:
            return None
    except psutil.Error:
        return None
    return AdoptedWorker(process)


def _holder_of(log: Path) -> psutil.Process | None:
    """The worker whose output goes to `log`: of the live processes holding it open, the
    leader of its own session (a worker's children share its log), else the oldest."""
    target = str(log.resolve())
    holders = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.status() == psutil.STATUS_ZOMBIE or process.pid == os.getpid():
                continue
            if any(opened.path == target for opened in process.open_files()):
                holders.append(process)
    for process in holders:
        with contextlib.suppress(OSError):
            if os.getsid(process.pid) == process.pid:
                return process
    with_times = []
    for process in holders:
        with contextlib.suppress(psutil.Error):
            with_times.append((process.create_time(), process))
    return min(with_times, key=lambda pair: pair[0])[1] if with_times else None


@dataclass
class Reconciled:
    adopted: list[str] = field(default_factory=list)  # run ids followed again
    recorded: list[str] = field(default_factory=list)  # ended while down: recorded from the log
    lost: list[str] = field(default_factory=list)
    followers: list[threading.Thread] = field(default_factory=list)


def reconcile(
    stores: Stores,
    executor: LocalExecutor,
    dispatcher: Dispatcher,
    heartbeat_seconds: float,
    on_finished: Callable[[], None],
    clock: Callable[[], float] = time.time,
) -> Reconciled:
    """Reconcile every run left started; adopted workers are followed from threads (returned)
    that finish their units and then call `on_finished` (a kick: the slot is free)."""
    report = Reconciled()
    data_dir = executor.config.data_dir
    for claim in list(_left_started(stores, clock())):
        log = log_file(data_dir, claim.unit_id)
        worker = live_worker(run_dir(data_dir, claim.unit_id), log)
        if worker is not None:
            now = clock()
            stores.dispatch.renew(claim, now, now + LEASE_PERIODS * heartbeat_seconds)
            thread = threading.Thread(
                target=_follow,
                args=(executor, dispatcher, claim, worker, on_finished),
                name=f"adopted-{claim.unit_id}",
                daemon=True,
            )
            report.adopted.append(claim.unit_id)
            report.followers.append(thread)
            thread.start()
            continue
        exit_code = read_exit_code(log)
        if exit_code is None:
            outcome = Outcome(exit_code=None, error="lost", log_path=str(log))
            report.lost.append(claim.unit_id)
        else:
            outcome = Outcome(
                exit_code, artifacts=read_artifacts(log), log_path=str(log), usage=read_usage(log)
            )
            report.recorded.append(claim.unit_id)
        dispatcher.finish(claim, outcome, claim_next=False)
    return report


def _follow(
    executor: LocalExecutor,
    dispatcher: Dispatcher,
    claim: Claim,
    worker: AdoptedWorker,
    on_finished: Callable[[], None],
) -> None:
    try:
        outcome = executor.adopt(claim, worker)
        dispatcher.finish(claim, outcome, claim_next=False)
    except Exception:  # its lease lapses and the sweeper recovers it
        logger.exception("could not follow the adopted worker of %s", claim.unit_id)
    on_finished()


def _left_started(stores: Stores, now: float) -> Iterator[Claim]:
    """A claim for each run left started that holds its slot itself (a job, or a sequential
    group's job): what its dispatcher would have held."""
    held = {lease.slot: lease for lease in stores.dispatch.slots() if lease.holder}
    for run in _started_runs(stores):
        lease = held.get(run.slot or OUTSIDE_QUEUE)
        if lease is None or lease.holder != run.run_id:
            continue  # outside the queue, or under a group's slot: the sweeper's
        try:
            job = stores.jobs.get(run.job_id)
            template = template_of(stores, job.template_id, job.template_version)
        except NotFoundError:
            continue
        if job.group_mode == GroupMode.PARALLEL:
            continue
        yield Claim(
            slot=lease.slot,
            kind=UnitKind.JOB,
            unit_id=run.run_id,
            holder=run.run_id,
            lease_until=max(lease.lease_until, now),
            template=template,
            job=job,
            run=run,
        )


def _started_runs(stores: Stores) -> Iterator[JobRun]:
    started = RunFilter(status=RunStatus.STARTED)
    return every_item(lambda limit, cursor: stores.runs.list_page(started, limit, cursor), PAGE)
