"""The Python client against `jobsched local`: found without a URL or key (the runtime's
runtime.json and admin key), then a job submitted, waited for and its log followed, over HTTP."""

import asyncio
import json
import time
from pathlib import Path

import pytest

from jobsched_client import NotFoundError, connect, connect_async
from jobsched_client.config import RUNTIME_FILE, ConfigError, resolve
from tests.support.local_process import FAST, kill, start_local, terminate
from tests.support.waiting import BOUND_SECONDS


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("JOBSCHED_URL", "JOBSCHED_API_KEY", "JOBSCHED_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOBSCHED_CONFIG", str(tmp_path / "no-config.toml"))
    directory = tmp_path / "data"
    monkeypatch.setenv("JOBSCHED_DATA_DIR", str(directory))
    return directory


def test_the_client_finds_the_local_runtime_and_follows_a_job(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="not running"):
        resolve()
    process, base_url = start_local(
        data_dir.parent / "local.log", "--data-dir", str(data_dir), environment=FAST, key=None
    )
    try:
        announced = json.loads((data_dir / RUNTIME_FILE).read_text())
        assert announced == {"url": base_url, "pid": process.pid}
        found = resolve()
        assert found.url == base_url
        assert found.source.startswith("local runtime")

        with connect(timeout=BOUND_SECONDS) as api:
            assert "admin" in api.keys.me().scopes
            job = api.jobs.create("echo", {"message": "found by itself", "output": True})
            ended = api.jobs.wait(job.job_id, timeout=BOUND_SECONDS, poll=0.2)
            assert ended.run is not None
            assert ended.run.status == "completed"
            lines = list(api.runs.follow_logs(ended.run.run_id, timeout=BOUND_SECONDS))
            assert any("found by itself" in line for line in lines)
            name, data = api.runs.artifact(ended.run.run_id, 0)
            assert name == "echo.txt"
            assert b"found by itself" in data
            with pytest.raises(NotFoundError):
                api.jobs.get("j_nope")
    finally:
        terminate(process)
    assert process.returncode == 0
    assert not (data_dir / RUNTIME_FILE).exists()  # withdrawn at stop: nothing found now
    with pytest.raises(ConfigError, match="not running"):
        resolve()


@pytest.mark.anyio
async def test_the_async_client_follows_a_running_log(data_dir: Path) -> None:
    process, _ = start_local(
        data_dir.parent / "local.log", "--data-dir", str(data_dir), environment=FAST, key=None
    )
    try:
        async with connect_async(timeout=BOUND_SECONDS) as api:
            job = await api.jobs.create("echo", {"message": "async", "sleep_seconds": 1})
            deadline = time.monotonic() + BOUND_SECONDS
            started = None
            while started is None:
                assert time.monotonic() < deadline, "the job never started"
                await asyncio.sleep(0.1)
                started = (await api.jobs.get(job.job_id)).run
            lines = [line async for line in api.runs.follow_logs(started.run_id, poll=0.2)]
            assert any("async" in line for line in lines)
            assert (await api.runs.get(started.run_id)).status == "completed"
    finally:
        kill(process)
