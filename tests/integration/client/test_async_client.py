"""The async client against the app in process (httpx's ASGI transport): a representative
subset, as the sync client is generated from it and tested whole."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from jobsched.jobs.keys import mint_key
from jobsched.models import JobStatus, Scope
from jobsched.ports import Stores
from jobsched_client import (
    AsyncClient,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    ValidationFailedError,
    WaitTimeoutError,
)
from jobsched_client.models import JobDetailOut
from tests.support.ui_runs import RunWorld, make_world

BASE = "http://testserver"
QUICK = RetryPolicy(attempts=2, backoff=0.01, max_wait=0.05)
POLL = 0.01

pytestmark = pytest.mark.anyio


async def test_create_and_iter_over_pages(async_api: AsyncClient) -> None:
    made = [(await async_api.jobs.create("echo", {"message": f"m{n}"})).job_id for n in range(5)]

    listed = [job.job_id async for job in async_api.jobs.iter(page_size=2)]

    assert sorted(listed) == sorted(made)
    assert [item.job_id async for item in async_api.queue.iter(page_size=2)] == made


async def test_wait_returns_on_cancel_and_times_out(async_api: AsyncClient) -> None:
    waiting = (await async_api.jobs.create("echo")).job_id
    with pytest.raises(WaitTimeoutError):
        await async_api.jobs.wait(waiting, timeout=0.05, poll=POLL)

    seen: list[JobStatus] = []
    await async_api.jobs.cancel(waiting)
    ended = await async_api.jobs.wait(waiting, poll=POLL, on_change=lambda j: seen.append(j.status))
    assert isinstance(ended, JobDetailOut)
    assert ended.status == seen[-1] == JobStatus.CANCELLED


async def test_errors_are_typed(async_api: AsyncClient, stores: Stores) -> None:
    with pytest.raises(NotFoundError):
        await async_api.runs.get("run_missing")
    with pytest.raises(ValidationFailedError) as invalid:
        await async_api.jobs.create("echo", priority="urgent-ish")
    assert invalid.value.errors

    transport = httpx.ASGITransport(app=create_app(stores=stores))
    reader = mint_key(stores.keys, "reader", [Scope.READ]).secret
    async with AsyncClient(BASE, reader, transport=transport, retry=QUICK) as read_only:
        with pytest.raises(PermissionDeniedError):
            await read_only.queue.pause()


@pytest.fixture
def world(stores: Stores, tmp_path: Path) -> RunWorld:
    return make_world(stores, tmp_path / "data")


@pytest.fixture
async def world_api(world: RunWorld) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(stores=world.stores))
    key = mint_key(world.stores.keys, "world", [Scope.ADMIN]).secret
    async with AsyncClient(BASE, key, transport=transport, retry=QUICK) as client:
        yield client


async def test_follow_logs_reads_a_finished_runs_log_to_the_end(
    world: RunWorld, world_api: AsyncClient
) -> None:
    world.submit("work")
    claim = world.start()
    lines = [json.dumps({"event": "progress", "n": n}) for n in range(4)]
    world.log(claim, lines)
    world.finish(claim, 0)

    followed = [text async for text in world_api.runs.follow_logs(claim.unit_id, poll=POLL)]

    assert followed == lines
    assert (await world_api.runs.get(claim.unit_id)).exit_code == 0


async def test_rerun_lineage_and_diff(world: RunWorld, world_api: AsyncClient) -> None:
    job = world.submit("work", message="first")
    claim = world.start()
    world.finish(claim, 0, artifacts=[world.output(claim, "out.txt", b"1\n")])

    again = await world_api.jobs.rerun(job, {"message": "second"})
    rerun = world.start()
    world.finish(rerun, 1, artifacts=[world.output(rerun, "out.txt", b"2\n")])
    tree = await world_api.jobs.lineage(again.job_id)
    found = await world_api.runs.diff(rerun.unit_id, claim.unit_id, name="out.txt")

    assert again.rerun_of == job
    assert [(j.job_id, j.run.exit_code if j.run else None) for j in tree.jobs] == [
        (job, 0),
        (again.job_id, 1),
    ]
    assert found.diff[-2:] == ["-1", "+2"]
