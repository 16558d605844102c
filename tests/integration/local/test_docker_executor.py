"""The docker executor, with the docker CLI replaced by a stand-in that records its arguments
and runs the worker from what `docker run` was given: the environment flags, the signals it
forwards (as `--sig-proxy` does) and the exit code it returns. No docker engine runs here."""

import json
import os
import stat
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from jobsched.models.units import Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.exec import docker
from local.exec.docker import IMAGE, DockerExecutor, build_image, docker_usable
from local.exec.executor import ExecutorConfig, find_container_dir
from local.runtime import LocalConfig, LocalRuntime
from tests.support.local import STOP_GRACE_SECONDS, claim_one, echo, wait_until

FAKE_DOCKER = """#!{python}
import json, os, signal, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[0] != "run":
    sys.exit(0)
env, rest, i = {{}}, [], 1
while i < len(args):
    if args[i] == "--env":
        name, _, value = args[i + 1].partition("=")
        env[name] = value
        i += 2
    elif args[i] in ("--name", "--network", "--user", "--volume"):
        i += 2
    elif args[i] == "--rm":
        i += 1
    else:
        rest.append(args[i])
        i += 1
env["PATH"] = os.environ["PATH"]
worker = subprocess.Popen([sys.executable, "-m", "worker"], env=env, cwd=os.environ["FAKE_IMAGE"])
signal.signal(signal.SIGTERM, lambda *_: worker.send_signal(signal.SIGTERM))
code = worker.wait()
sys.exit(128 - code if code < 0 else code)
"""


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "docker"
    cli.write_text(FAKE_DOCKER.format(python=sys.executable))
    cli.chmod(cli.stat().st_mode | stat.S_IXUSR)
    calls = tmp_path / "docker-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(calls))
    monkeypatch.setenv("FAKE_IMAGE", str(find_container_dir()))  # the image's /app
    return calls


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def docker_executor(base_stores: Stores, local_settings: Settings) -> DockerExecutor:
    config = ExecutorConfig.from_settings(local_settings, stop_grace_seconds=STOP_GRACE_SECONDS)
    return DockerExecutor(base_stores.dispatch, config)


def test_the_engine_is_probed_and_the_image_built_from_container(fake_docker: Path) -> None:
    assert docker_usable()
    build_image(find_container_dir())
    calls = _calls(fake_docker)
    assert calls[0] == ["info"]
    assert calls[1] == ["build", "--quiet", "-t", IMAGE, str(find_container_dir())]


def test_without_a_docker_cli_docker_is_not_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    assert not docker_usable()


def test_a_job_runs_in_the_image_with_the_workers_contract(
    fake_docker: Path, base_stores: Stores, docker_executor: DockerExecutor, store_backend: str
) -> None:
    echo(base_stores, message="from the image")
    claim = claim_one(base_stores)

    outcome = docker_executor.run(claim)

    assert outcome.exit_code == 0, Path(outcome.log_path or "").read_text()
    [artifact] = outcome.artifacts
    assert Path(urlsplit(artifact).path).read_text() == "from the image\n"
    [run] = [call for call in _calls(fake_docker) if call[0] == "run"]
    assert run[-1] == IMAGE
    assert run[run.index("--network") + 1] == "host"  # the emulator is on loopback
    assert run[run.index("--user") + 1] == f"{os.getuid()}:{os.getgid()}"
    outputs = run[run.index("--volume") + 1].split(":")
    assert outputs[0] == outputs[1]  # the outputs folder at the same path inside
    env = dict(arg.split("=", 1) for arg in run[1:] if "=" in arg and arg.startswith("JOB"))
    assert env["JOBSCHED_UNIT_ID"] == claim.unit_id
    # The worker beats itself where it can reach the store (DynamoDB); on SQLite it has none.
    assert ("JOBSCHED_HEARTBEAT" in env) == (store_backend == "dynamodb")
    assert "PYTHONPATH" not in {arg.split("=")[0] for arg in run}  # the image has its own
    # Reported by the worker itself where it reaches the store; on SQLite the finish records it.
    reported = base_stores.runs.get(claim.unit_id).worker_exit_code
    assert reported == (0 if store_backend == "dynamodb" else None)


def test_a_stop_reaches_the_container_and_it_exits_143(
    fake_docker: Path, base_stores: Stores, docker_executor: DockerExecutor
) -> None:
    echo(base_stores, sleep_seconds=3600)  # far past the wait's bound: only the stop ends it
    claim = claim_one(base_stores)
    outcomes: list[Outcome] = []
    thread = threading.Thread(target=lambda: outcomes.append(docker_executor.run(claim)))
    thread.start()
    log = docker_executor.log_path(claim.unit_id)
    wait_until(lambda: log.exists() and '"echo"' in log.read_text(), what="the workload")

    docker_executor.stop(claim.unit_id, "cancelled")

    [outcome] = wait_until(lambda: outcomes, what="the container to exit")
    thread.join()
    assert (outcome.exit_code, outcome.error) == (143, "cancelled")


@pytest.mark.parametrize(
    ("choice", "engine", "expected"),
    [
        ("auto", False, False),
        ("auto", True, True),
        ("process", True, False),
        ("docker", False, True),
    ],
)
def test_the_runtime_chooses_its_executor(
    monkeypatch: pytest.MonkeyPatch, choice: str, engine: bool, expected: bool
) -> None:
    monkeypatch.setattr(docker, "docker_usable", lambda: engine)
    runtime = LocalRuntime(LocalConfig(executor=choice))
    assert runtime._uses_docker() is expected
