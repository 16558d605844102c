"""`jobsched local` as a real process for the benchmarks that need one (crash, api): started on
chosen ports with the test key and fast timings, waited for until healthy, killed or stopped.

It mirrors tests/support/local_process.py, without pytest: a benchmark reports a runtime that
does not start as an error, never as a failed test.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.harness import LOOPBACK, WAIT_SECONDS, free_port

API_KEY = "jsk_abc123_secretsecret"
# As tests/support/local_process.py FAST: the lease is kept every half second, the sweeper
# looks every 5 s.
FAST = {
    "JOBSCHED_HEARTBEAT_SECONDS": "0.5",
    "JOBSCHED_STARTUP_LEASE_SECONDS": "30",
    "JOBSCHED_SWEEP_SECONDS": "5",
}
POLL_SECONDS = 0.05


class RuntimeStartError(RuntimeError):
    """The process exited, or never answered /health."""


@dataclass(frozen=True)
class Ports:
    api: int
    moto: int

    @classmethod
    def free(cls) -> "Ports":
        return cls(free_port(), free_port())


@dataclass
class LocalProcess:
    process: subprocess.Popen[bytes]
    ports: Ports
    output: Path
    slots: int
    started_in: float = 0.0  # seconds from the spawn to the first healthy answer
    killed_at: float | None = None  # perf_counter() just before the SIGKILL

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.api}"

    def client(self, timeout: float = WAIT_SECONDS) -> httpx.Client:
        """A client of /api/v2 holding the key (one per thread: a Client is not shared)."""
        headers = {"Authorization": f"Bearer {API_KEY}"}
        return httpx.Client(base_url=f"{self.base_url}/api/v2", headers=headers, timeout=timeout)

    def kill9(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or saved."""
        if self.process.poll() is None:
            self.killed_at = time.perf_counter()
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it (it stops its workers first)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.process.returncode


def start(
    data_dir: Path, store: str, ports: Ports, output: Path, *extra: str, slots: int = 1
) -> LocalProcess:
    """`jobsched local --store <store>` on `ports` over `data_dir`, its output appended to
    `output`; returns once /health answers."""
    command = [sys.executable, "-m", "local.cli", "local", "--api-key", API_KEY]
    command += ["--port", str(ports.api), "--moto-port", str(ports.moto)]
    command += ["--data-dir", str(data_dir), "--store", store, "--slots", str(slots)]
    command += ["--executor", "process", *extra]  # workers as processes, as the tests run them
    started = time.perf_counter()
    with output.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **FAST}
        )
    local = LocalProcess(process, ports, output, slots)
    try:
        _wait_healthy(local)
    except BaseException:
        local.kill9()
        raise
    local.started_in = time.perf_counter() - started
    return local


def restart(previous: LocalProcess, data_dir: Path, store: str, output: Path) -> LocalProcess:
    """Start again on the same ports and slots, as a user restarts it; on fresh ports if those
    are taken."""
    try:
        return start(data_dir, store, previous.ports, output, slots=previous.slots)
    except RuntimeStartError:
        return start(data_dir, store, Ports.free(), output, slots=previous.slots)


def _wait_healthy(local: LocalProcess) -> None:
    # One client for every poll: a client per poll builds an SSL context each time, which
    # costs a tenth of a second of CPU, taken from the runtime that is starting.
    deadline = time.monotonic() + WAIT_SECONDS
    with httpx.Client(timeout=1) as probe:
        while time.monotonic() < deadline:
            if local.process.poll() is not None:
                tail = local.output.read_text(errors="replace")[-2000:]
                code = local.process.returncode
                raise RuntimeStartError(f"jobsched local exited with {code}:\n{tail}")
            try:
                if probe.get(f"{local.base_url}/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(POLL_SECONDS)
    raise RuntimeStartError(f"jobsched local not healthy in {WAIT_SECONDS} s ({local.output})")


@contextmanager
def running(
    data_dir: Path, store: str, output: Path, *extra: str, slots: int = 1
) -> Iterator[LocalProcess]:
    """A runtime on free ports, stopped with SIGTERM on exit."""
    local = start(data_dir, store, Ports.free(), output, *extra, slots=slots)
    try:
        yield local
    finally:
        local.stop()
