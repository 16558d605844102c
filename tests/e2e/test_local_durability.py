"""`jobsched local` on its default store (SQLite) loses nothing across a crash, a stop or a
restart: an acknowledged job is there after a kill -9 that came right after its 201, a job
interrupted by a stop runs again, and a worker that outlived the runtime is adopted (or its
outcome recorded from its log) rather than run twice."""

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from jobsched.models.units import INTERRUPTED
from tests.support.local_process import FAST, api_client, start_local
from tests.support.waiting import BOUND_SECONDS, wait_until


@dataclass
class Runtime:
    data_dir: Path
    logs: Path
    lives: int = 0

    def start(self) -> "Life":
        self.lives += 1
        output = self.logs / f"life-{self.lives}.log"
        process, base_url = start_local(output, "--data-dir", str(self.data_dir), environment=FAST)
        return Life(process, api_client(base_url), output)


@dataclass
class Life:
    process: Any
    api: httpx.Client
    output: Path

    def submit(self, **params: Any) -> str:
        response = self.api.post("/jobs", json={"template_id": "echo", "params": params})
        assert response.status_code == 201, response.text
        job_id: str = response.json()["job_id"]
        return job_id

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.api.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def runs(self, job_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api.get("/runs", params={"job_id": job_id}).json()[
            "items"
        ]
        return sorted(items, key=lambda run: run["started_at"])

    def wait_for(self, job_id: str, *statuses: str) -> dict[str, Any]:
        wait_until(lambda: self.job(job_id)["status"] in statuses, what=f"{job_id} {statuses}")
        return self.job(job_id)

    def kill(self) -> None:
        """kill -9: no handler runs, nothing is flushed or saved."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.api.close()

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it: a clean stop."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=BOUND_SECONDS) == 0, self.output.read_text()
        self.api.close()


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    return Runtime(tmp_path / "data", tmp_path)


@pytest.fixture(autouse=True)
def no_orphans(tmp_path: Path) -> Iterator[None]:
    """Workers outlive a killed runtime by design: end any a test left behind."""
    yield
    for note in (tmp_path / "data" / "runs").glob("*/worker.json"):
        pid = json.loads(note.read_text())["pid"]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def worker_pid(runtime: Runtime, run_id: str) -> int:
    note = runtime.data_dir / "runs" / run_id / "worker.json"
    wait_until(note.exists, what="the worker's note")
    pid: int = json.loads(note.read_text())["pid"]
    return pid


def working(life: Life, job_id: str) -> str:
    """The run id once the job's workload has begun (its log says so)."""
    run_id: str = life.wait_for(job_id, "running")["run"]["run_id"]
    wait_until(
        lambda: any(
            '"echo"' in line for line in life.api.get(f"/runs/{run_id}/logs").json()["lines"]
        ),
        what="the workload's first line",
    )
    return run_id


def alive(pid: int) -> bool:
    """Running, and not a zombie that no one reaped (a container's init may not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_jobs_acknowledged_just_before_a_kill_are_there_after_the_restart(
    runtime: Runtime,
) -> None:
    life = runtime.start()
    assert life.api.post("/queue/pause").status_code == 200  # so that the jobs wait
    acknowledged = [life.submit(message=str(n)) for n in range(20)]
    life.kill()  # within a few milliseconds of the last 201

    life = runtime.start()
    try:
        queue = life.api.get("/queue", params={"limit": 100}).json()
        assert [item["job_id"] for item in queue["items"]] == acknowledged
        assert queue["paused"] is True
    finally:
        life.kill()


def test_a_job_interrupted_by_a_stop_runs_again_at_the_next_start(
    runtime: Runtime, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    life = runtime.start()
    job_id = life.submit(message="interrupted", sleep_seconds=3600, until_file=str(release))
    working(life, job_id)
    life.stop()

    life = runtime.start()
    try:
        first = life.runs(job_id)[0]
        assert (first["status"], first["error"]) == ("failed", INTERRUPTED)
        working(life, job_id)
        release.touch()
        job = life.wait_for(job_id, "finished")
        runs = life.runs(job_id)
        assert [run["status"] for run in runs] == ["failed", "completed"]
        assert runs[1]["attempt"] == 1, "the stop spent no attempt"
        assert job["status"] == "finished"
    finally:
        life.kill()


def test_a_worker_that_outlived_a_kill_is_adopted_and_runs_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    life = runtime.start()
    job_id = life.submit(message="adopted", sleep_seconds=3600, until_file=str(release))
    run_id = working(life, job_id)
    pid = worker_pid(runtime, run_id)
    life.kill()
    assert alive(pid), "the worker runs in its own session"

    life = runtime.start()
    try:
        assert "adopted the live workers of " + run_id in life.output.read_text()
        assert life.job(job_id)["status"] == "running"
        release.touch()
        life.wait_for(job_id, "finished")
        runs = life.runs(job_id)
        assert [(run["run_id"], run["status"], run["exit_code"]) for run in runs] == [
            (run_id, "completed", 0)
        ]
    finally:
        life.kill()


def test_a_worker_whose_note_the_kill_prevented_is_found_by_its_log_and_runs_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    """The runtime writes the worker's note just after the fork: a kill in between leaves a
    live worker and no note. It must be adopted, not declared lost and run a second time."""
    release = tmp_path / "release"
    life = runtime.start()
    job_id = life.submit(message="unnoted", sleep_seconds=3600, until_file=str(release))
    run_id = working(life, job_id)
    pid = worker_pid(runtime, run_id)
    life.kill()
    (runtime.data_dir / "runs" / run_id / "worker.json").unlink()

    life = runtime.start()
    try:
        assert "adopted the live workers of " + run_id in life.output.read_text()
        assert alive(pid)
        release.touch()
        life.wait_for(job_id, "finished")
        runs = life.runs(job_id)
        assert [(run["run_id"], run["status"], run["exit_code"]) for run in runs] == [
            (run_id, "completed", 0)
        ]
    finally:
        life.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def test_a_worker_that_ended_while_the_runtime_was_down_has_its_outcome_recorded(
    runtime: Runtime, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    life = runtime.start()
    job_id = life.submit(message="ended", sleep_seconds=3600, until_file=str(release))
    run_id = working(life, job_id)
    pid = worker_pid(runtime, run_id)
    life.kill()
    release.touch()
    wait_until(lambda: not alive(pid), what="the worker's own end")

    life = runtime.start()
    try:
        job = life.job(job_id)
        assert job["status"] == "finished"
        runs = life.runs(job_id)
        assert [(run["run_id"], run["status"], run["exit_code"]) for run in runs] == [
            (run_id, "completed", 0)
        ]
    finally:
        life.kill()


def test_a_run_whose_worker_died_with_the_runtime_is_lost(runtime: Runtime) -> None:
    life = runtime.start()
    job_id = life.submit(message="lost", sleep_seconds=3600)
    run_id = working(life, job_id)
    pid = worker_pid(runtime, run_id)
    life.kill()
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), what="the worker's death")

    life = runtime.start()
    try:
        runs = life.runs(job_id)
        assert (runs[0]["run_id"], runs[0]["status"], runs[0]["error"]) == (
            run_id,
            "failed",
            "lost",
        )
        assert life.job(job_id)["status"] == "finished"  # echo's policy: one attempt
    finally:
        life.kill()
