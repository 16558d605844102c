"""The local executor: the container's worker as a real process, on either store: reporting to
moto's server itself, or (SQLite) with the executor keeping its lease."""

import stat
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import cancel_job
from jobsched.models import JobTemplate, RunStatus
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.exec.executor import ExecutorConfig, LocalExecutor, exit_code_of
from local.exec.logs import FileLogReader
from tests.support.local import claim_one, echo, log_events, wait_until
from tests.support.waiting import BOUND_SECONDS


def test_a_job_runs_to_exit_0_with_its_outputs_as_file_artifacts(
    base_stores: Stores, executor: LocalExecutor, local_settings: Settings, store_backend: str
) -> None:
    job = echo(base_stores, message="hello from a test")
    claim = claim_one(base_stores)

    outcome = executor.run(claim)

    assert outcome.exit_code == 0, Path(outcome.log_path or "").read_text()
    assert outcome.error is None
    [artifact] = outcome.artifacts
    assert artifact.startswith("file://")
    path = Path(urlsplit(artifact).path)
    assert path.read_text() == "hello from a test\n"
    assert path.is_relative_to(Path(local_settings.data_dir).resolve() / "runs" / claim.unit_id)
    log = Path(outcome.log_path or "")
    assert log == Path(local_settings.data_dir).resolve() / "runs" / claim.unit_id / "log.jsonl"
    events = log_events(log)  # every line is one JSON object
    # On DynamoDB the worker records its result itself; on SQLite it has no store, and the
    # executor records it from the worker's exit (the run's fields below hold on both).
    reported = ["result_recorded"] if store_backend == "dynamodb" else []
    names = ["started", "echo", "usage", "artifacts", *reported, "finished"]
    assert [e["event"] for e in events] == names
    assert {e["unit_id"] for e in events} == {claim.unit_id}
    assert {e["job_id"] for e in events} == {job.job_id}
    # The executor noted the process id (the spec's run.pid). On DynamoDB the worker beat and
    # reported itself; on SQLite the executor keeps the lease (from its first period on: the
    # claim has just set it) and the finish records the end.
    run = base_stores.runs.get(claim.unit_id)
    if store_backend == "dynamodb":
        assert (run.heartbeat_at is not None, run.worker_exit_code) == (True, 0)
    else:
        assert (run.heartbeat_at, run.worker_exit_code) == (None, None)
    assert run.pid is not None
    assert run.pid > 0
    # A log holds the params and what the workload prints: its owner's only.
    unit = log.parent
    modes = [stat.S_IMODE(p.stat().st_mode) for p in (unit.parent, unit, path.parent, log)]
    assert modes == [0o700, 0o700, 0o700, 0o600]


def test_the_finished_run_records_the_outcome(base_stores: Stores, executor: LocalExecutor) -> None:
    echo(base_stores)
    claim = claim_one(base_stores)
    dispatcher = Dispatcher(base_stores, base_stores.dispatch, DispatchConfig(slots=1))

    outcome = executor.run(claim)
    dispatcher.finish(claim, outcome)

    run = base_stores.runs.get(claim.unit_id)
    assert run.status == RunStatus.COMPLETED
    assert run.exit_code == 0
    assert run.artifacts == outcome.artifacts
    assert run.log_path == outcome.log_path


def test_a_failing_workload_gives_its_exit_code(
    base_stores: Stores, executor: LocalExecutor
) -> None:
    echo(base_stores, exit_code=3)

    outcome = executor.run(claim_one(base_stores))

    assert outcome.exit_code == 3
    assert outcome.error is None
    assert not outcome.succeeded
    assert len(outcome.artifacts) == 1  # outputs are kept whatever the code


def test_the_template_timeout_stops_the_worker(
    base_stores: Stores, executor: LocalExecutor
) -> None:
    base_stores.templates.create(
        JobTemplate(template_id="quick", name="Quick", workload="echo", timeout_seconds=1)
    )
    echo(base_stores, "quick", sleep_seconds=3600)  # only the timeout ends it
    claim = claim_one(base_stores)

    outcome = executor.run(claim)

    assert outcome.exit_code == 143  # SIGTERM: the worker stopped its workload and reported
    assert outcome.error == "timeout"
    events = [e["event"] for e in log_events(Path(outcome.log_path or ""))]
    assert "timeout" in events
    assert events[-1] == "finished"


def run_in_background(executor: LocalExecutor, stores: Stores) -> tuple[str, list[Outcome]]:
    claim = claim_one(stores)
    outcomes: list[Outcome] = []
    thread = threading.Thread(target=lambda: outcomes.append(executor.run(claim)), daemon=True)
    thread.start()
    log = executor.log_path(claim.unit_id)
    wait_until(lambda: log.exists() and '"echo"' in log.read_text(), what="the workload")
    return claim.unit_id, outcomes


def test_stop_sends_sigterm_and_the_worker_exits_143(
    base_stores: Stores, executor: LocalExecutor
) -> None:
    echo(base_stores, sleep_seconds=3600)  # only the stop ends it
    unit_id, outcomes = run_in_background(executor, base_stores)

    executor.stop(unit_id, "cancelled")

    [outcome] = wait_until(lambda: outcomes, what="the worker to exit")
    assert outcome.exit_code == 143
    assert outcome.error == "cancelled"
    assert executor.running == []


def test_stop_of_a_unit_not_running_does_nothing(executor: LocalExecutor) -> None:
    executor.stop("run_unknown", "cancelled")

    assert executor.running == []


def test_a_worker_that_ignores_sigterm_is_killed_after_the_grace(
    base_stores: Stores, local_settings: Settings, tmp_path: Path
) -> None:
    stubborn = tmp_path / "container"
    (stubborn / "worker").mkdir(parents=True)
    (stubborn / "worker" / "__main__.py").write_text(
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        'print(\'{"event": "echo"}\', flush=True)\n'
        "time.sleep(60)\n"
    )
    config = ExecutorConfig.from_settings(local_settings, stop_grace_seconds=0.5)
    executor = LocalExecutor(base_stores.dispatch, config, container_dir=stubborn)
    echo(base_stores)
    unit_id, outcomes = run_in_background(executor, base_stores)

    executor.stop(unit_id, "cancelled")

    [outcome] = wait_until(lambda: outcomes, what="the kill")
    assert outcome.exit_code == 137  # 128 + SIGKILL
    assert outcome.error == "cancelled"


def test_stop_all_stops_every_worker_and_starts_no_more(
    base_stores: Stores, executor: LocalExecutor
) -> None:
    echo(base_stores, sleep_seconds=30)
    _, outcomes = run_in_background(executor, base_stores)

    executor.stop_all("shutdown")

    [outcome] = wait_until(lambda: outcomes, what="the worker to exit")
    assert outcome.exit_code == 143
    assert outcome.error == "shutdown"
    echo(base_stores)
    late = Dispatcher(base_stores, base_stores.dispatch, DispatchConfig(slots=2)).claim()
    assert late is not None
    assert executor.run(late) == Outcome(
        exit_code=None, error="shutdown", log_path=str(executor.log_path(late.unit_id))
    )


def test_the_log_reader_follows_a_run_by_its_id_while_it_runs(
    base_stores: Stores, executor: LocalExecutor, logs: FileLogReader
) -> None:
    echo(base_stores, message="followed", sleep_seconds=30)
    unit_id, _ = run_in_background(executor, base_stores)

    lines, cursor = logs.read(unit_id, None, 100)

    assert any('"followed"' in line for line in lines)
    executor.stop(unit_id, "cancelled")
    more = wait_until(
        lambda: logs.read(unit_id, cursor, 100)[0] if not executor.running else None,
        what="the rest of the log",
    )
    assert '"finished"' in more[-1]


@pytest.mark.parametrize(
    ("returncode", "exit_code"), [(0, 0), (3, 3), (-15, 143), (-9, 137), (None, None)]
)
def test_exit_codes_of_signals_read_as_a_shell_reports_them(
    returncode: int | None, exit_code: int | None
) -> None:
    assert exit_code_of(returncode) == exit_code


def test_a_unit_ended_elsewhere_is_stopped_at_its_next_heartbeat(
    base_stores: Stores, executor: LocalExecutor
) -> None:
    """Its lease is renewed while it runs (by the worker on DynamoDB, by the executor on
    SQLite), and a renewal that finds the run ended stops it: the test's stores stop no task
    themselves, so nothing else could."""
    job = echo(base_stores, sleep_seconds=3600)
    claim = claim_one(base_stores)
    outcomes: list[Outcome] = []
    running = threading.Thread(target=lambda: outcomes.append(executor.run(claim)))
    running.start()
    wait_until(lambda: base_stores.runs.get(claim.unit_id).heartbeat_at is not None, what="a beat")

    cancel_job(base_stores, job.job_id)
    running.join(BOUND_SECONDS)

    assert not running.is_alive(), "the worker was stopped"
    events = log_events(executor.log_path(claim.unit_id))
    assert "cancelled" in [event["event"] for event in events]
    [outcome] = outcomes
    assert outcome.exit_code != 0
