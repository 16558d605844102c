"""Runs a claimed unit's worker as a local subprocess: the container's `python -m worker`, with
the environment ECS would give it (container/README.md), its output in the run's log file.
By default the process is forked from a server that has the worker imported (forkserver.py).

It is also the local TaskStopper: stop() sends SIGTERM and, after a grace period, SIGKILL, as
ECS StopTask does to a container.
"""

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from jobsched import worker_contract as contract
from jobsched.models.units import INTERRUPTED, SIGNAL_EXIT_BASE, Claim, Outcome
from jobsched.models.usage import Usage
from jobsched.ports.dispatch import DispatchStore
from jobsched.settings import Settings
from local.exec.forkserver import AWS_MODULES, WORKER_MODULES, shared_launcher
from local.exec.lease import LeaseKeeper
from local.exec.live_usage import LiveUsage
from local.exec.logs import log_file, note_worker, prepare_run_dir, run_dir

logger = logging.getLogger(__name__)

# Above the worker's own 10 s wait for a workload that ignores a stop (worker/config.py), so a
# stopped worker still gets to keep its outputs and report before it is killed.
STOP_GRACE_SECONDS = 15.0
TIMEOUT = "timeout"
SHUTDOWN = "shutdown"
# The emulator checks no credentials; fixed fake ones keep real ones from reaching a worker.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


class WorkerProcess(Protocol):
    """What the executor needs of a worker's process: a Popen it started, or a worker it
    adopted at start (local/exec/adopt.py)."""

    @property
    def pid(self) -> int: ...
    @property
    def returncode(self) -> int | None: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int | None: ...
    def send_signal(self, sig: int) -> None: ...
    def kill(self) -> None: ...


class ExecutorError(Exception):
    """The executor cannot work at all (no worker to run); the message says why."""


def find_container_dir() -> Path:
    """The repository's container/ folder, next to the jobsched package."""
    container = Path(__file__).resolve().parents[2] / "container"
    if not (container / "worker" / "__main__.py").is_file():
        raise ExecutorError(
            f"the job worker is not at {container}/worker: the local executor runs the "
            "container's worker from a checkout of the repository (pip install -e .)"
        )
    return container


@dataclass(frozen=True)
class ExecutorConfig:
    data_dir: Path
    heartbeat_seconds: float = 30.0
    endpoint_url: str | None = None
    region: str = "us-east-1"
    stop_grace_seconds: float = STOP_GRACE_SECONDS
    # Fork each worker from a server that has imported it (forkserver.py): a fork per job
    # instead of an interpreter start and the imports. False: a `python -m worker` each.
    fork_server: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "ExecutorConfig":
        values: dict[str, Any] = {
            "data_dir": Path(settings.data_dir).resolve(),
            "heartbeat_seconds": settings.heartbeat_seconds,
            "endpoint_url": settings.aws_endpoint_url,
            "region": settings.aws_region,
        }
        return cls(**(values | overrides))


class LocalExecutor:
    """Runs units as subprocesses; safe to use from several threads at once."""

    forks_workers = True  # False where command() starts the worker elsewhere (`docker run`)

    def __init__(
        self,
        dispatch: DispatchStore,
        config: ExecutorConfig,
        container_dir: Path | None = None,
    ) -> None:
        self.dispatch = dispatch
        self.config = config
        self.container_dir = container_dir or find_container_dir()
        self._lock = threading.Lock()
        self._running: dict[str, WorkerProcess] = {}
        self._stop_reasons: dict[str, str] = {}
        self._closed = False

    def log_path(self, unit_id: str) -> Path:
        return log_file(self.config.data_dir, unit_id)

    # --- running ----------------------------------------------------------------------------

    def run(self, claim: Claim) -> Outcome:
        """Run the unit's worker until it exits; never raises for a unit's own failure."""
        log = self.log_path(claim.unit_id)
        if claim.template is None:
            return Outcome(exit_code=None, error="the claim carries no template")
        try:
            outputs = prepare_run_dir(self.config.data_dir, claim.unit_id)
            env = self.environment(claim, outputs)
            process = self._start(claim.unit_id, env, log)
        except OSError as exc:
            logger.error("cannot start the worker of %s: %s", claim.unit_id, exc)
            return Outcome(exit_code=None, error=f"cannot start the worker: {exc}")
        if process is None:
            return Outcome(exit_code=None, error=SHUTDOWN, log_path=str(log))
        note_worker(run_dir(self.config.data_dir, claim.unit_id), process.pid)
        return self.follow(claim, process, log, record_pid=True)

    def adopt(self, claim: Claim, process: "WorkerProcess") -> Outcome:
        """Follow a worker that a previous run of the runtime started (it outlived it) as if
        this executor had started it: lease, cancel, timeout, outcome."""
        with self._lock:
            self._running[claim.unit_id] = process
        return self.follow(claim, process, self.log_path(claim.unit_id))

    def follow(
        self, claim: Claim, process: "WorkerProcess", log: Path, record_pid: bool = False
    ) -> Outcome:
        """Wait for the worker's end (keeping its lease when the store has it so) and say
        how it ended."""
        assert claim.template is not None
        pid = process.pid if record_pid else None
        lease = self._keep_lease(claim, log, pid) if self._parent_renews(claim) else None
        if lease is None and pid is not None:
            self._record_pid(claim, pid)
        try:
            timed_out = self._wait(process, claim.template.timeout_seconds, log)
        finally:
            if lease is not None:
                lease.close()
            with self._lock:
                self._running.pop(claim.unit_id, None)
                stopped = self._stop_reasons.pop(claim.unit_id, None)
        exit_code = exit_code_of(process.returncode)
        if exit_code is None:  # an adopted worker is not our child: its log says how it ended
            exit_code = read_exit_code(log)
        artifacts = read_artifacts(log)
        if stopped == INTERRUPTED and exit_code == 0:
            stopped = None  # it finished before the stop reached it: never run it again
        return Outcome(
            exit_code=exit_code,
            error=TIMEOUT if timed_out else stopped,
            artifacts=artifacts,
            log_path=str(log),
            usage=read_usage(log),
        )

    def _parent_renews(self, claim: Claim) -> bool:
        """The store gives the worker nothing to send (SQLite): its lease is ours to keep."""
        return self.dispatch.heartbeat_request(claim) is None

    def _keep_lease(self, claim: Claim, log: Path, pid: int | None) -> LeaseKeeper:
        def ended() -> None:
            append_event(log, "cancelled", reason="run ended elsewhere")
            self.stop(claim.unit_id, "ended elsewhere")

        # No renewal now: the claim has just set the lease (the startup lease, longer than a
        # period). The pid is written from the keeper's thread, beside the worker's life: for
        # a short job, each write on the slot's own path is a share of its throughput.
        first = None if pid is None else (lambda: self._record_pid(claim, pid))
        lease = LeaseKeeper(
            self.dispatch,
            claim,
            self.config.heartbeat_seconds,
            ended,
            first,
            usage=LiveUsage(log),
        )
        lease.start()
        return lease

    def _record_pid(self, claim: Claim, pid: int) -> None:
        try:
            self.dispatch.record_pid(claim, pid)
        except Exception:  # the pid is for people; a store hiccup must not fail the run
            logger.warning("could not record the pid of %s", claim.unit_id, exc_info=True)

    def environment(self, claim: Claim, outputs: Path) -> dict[str, str]:
        """The worker's environment: the contract of container/README.md, pointed at the
        emulator. The rest of this process's environment passes through (a workload may need
        the user's own settings), except AWS and jobsched settings, which are ours to give."""
        assert claim.template is not None
        env = {k: v for k, v in os.environ.items() if not _ours(k, self.config.endpoint_url)}
        env |= {
            "PYTHONPATH": str(self.container_dir),
            "PYTHONDONTWRITEBYTECODE": "1",  # keep container/ free of __pycache__
            "PYTHONUNBUFFERED": "1",
            contract.ENV_UNIT_ID: claim.unit_id,
            contract.ENV_JOB_ID: claim.job.job_id if claim.job else "",
            contract.ENV_WORKLOAD: claim.template.workload,
            contract.ENV_PARAMS: json.dumps(claim.params),
            contract.ENV_OUTPUT_DIR: str(outputs),  # no bucket: artifacts are file:// URIs
            contract.ENV_HEARTBEAT_SECONDS: str(self.config.heartbeat_seconds),
            contract.ENV_REGION: self.config.region,
            contract.ENV_DEFAULT_REGION: self.config.region,
            "AWS_EC2_METADATA_DISABLED": "true",  # never probe for instance credentials
        }
        requests = {
            contract.ENV_HEARTBEAT: self.dispatch.heartbeat_request(claim),
            contract.ENV_RESULT: self.dispatch.result_request(claim),
        }
        # None: the worker has no store to send to (SQLite); this process renews for it.
        env |= {name: json.dumps(req) for name, req in requests.items() if req is not None}
        if self.config.endpoint_url:
            env |= {"AWS_ENDPOINT_URL": self.config.endpoint_url, **FAKE_CREDENTIALS}
        return env

    def _start(self, unit_id: str, env: Mapping[str, str], log: Path) -> WorkerProcess | None:
        with self._lock:  # a stop_all() racing this start either sees the process or prevents it
            if self._closed:
                return None
            if self.config.fork_server and self.forks_workers:
                process: WorkerProcess = self._fork(env, log)
            else:
                process = self._popen(unit_id, env, log)
            self._running[unit_id] = process
        logger.info("unit %s: worker pid %d, log %s", unit_id, process.pid, log)
        return process

    def _fork(self, env: Mapping[str, str], log: Path) -> WorkerProcess:
        # The same contract as the Popen below (forkserver.py). Workers use boto3 only when
        # the store is DynamoDB: preloaded then (it makes every fork dearer).
        preload = WORKER_MODULES + (AWS_MODULES if self.config.endpoint_url else ())
        return shared_launcher(self.container_dir, preload).start(env, log, self.container_dir)

    def _popen(self, unit_id: str, env: Mapping[str, str], log: Path) -> WorkerProcess:
        argv, process_env = self.command(unit_id, env)
        with log.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 - the worker, or docker running it
                argv,
                cwd=self.container_dir,
                env=process_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C meant for the runtime does not reach workers,
                # which the runtime stops itself; a kill reaches the worker's children too.
                start_new_session=True,
            )

    def command(self, unit_id: str, env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        """The worker's command line and the environment of the process that runs it, when it
        is not forked (fork_server=False, docker)."""
        return [sys.executable, "-m", "worker"], dict(env)

    def _wait(self, process: WorkerProcess, timeout: float, log: Path) -> bool:
        """True when the template's timeout ended the worker."""
        try:
            process.wait(timeout=timeout)
            return False
        except subprocess.TimeoutExpired:
            pass
        append_event(log, TIMEOUT, timeout_seconds=timeout)
        _signal(process, signal.SIGTERM)
        self._kill_after_grace(process)
        return True

    # --- stopping (the TaskStopper) -------------------------------------------------------

    def stop(self, unit_id: str, reason: str) -> None:
        """SIGTERM now, SIGKILL after the grace period; returns at once. A unit not running
        here is left alone (its worker, if it starts, finds its run ended at its first
        heartbeat and exits)."""
        with self._lock:
            process = self._running.get(unit_id)
            if process is None:
                return
            self._stop_reasons.setdefault(unit_id, reason)
        append_event(self.log_path(unit_id), "stop_requested", reason=reason)
        _signal(process, signal.SIGTERM)
        threading.Thread(
            target=self._kill_after_grace, args=(process,), name=f"stop-{unit_id}", daemon=True
        ).start()

    def stop_all(self, reason: str = SHUTDOWN) -> None:
        """Stop every worker and start no more; waits for them (SIGKILL after the grace)."""
        with self._lock:
            self._closed = True
            running = list(self._running.items())
            for unit_id, _ in running:
                self._stop_reasons.setdefault(unit_id, reason)
        for unit_id, process in running:
            append_event(self.log_path(unit_id), "stop_requested", reason=reason)
            _signal(process, signal.SIGTERM)
        for _, process in running:
            self._kill_after_grace(process)

    def _kill_after_grace(self, process: WorkerProcess) -> None:
        try:
            process.wait(timeout=self.config.stop_grace_seconds)
        except subprocess.TimeoutExpired:
            logger.warning("worker pid %d ignored SIGTERM; killing it", process.pid)
            self.kill(process)
            process.wait()

    def kill(self, process: WorkerProcess) -> None:
        _kill_group(process)

    @property
    def running(self) -> list[str]:
        with self._lock:
            return list(self._running)

    def running_units(self) -> set[str]:
        """The RunProbe: units whose worker process has not exited."""
        with self._lock:
            return {unit for unit, process in self._running.items() if process.poll() is None}


def _ours(name: str, endpoint_url: str | None) -> bool:
    """Variables the executor sets itself rather than passing through."""
    if name.startswith("JOBSCHED_") or name in ("PYTHONPATH", "AWS_PROFILE"):
        return True
    # Against the emulator no real credential or endpoint may leak into a worker.
    return endpoint_url is not None and name.startswith("AWS_")


def _signal(process: WorkerProcess, signum: signal.Signals) -> None:
    # Only the worker itself, as `docker stop` signals a container's PID 1; it stops its
    # workload and reports.
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


def _kill_group(process: WorkerProcess) -> None:
    # The group is the worker's session (start_new_session), so this also ends anything its
    # workload started. Not yet reaped, so the id cannot have been reused.
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()


def exit_code_of(returncode: int | None) -> int | None:
    if returncode is None:
        return None
    return SIGNAL_EXIT_BASE - returncode if returncode < 0 else returncode


def append_event(log: Path, event: str, **fields: Any) -> None:
    """An event of the executor's own in the run's log, in the worker's line format."""
    unit_id = log.parent.name
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {"ts": stamp, "event": event, "unit_id": unit_id, "source": "executor", **fields}
    try:
        with log.open("a", encoding="utf-8") as out:  # O_APPEND: whole lines beside the worker's
            out.write(json.dumps(record) + "\n")
    except OSError as exc:
        logger.warning("cannot write to %s: %s", log, exc)


def read_artifacts(log: Path) -> list[str]:
    """The URIs of the worker's last "artifacts" event (the worker logs it once, at the end)."""
    uris = last_event_field(log, "artifacts")
    return [uri for uri in uris if isinstance(uri, str)] if isinstance(uris, list) else []


def read_usage(log: Path) -> Usage | None:
    """What the worker's model calls used, from its last "usage" event (logged once, at the
    end; container/README.md); None when it logged none or one that does not fit."""
    usage = last_event_field(log, "usage")
    return Usage.reported(json.dumps(usage)) if isinstance(usage, dict) else None


def last_event_field(log: Path, name: str) -> Any:
    """The field `name` of the last event named `name` in the log (None if there is none)."""
    found: Any = None
    try:
        with log.open("r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if f'"{name}"' not in line:  # cheap filter before parsing each line
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue  # stderr output, a traceback: not an event
                if isinstance(event, dict) and event.get("event") == name and name in event:
                    found = event[name]
    except OSError:
        return None
    return found


def read_exit_code(log: Path) -> int | None:
    """The exit code of the worker's "finished" event (its last line), if it got that far."""
    found: int | None = None
    try:
        with log.open("r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if '"finished"' not in line:
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                code = event.get("exit_code") if isinstance(event, dict) else None
                if event.get("event") == "finished" and isinstance(code, int):
                    found = code
    except OSError:
        return None
    return found
