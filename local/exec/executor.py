"""Runs a claimed unit's worker as a local subprocess: the container's `python -m worker`, with
the environment ECS would give it (container/README.md), its output in the run's log file.

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
from typing import Any

from jobsched import worker_contract as contract
from jobsched.models.units import Claim, Outcome
from jobsched.ports.dispatch import DispatchStore
from jobsched.settings import Settings
from local.exec.logs import OUTPUTS_DIR, log_file, run_dir

logger = logging.getLogger(__name__)

# Above the worker's own 10 s wait for a workload that ignores a stop (worker/config.py), so a
# stopped worker still gets to keep its outputs and report before it is killed.
STOP_GRACE_SECONDS = 15.0
SIGNAL_EXIT_BASE = 128  # a process killed by signal n exits 128 + n, as a shell reports it
TIMEOUT = "timeout"
SHUTDOWN = "shutdown"
# The emulator checks no credentials; fixed fake ones keep real ones from reaching a worker.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


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
        self._running: dict[str, subprocess.Popen[bytes]] = {}
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
        outputs = run_dir(self.config.data_dir, claim.unit_id) / OUTPUTS_DIR
        try:
            outputs.mkdir(parents=True, exist_ok=True)
            env = self.environment(claim, outputs)
            process = self._start(claim.unit_id, env, log)
        except OSError as exc:
            logger.error("cannot start the worker of %s: %s", claim.unit_id, exc)
            return Outcome(exit_code=None, error=f"cannot start the worker: {exc}")
        if process is None:
            return Outcome(exit_code=None, error=SHUTDOWN, log_path=str(log))
        try:
            self.dispatch.record_pid(claim, process.pid)
        except Exception:  # the pid is for people; a store hiccup must not fail the run
            logger.warning("could not record the pid of %s", claim.unit_id, exc_info=True)
        try:
            timed_out = self._wait(process, claim.template.timeout_seconds, log)
        finally:
            with self._lock:
                self._running.pop(claim.unit_id, None)
                stopped = self._stop_reasons.pop(claim.unit_id, None)
        return Outcome(
            exit_code=exit_code_of(process.returncode),
            error=TIMEOUT if timed_out else stopped,
            artifacts=read_artifacts(log),
            log_path=str(log),
        )

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
            contract.ENV_HEARTBEAT: json.dumps(self.dispatch.heartbeat_request(claim)),
            contract.ENV_RESULT: json.dumps(self.dispatch.result_request(claim)),
            contract.ENV_REGION: self.config.region,
            contract.ENV_DEFAULT_REGION: self.config.region,
            "AWS_EC2_METADATA_DISABLED": "true",  # never probe for instance credentials
        }
        if self.config.endpoint_url:
            env |= {"AWS_ENDPOINT_URL": self.config.endpoint_url, **FAKE_CREDENTIALS}
        return env

    def _start(
        self, unit_id: str, env: Mapping[str, str], log: Path
    ) -> subprocess.Popen[bytes] | None:
        with self._lock:  # a stop_all() racing this start either sees the process or prevents it
            if self._closed:
                return None
            argv, process_env = self.command(unit_id, env)
            with log.open("ab") as out:
                process = subprocess.Popen(  # noqa: S603 - the worker, or docker running it
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
            self._running[unit_id] = process
        logger.info("unit %s: worker pid %d, log %s", unit_id, process.pid, log)
        return process

    def command(self, unit_id: str, env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        """The worker's command line and the environment of the process that runs it."""
        return [sys.executable, "-m", "worker"], dict(env)

    def _wait(self, process: subprocess.Popen[bytes], timeout: float, log: Path) -> bool:
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

    def _kill_after_grace(self, process: subprocess.Popen[bytes]) -> None:
        try:
            process.wait(timeout=self.config.stop_grace_seconds)
        except subprocess.TimeoutExpired:
            logger.warning("worker pid %d ignored SIGTERM; killing it", process.pid)
            self.kill(process)
            process.wait()

    def kill(self, process: subprocess.Popen[bytes]) -> None:
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


def _signal(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    # Only the worker itself, as `docker stop` signals a container's PID 1; it stops its
    # workload and reports.
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
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
    found: list[str] = []
    try:
        with log.open("r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if '"artifacts"' not in line:  # cheap filter before parsing each line
                    continue
                uris = _artifacts_of(line)
                if uris is not None:
                    found = uris
    except OSError:
        return []
    return found


def _artifacts_of(line: str) -> list[str] | None:
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None  # stderr output, a traceback: not an event
    if not isinstance(event, dict) or event.get("event") != "artifacts":
        return None
    uris = event.get("artifacts")
    if not isinstance(uris, list):
        return None
    return [uri for uri in uris if isinstance(uri, str)]
