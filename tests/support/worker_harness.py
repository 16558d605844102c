"""Run the container's worker as the dispatcher does: a subprocess, configured by environment;
and reach the moto server as the worker does."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tests.support.waiting import BOUND_SECONDS

CONTAINER_DIR = Path(__file__).resolve().parents[2] / "container"
# A stand-in `litellm` package, for failures and usage on demand (see its docstring).
FAKE_LITELLM_DIR = Path(__file__).resolve().parent / "fake_litellm"
UNIT_ID = "run-1"
JOB_ID = "job-1"
TIMEOUT = BOUND_SECONDS
REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"  # moto accepts any; the worker must never find real ones


def worker_env(**overrides: str) -> dict[str, str]:
    """A clean environment: only what the dispatcher would set, plus fake AWS credentials."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(CONTAINER_DIR),
        "PYTHONDONTWRITEBYTECODE": "1",  # keep container/ free of __pycache__
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",  # never probe for instance credentials
        "JOBSCHED_UNIT_ID": UNIT_ID,
        "JOBSCHED_JOB_ID": JOB_ID,
    }
    env.update(overrides)
    return env


def unit_env(workload: str, out: Path, **params: object) -> dict[str, str]:
    """`worker_env` for a unit of `workload` with these params, writing its outputs under `out`."""
    return worker_env(
        JOBSCHED_WORKLOAD=workload,
        JOBSCHED_PARAMS=json.dumps(params),
        JOBSCHED_OUTPUT_DIR=str(out),
    )


def aws_client(service: str, endpoint: str) -> Any:
    """A boto3 client of the moto server at `endpoint`, with the workers' fake credentials."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIAL,
        aws_secret_access_key=FAKE_CREDENTIAL,
    )


def with_fake_litellm(env: dict[str, str]) -> dict[str, str]:
    """`env` for a worker whose `import litellm` finds the fake, selected as the provider."""
    return {
        **env,
        "PYTHONPATH": os.pathsep.join([env["PYTHONPATH"], str(FAKE_LITELLM_DIR)]),
        "JOBSCHED_MODEL_PROVIDER": "litellm",
    }


def _parse(line: str) -> dict[str, Any]:
    event = json.loads(line)  # every stdout line must be one JSON object
    assert isinstance(event, dict), line
    return event


@dataclass
class Exited:
    code: int
    events: list[dict[str, Any]]
    stderr: str = ""

    def names(self) -> list[str]:
        return [event["event"] for event in self.events]

    def named(self, name: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["event"] == name]

    def first(self, name: str) -> dict[str, Any]:
        return self.named(name)[0]


def run_worker(env: dict[str, str]) -> Exited:
    done = subprocess.run(
        [sys.executable, "-m", "worker"],
        cwd=CONTAINER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    events = [_parse(line) for line in done.stdout.splitlines()]
    return Exited(done.returncode, events, done.stderr)


@dataclass
class RunningWorker:
    """A worker in the background, whose events can be awaited one by one."""

    process: subprocess.Popen[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    _lines: "queue.Queue[str | None]" = field(default_factory=queue.Queue)

    @classmethod
    def start(cls, env: dict[str, str]) -> "RunningWorker":
        process = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=CONTAINER_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running = cls(process)
        threading.Thread(target=running._read, daemon=True).start()
        return running

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, name: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            event = _parse(line)
            self.events.append(event)
            if event["event"] == name:
                return event
        raise AssertionError(f"no {name!r} event; saw {[e['event'] for e in self.events]}")

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = TIMEOUT) -> Exited:
        code = self.process.wait(timeout)
        while (line := self._lines.get(timeout=timeout)) is not None:
            self.events.append(_parse(line))
        assert self.process.stderr is not None
        return Exited(code, self.events, self.process.stderr.read())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# What the start_worker fixture (tests/container/conftest.py) gives a test.
StartWorker = Callable[[dict[str, str]], "RunningWorker"]
