"""Workers forked from the fork server (local/exec/forkserver.py) keep the contract of the
`python -m worker` subprocess they replace: the same environment, cwd, path, session, streams
and signal handlers, exit codes and signal deaths read as Popen reads them, and they outlive a
runtime killed with SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.exec.executor import (
    ExecutorConfig,
    LocalExecutor,
    WorkerProcess,
    exit_code_of,
    find_container_dir,
)
from local.exec.forkserver import ForkedWorker, shared_launcher
from local.exec.logs import OUTPUTS_DIR, run_dir
from tests.support.local import claim_one, echo, log_events, wait_until

# A worker package that reports what it finds at start, as one JSON line on stdout, and exits
# with the code its params give. __main__ notes whether worker.main was imported before it
# ran: preloaded by the server, rather than imported by this process.
PROBE_MAIN = """\
import sys
preloaded = "worker.main" in sys.modules
from worker.main import main
raise SystemExit(main(preloaded))
"""
PROBE_WORKER = """\
import json, os, signal, sys

def main(preloaded):
    devnull = os.stat(os.devnull)
    state = {
        "event": "probe",
        "preloaded": preloaded,
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "path": sys.path,
        "argv": sys.argv,
        "own_session": os.getsid(0) == os.getpid() == os.getpgrp(),
        "stdin_devnull": os.path.samestat(os.fstat(0), devnull),
        "sigterm": str(signal.getsignal(signal.SIGTERM)),
        "sigint": str(signal.getsignal(signal.SIGINT)),
        "sigchld": str(signal.getsignal(signal.SIGCHLD)),
        "dont_write_bytecode": sys.dont_write_bytecode,
        "ppid": os.getppid(),
    }
    print(json.dumps(state))
    print('{"event": "to stderr"}', file=sys.stderr)  # unbuffered: lands in order
    print('{"event": "to stdout"}')
    return json.loads(os.environ["JOBSCHED_PARAMS"]).get("exit_code", 0)
"""
# A runtime in a process of its own: it forks one echo worker that waits for a file, prints
# the worker's and the server's pids, and waits to be killed.
RUNTIME = """\
import json, os, sys, time
from pathlib import Path
import psutil
from local.exec.forkserver import ForkServerLauncher
from local.exec.executor import find_container_dir

container = find_container_dir()
log, release, outputs = (Path(arg) for arg in sys.argv[1:4])
env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
env |= {
    "PYTHONPATH": str(container),
    "PYTHONUNBUFFERED": "1",
    "JOBSCHED_UNIT_ID": "run_outlives",
    "JOBSCHED_JOB_ID": "job_outlives",
    "JOBSCHED_WORKLOAD": "echo",
    "JOBSCHED_OUTPUT_DIR": str(outputs),
    "JOBSCHED_PARAMS": json.dumps({"sleep_seconds": 3600, "until_file": str(release)}),
}
worker = ForkServerLauncher(container).start(env, log, container)
server = psutil.Process(worker.pid).ppid()
print(json.dumps({"worker": worker.pid, "server": server}), flush=True)
time.sleep(3600)
"""


@pytest.fixture(autouse=True)
def server_of_the_repository() -> None:
    """The fork server preloads the first container dir asked for: the repository's, as in
    the runtime (a probe's worker is then imported by each child itself)."""
    shared_launcher(find_container_dir())


@pytest.fixture
def probe_dir(tmp_path: Path) -> Path:
    container = tmp_path / "probe"
    (container / "worker").mkdir(parents=True)
    (container / "worker" / "__init__.py").write_text("")
    (container / "worker" / "__main__.py").write_text(PROBE_MAIN)
    (container / "worker" / "main.py").write_text(PROBE_WORKER)
    return container


def probe_run(
    stores: Stores, settings: Settings, container: Path, fork_server: bool, **params: Any
) -> tuple[Outcome, dict[str, Any], list[str], dict[str, str]]:
    """The probe run as a unit through the executor: its outcome, what it found, the events of
    its log in order, and the environment the executor gave it."""
    config = ExecutorConfig.from_settings(settings, fork_server=fork_server)
    executor = LocalExecutor(stores.dispatch, config, container_dir=container)
    echo(stores, **params)
    claim = claim_one(stores)
    given = executor.environment(claim, run_dir(config.data_dir, claim.unit_id) / OUTPUTS_DIR)
    outcome = executor.run(claim)
    Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1)).finish(claim, outcome)
    events = log_events(Path(outcome.log_path or ""))
    [state] = [e for e in events if e["event"] == "probe"]
    return outcome, state, [e["event"] for e in events], given


def test_a_forked_worker_finds_what_a_worker_subprocess_finds(
    base_stores: Stores, local_settings: Settings, probe_dir: Path
) -> None:
    forked, state, events, env = probe_run(base_stores, local_settings, probe_dir, True)
    popen, baseline, popen_events, popen_env = probe_run(
        base_stores, local_settings, probe_dir, False
    )

    assert forked.exit_code == popen.exit_code == 0
    assert events == popen_events == ["probe", "to stderr", "to stdout"]
    assert state["environ"] == env  # exactly the executor's environment, nothing else
    assert state["cwd"] == str(probe_dir)
    assert state["path"][:2] == [str(probe_dir), str(probe_dir)]  # cwd, then PYTHONPATH
    assert state["own_session"]
    assert state["stdin_devnull"]
    assert state["sigterm"] == str(signal.SIG_DFL)
    assert state["sigchld"] == str(signal.SIG_DFL)
    assert state["dont_write_bytecode"]
    assert state["ppid"] != os.getpid()  # forked by the server, not by this process
    # Another container dir than the server preloaded: its own worker package is imported.
    assert not state["preloaded"]
    different = {"environ", "ppid"}
    assert {k: v for k, v in state.items() if k not in different} == {
        k: v for k, v in baseline.items() if k not in different
    }
    assert baseline["environ"] == popen_env  # both exactly what they were given


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "popen"])
def test_the_workers_exit_code_is_the_units(
    base_stores: Stores, local_settings: Settings, probe_dir: Path, fork_server: bool
) -> None:
    outcome, *_ = probe_run(base_stores, local_settings, probe_dir, fork_server, exit_code=3)

    assert outcome.exit_code == 3


@pytest.fixture
def container() -> Path:
    return find_container_dir()


def echo_env(container: Path, tmp_path: Path, **params: Any) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return env | {
        "PYTHONPATH": str(container),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "JOBSCHED_UNIT_ID": "run_forked",
        "JOBSCHED_JOB_ID": "job_forked",
        "JOBSCHED_WORKLOAD": "echo",
        "JOBSCHED_OUTPUT_DIR": str(tmp_path / "outputs"),
        "JOBSCHED_PARAMS": json.dumps(params),
    }


@pytest.fixture
def start_echo(container: Path, tmp_path: Path) -> Iterator[Any]:
    """Starts an echo worker, by the fork server or as `python -m worker`; kills any left."""
    started: list[WorkerProcess] = []

    def start(fork_server: bool, **params: Any) -> tuple[WorkerProcess, Path]:
        log = tmp_path / f"log{len(started)}.jsonl"
        env = echo_env(container, tmp_path, **params)
        config = ExecutorConfig(data_dir=tmp_path, fork_server=fork_server)
        executor = LocalExecutor(NO_DISPATCH, config, container_dir=container)
        worker = executor._start(f"run_{len(started)}", env, log)
        assert worker is not None
        started.append(worker)
        return worker, log

    yield start
    for worker in started:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


class _NoDispatch:
    """The executor's store is not used by _start."""


NO_DISPATCH: Any = _NoDispatch()


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "popen"])
def test_a_signal_death_reads_as_popen_reports_it(
    start_echo: Any, tmp_path: Path, fork_server: bool
) -> None:
    worker, log = start_echo(fork_server, sleep_seconds=3600)
    wait_until(lambda: log.exists() and '"echo"' in log.read_text(), what="the workload")

    with pytest.raises(subprocess.TimeoutExpired):
        worker.wait(timeout=0.01)
    assert worker.poll() is None
    os.killpg(worker.pid, signal.SIGKILL)  # its own group: the executor's kill

    assert worker.wait() == -signal.SIGKILL
    assert worker.returncode == -signal.SIGKILL
    assert exit_code_of(worker.returncode) == 137
    assert isinstance(worker, ForkedWorker) == fork_server


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "popen"])
def test_sigterm_reaches_the_worker_which_stops_its_workload(
    start_echo: Any, fork_server: bool
) -> None:
    worker, log = start_echo(fork_server, sleep_seconds=3600)
    wait_until(lambda: log.exists() and '"echo"' in log.read_text(), what="the workload")

    worker.send_signal(signal.SIGTERM)

    assert worker.wait() == 143  # the worker's own exit: it stopped the workload and reported
    events = log_events(log)
    assert [e["signal"] for e in events if e["event"] == "stopped"] == ["SIGTERM"]
    assert events[-1] == {**events[-1], "event": "finished", "exit_code": 143}


def test_workers_are_forked_from_one_server_that_has_the_worker_imported(
    probe_dir: Path, tmp_path: Path
) -> None:
    # A process of its own, so that its one fork server preloads the probe's worker package.
    script = (
        "import json, os, sys\n"
        "from pathlib import Path\n"
        "from local.exec.forkserver import ForkServerLauncher\n"
        "container, out = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "launcher = ForkServerLauncher(container)\n"
        "env = {'PYTHONPATH': str(container), 'JOBSCHED_PARAMS': '{}', 'PYTHONUNBUFFERED': '1'}\n"
        "codes = [launcher.start(env, out / f'{n}.jsonl', container).wait() for n in range(2)]\n"
        "print(json.dumps({'pid': os.getpid(), 'codes': codes}))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script, str(probe_dir), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, found.stderr
    parent = json.loads(found.stdout)
    states = [
        next(e for e in log_events(tmp_path / f"{n}.jsonl") if e["event"] == "probe")
        for n in range(2)
    ]

    assert parent["codes"] == [0, 0]
    assert all(state["preloaded"] for state in states)  # no worker imported it itself
    servers = {state["ppid"] for state in states}
    assert len(servers) == 1  # both forked by the one server...
    assert parent["pid"] not in servers  # ...which is not the runtime


def test_a_forked_worker_outlives_a_runtime_killed_with_sigkill(
    container: Path, tmp_path: Path
) -> None:
    log, release = tmp_path / "log.jsonl", tmp_path / "release"
    runtime = subprocess.Popen(
        [sys.executable, "-c", RUNTIME, str(log), str(release), str(tmp_path / "outputs")],
        stdout=subprocess.PIPE,
        text=True,
    )
    worker: psutil.Process | None = None
    try:
        assert runtime.stdout is not None
        pids = json.loads(runtime.stdout.readline())
        worker = psutil.Process(pids["worker"])
        wait_until(lambda: log.exists() and '"echo"' in log.read_text(), what="the workload")

        runtime.kill()
        runtime.wait()

        assert worker.is_running()
        assert worker.status() != psutil.STATUS_ZOMBIE
        release.touch()
        wait_until(lambda: '"finished"' in log.read_text(), what="the worker to finish")
        assert log_events(log)[-1]["exit_code"] == 0
        # Reaped by the server, which then ends: no zombie, no server left behind.
        wait_until(lambda: not _alive(pids["worker"]), what="the worker to be reaped")
        wait_until(lambda: not _alive(pids["server"]), what="the fork server to end")
    finally:
        runtime.kill()
        if worker is not None and _alive(worker.pid):
            os.killpg(worker.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_concurrent_readers_of_a_forked_workers_status_agree(start_echo: Any) -> None:
    """The status comes over a pipe that one read drains: the executor's wait, a stop's wait
    and the run probe's poll may all ask at once."""
    worker, log = start_echo(True, sleep_seconds=3600)
    wait_until(lambda: log.exists() and '"echo"' in log.read_text(), what="the workload")
    codes: list[int | None] = []
    readers = [threading.Thread(target=lambda: codes.append(worker.wait())) for _ in range(4)]
    for reader in readers:
        reader.start()

    worker.send_signal(signal.SIGTERM)
    for reader in readers:
        reader.join()

    assert codes == [143] * 4
    assert worker.poll() == 143
