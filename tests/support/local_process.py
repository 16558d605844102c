"""`jobsched local` started as a real process, for the end-to-end tests: a free port, a wait for
its health, and a running instance with an API client.

Bounds are generous (tests/support/waiting.py): a loaded machine makes a start slow, not a
test fail.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.waiting import BOUND_SECONDS

API_KEY = "jsk_abc123_secretsecret"
STARTUP_BOUND_SECONDS = BOUND_SECONDS
STOP_BOUND_SECONDS = BOUND_SECONDS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_BOUND_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jobsched local exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"jobsched local not healthy in {STARTUP_BOUND_SECONDS} s:\n{log_path.read_text()}")


def start_local(
    output: Path,
    *extra: str,
    environment: Mapping[str, str] | None = None,
    key: str | None = API_KEY,
) -> tuple[subprocess.Popen[bytes], str]:
    """`jobsched local` on free ports with the test key (`key=None`: none given), its output in
    `output`, the process's environment with `environment` added; returns the process and its
    base URL once healthy."""
    port, moto_port = free_port(), free_port()
    command = [sys.executable, "-m", "local.cli", "local"]
    command += ["--api-key", key] if key is not None else []
    command += ["--port", str(port), "--moto-port", str(moto_port), *extra]
    with output.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(environment or {})}
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process, output)
    except BaseException:
        kill(process)
        raise
    return process, base_url


def api_client(base_url: str) -> httpx.Client:
    """A client of the runtime's /api/v2 holding the test key."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.Client(base_url=f"{base_url}/api/v2", headers=headers, timeout=BOUND_SECONDS)


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a service manager stops it; killed if it does not exit within the bound."""
    process.terminate()
    try:
        process.wait(timeout=STOP_BOUND_SECONDS)
    except subprocess.TimeoutExpired:
        kill(process)


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[str]:
    log_path = tmp_path / "jobsched-local.log"
    process, base_url = start_local(log_path)
    try:
        yield base_url
    finally:
        terminate(process)
    assert process.returncode == 0, log_path.read_text()  # SIGTERM stops it cleanly


WAIT_SECONDS = BOUND_SECONDS
# Fast local timings: the worker beats every half second; the sweeper stays out of the way.
FAST = {
    "JOBSCHED_HEARTBEAT_SECONDS": "0.5",
    "JOBSCHED_STARTUP_LEASE_SECONDS": "30",
    "JOBSCHED_SWEEP_SECONDS": "5",
}


@dataclass
class Local:
    process: subprocess.Popen[bytes]
    api: httpx.Client
    data_dir: Path
    output: Path

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.api.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def submit(self, **params: Any) -> str:
        response = self.api.post("/jobs", json={"template_id": "echo", "params": params})
        assert response.status_code == 201, response.text
        job_id: str = response.json()["job_id"]
        return job_id

    def wait_for(self, job_id: str, *statuses: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["status"] in statuses:
                return job
            time.sleep(0.1)
        pytest.fail(f"job {job_id} not {statuses}: {job}\n{self.output.read_text()}")

    def wait_until_working(self, job_id: str) -> str:
        """Wait until the job's workload has started (read from its log, as a client follows a
        running job); returns the run id."""
        run_id: str = self.wait_for(job_id, "running")["run"]["run_id"]
        deadline = time.monotonic() + WAIT_SECONDS
        while not any(
            '"echo"' in line for line in self.api.get(f"/runs/{run_id}/logs").json()["lines"]
        ):
            assert time.monotonic() < deadline, self.output.read_text()
            time.sleep(0.1)
        return run_id


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    data_dir = tmp_path / "data"
    output = tmp_path / "jobsched-local.log"
    process, base_url = start_local(output, "--data-dir", str(data_dir), environment=FAST)
    try:
        with api_client(base_url) as api:
            yield Local(process, api, data_dir, output)
    finally:
        kill(process)
