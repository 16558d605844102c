"""The worker: read the unit from the environment, run its workload, keep its outputs, report.

Every run ends with a "finished" event and the process's exit code: the workload's own code,
1 when it raised, 2 when the worker was started wrongly, 143 when it was stopped (SIGTERM,
SIGINT, or the run was ended elsewhere). Before it, one "usage" event gives what the run's
model calls used, whatever the outcome (zeros for a run that called none).
"""

import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from worker import artifacts, config
from worker.aws import Clients
from worker.config import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STOPPED,
    EXIT_USAGE,
    STOP_GRACE_SECONDS,
    ConfigError,
    WorkerConfig,
)
from worker.context import InvalidParams, WorkloadContext
from worker.events import EventLog, mask_secrets
from worker.heartbeat import Heartbeat
from worker.providers import Provider, make_provider
from worker.runner import Finished, run_workload
from worker.transact import Sent, result_values, send
from worker.usage import Usage, UsageMeter
from worker.workloads import Workload, find


class StopSignals:
    """SIGTERM and SIGINT set the stop event; the workload notices at its next check.

    The handler only records and sets: logging from inside a handler could deadlock on the
    log's lock held by the interrupted main thread.
    """

    def __init__(self, stop: threading.Event) -> None:
        self.received: list[str] = []
        self._stop = stop
        if threading.current_thread() is threading.main_thread():  # signals need the main thread
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.received.append(signal.Signals(signum).name)
        self._stop.set()


class Reporter:
    """Records the worker's own outcome on the run once, so a dead dispatcher can reconcile."""

    def __init__(self, template: Mapping[str, Any] | None, clients: Clients, log: EventLog) -> None:
        self._template = template
        self._clients = clients
        self._log = log

    def send(self, exit_code: int, uris: Sequence[str], usage: Usage) -> None:
        if self._template is None:
            return
        values = result_values(int(time.time()), exit_code, uris, usage)
        outcome = send(self._clients.dynamodb, self._template, values)
        if outcome.sent is Sent.OK:
            self._log.emit("result_recorded", exit_code=exit_code)
        else:  # not fatal: the dispatcher, or the sweeper, still learns the outcome its own way
            rejected = outcome.sent is Sent.ENDED
            self._log.emit("result_failed", rejected=rejected, error=outcome.error)


@dataclass(frozen=True)
class Unit:
    """What the worker holds while a started unit runs."""

    cfg: WorkerConfig
    workload: Workload
    output_dir: Path
    clients: Clients
    reporter: Reporter
    log: EventLog
    stop: threading.Event
    signals: StopSignals


def main(env: Mapping[str, str] | None = None, stream: TextIO | None = None) -> int:
    env = os.environ if env is None else env
    log = EventLog(*config.unit_ids(env), stream=stream)
    stop = threading.Event()
    signals = StopSignals(stop)
    exit_code = _start(env, log, stop, signals)
    log.emit("finished", exit_code=exit_code)
    return exit_code


def _start(
    env: Mapping[str, str], log: EventLog, stop: threading.Event, signals: StopSignals
) -> int:
    try:
        # Read first, so that a unit that cannot start still has its outcome recorded.
        result_template = config.transact_template(env, config.ENV_RESULT)
    except ConfigError as exc:
        log.emit("error", message=str(exc))
        _log_usage(log, UsageMeter())
        return EXIT_USAGE
    clients = Clients(config.aws_region(env))
    reporter = Reporter(result_template, clients, log)
    try:
        cfg = config.load(env)
        workload = _workload(cfg.workload)
        output_dir = _output_dir(cfg)
    except ConfigError as exc:
        log.emit("error", message=str(exc))
        reporter.send(EXIT_USAGE, [], _log_usage(log, UsageMeter()))
        return EXIT_USAGE
    log.emit(
        "started",
        workload=cfg.workload,
        params=mask_secrets(cfg.params),
        output_dir=str(output_dir),
    )
    return _run(Unit(cfg, workload, output_dir, clients, reporter, log, stop, signals))


def _workload(name: str) -> Workload:
    workload = find(name)
    if workload is None:
        raise ConfigError(f"unknown workload {name!r}")
    return workload


def _output_dir(cfg: WorkerConfig) -> Path:
    if cfg.output_dir is None:
        return Path(tempfile.mkdtemp(prefix="jobsched-"))
    try:
        cfg.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot use {config.ENV_OUTPUT_DIR}={cfg.output_dir}: {exc}") from exc
    return cfg.output_dir


def _run(unit: Unit) -> int:
    heartbeat = None
    cfg = unit.cfg
    meter = UsageMeter()
    if cfg.heartbeat is not None:
        heartbeat = Heartbeat(
            unit.clients.dynamodb,
            cfg.heartbeat,
            cfg.heartbeat_seconds,
            unit.log,
            unit.stop,
            usage=meter.totals,  # each beat says what the run used so far
        )
        if not heartbeat.beat():
            _log_usage(unit.log, UsageMeter())
            return EXIT_STOPPED  # ended before it began: run nothing, leave the record alone
        heartbeat.start()

    ctx = WorkloadContext(
        output_dir=unit.output_dir,
        stop=unit.stop,
        events=unit.log,
        unit_id=cfg.unit_id,
        provider=_provider(unit),
        usage=meter,
    )
    finished = run_workload(unit.workload, unit.cfg.params, ctx, STOP_GRACE_SECONDS)
    exit_code = _exit_code(finished, unit.log, unit.signals)
    # What was used so far: an abandoned workload's call still in flight is not counted.
    usage = _log_usage(unit.log, ctx.usage)
    # Outputs are kept while the heartbeat still runs: a long upload must not lose the lease.
    kept = _keep_outputs(unit)
    if kept.failures and exit_code == EXIT_OK:
        exit_code = EXIT_FAILED  # a run whose outputs are lost did not succeed
    if cfg.output_dir is None and cfg.artifacts_bucket and not kept.failures:
        shutil.rmtree(unit.output_dir, ignore_errors=True)  # our own temp dir, now in S3

    if heartbeat is not None:
        heartbeat.close()
        if heartbeat.ended.is_set():
            # Whoever ended the run (cancel, sweeper) recorded its outcome; ours would be refused.
            return EXIT_STOPPED
    unit.reporter.send(exit_code, kept.uris, usage)
    return exit_code


def _log_usage(log: EventLog, meter: UsageMeter) -> Usage:
    """Log the run's usage totals, once per run; they go in the result too."""
    usage = meter.totals()
    log.emit("usage", usage=usage)
    return usage


def _provider(unit: Unit) -> Provider:
    def keys_loaded(names: list[str]) -> None:
        unit.log.emit("model_keys_loaded", names=names)  # the variables' names, never values

    cfg = unit.cfg
    return make_provider(
        cfg.model_provider, cfg.model_keys_secret, unit.clients.secretsmanager, keys_loaded
    )


def _exit_code(finished: Finished, log: EventLog, signals: StopSignals) -> int:
    if finished.raised is not None:
        _log_error(finished.raised, log)
    if finished.stopped:
        # signal None: stopped because the run was ended elsewhere ("cancelled" was logged).
        signal_name = signals.received[0] if signals.received else None
        log.emit("stopped", signal=signal_name, abandoned=finished.abandoned)
        return EXIT_STOPPED
    if isinstance(finished.raised, InvalidParams):
        return EXIT_USAGE
    if finished.raised is not None:
        return EXIT_FAILED
    code = finished.returned
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 255:
        log.emit("error", message=f"the workload returned {code!r}, not an exit code 0-255")
        return EXIT_FAILED
    return code


def _log_error(exc: BaseException, log: EventLog) -> None:
    if isinstance(exc, InvalidParams):
        log.emit("error", message=f"invalid params: {exc}")
        return
    log.emit(
        "error",
        message=str(exc) or type(exc).__name__,
        error_type=type(exc).__name__,
        traceback="".join(traceback.format_exception(exc)),
    )


def _keep_outputs(unit: Unit) -> artifacts.Kept:
    cfg = unit.cfg
    if cfg.artifacts_bucket:
        kept = artifacts.upload(
            unit.clients.s3, unit.output_dir, cfg.artifacts_bucket, cfg.artifacts_prefix
        )
    else:
        kept = artifacts.local(unit.output_dir)
    for failure in kept.failures:
        unit.log.emit("artifact_upload_failed", error=failure)
    unit.log.emit("artifacts", artifacts=kept.uris)
    return kept
