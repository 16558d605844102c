"""USE_SCHEDULER=false: legacy triggers start their job at once, outside the queue, as a real
worker process; the sweeper and monitor reconcile such runs; monitor ends lost queue runs."""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.legacy.deprecation import DeprecationPolicy
from jobsched.dispatch.dispatcher import DispatchConfig
from jobsched.dispatch.immediate import NowJob, start_now
from jobsched.dispatch.reconcile import monitor, sweep_outside_queue
from jobsched.jobs.keys import mint_key
from jobsched.jobs.queue import pause
from jobsched.models import GroupStatus, JobStatus, RunStatus, Scope
from jobsched.models.units import OUTSIDE_QUEUE, Claim
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.exec.executor import LocalExecutor
from local.exec.launcher import LocalLauncher
from tests.support.local import claim_one, echo, wait_until


@dataclass
class Notified:
    groups: list[str] = field(default_factory=list)

    def group_ended(self, group_id: str) -> None:
        self.groups.append(group_id)


@dataclass
class Stopped:
    units: list[tuple[str, str]] = field(default_factory=list)

    def stop(self, unit_id: str, reason: str) -> None:
        self.units.append((unit_id, reason))

    def kick(self) -> None:
        return None


class LaunchNothing:
    """A launcher whose task silently never starts (lost capacity, a dead host)."""

    def launch(self, claim: Claim) -> None:
        return None


@pytest.fixture
def notified() -> Notified:
    return Notified()


@pytest.fixture
def wired(base_stores: Stores, executor: LocalExecutor, notified: Notified) -> Iterator[Stores]:
    launcher = LocalLauncher(executor)
    stores = (
        base_stores.with_edges(kicker=Stopped(), tasks=executor)
        .with_launcher(launcher)
        .with_probe(executor)
        .with_notifier(notified)
    )
    launcher.bind(stores)
    yield stores
    executor.stop_all("test over")
    launcher.join(10)


@pytest.fixture
def legacy_off(wired: Stores) -> TestClient:
    client = TestClient(create_app(wired), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {mint_key(wired.keys, 't', [Scope.ADMIN]).secret}"
    settings = Settings(use_scheduler=False)
    policy = DeprecationPolicy(
        settings.legacy_deprecated_at,
        settings.legacy_sunset_at,
        settings.legacy_migration_url,
        use_scheduler=settings.use_scheduler,
    )
    client.app.state.deprecation = policy  # type: ignore[attr-defined]
    return client


def job_of(client: TestClient, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
    return body


def test_a_legacy_trigger_starts_at_once_beside_a_busy_and_paused_queue(
    wired: Stores, legacy_off: TestClient
) -> None:
    queued = echo(wired, sleep_seconds=30)
    held = claim_one(wired)  # the queue's only slot is busy...
    echo(wired)  # ...a job waits behind it...
    pause(wired)  # ...and the queue is paused: none of it matters to the old path

    response = legacy_off.post("/jobs/story/trigger", json={"job_type": "echo", "message": "now"})

    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "running"
    assert job["outside_queue"] is True
    assert job["queue_position"] is None
    assert job["run_id"] is not None
    done = wait_until(
        lambda: (j := job_of(legacy_off, job["job_id"]))["status"] == "succeeded" and j,
        what="the outside-queue job to succeed",
    )
    assert done["exit_code"] == 0
    assert done["pid"] is not None  # a real worker process ran it
    slot = wired.dispatch.slots()[0]
    assert slot.holder == held.unit_id  # the queue's unit kept its slot throughout
    assert wired.jobs.get(queued.job_id).status == JobStatus.RUNNING


def test_a_legacy_batch_starts_every_job_at_once_and_ends_its_group_once(
    wired: Stores, legacy_off: TestClient, notified: Notified
) -> None:
    body = {
        "jobs": [
            {"job_type": "echo", "params": {"sleep_seconds": 0.5}},
            {"job_type": "echo", "params": {"exit_code": 3}},
        ],
        "webhook_url": "https://hooks.example.com/batch",
    }
    response = legacy_off.post("/jobs/batch/trigger", json=body)

    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["status"] == "running"
    assert [j["status"] for j in batch["jobs"]] in (
        ["running", "running"],
        ["running", "failed"],  # the second may be over already
    )
    ended = wait_until(
        lambda: (
            (b := legacy_off.get(f"/jobs/batch/{batch['batch_id']}").json())["finished_at"] and b
        ),
        what="the batch to end",
    )
    assert ended["status"] == "failed"  # one of two failed: partial, shown as failed
    assert (ended["completed"], ended["failed"]) == (1, 1)
    assert wired.groups.get(batch["batch_id"]).status == GroupStatus.PARTIAL
    assert notified.groups == [batch["batch_id"]]


def test_a_job_whose_task_cannot_start_ends_failed_at_once(base_stores: Stores) -> None:
    template = base_stores.templates.get("echo")
    jobs, _ = start_now(base_stores, [NowJob(template, {})], priority=100)  # NoLauncher

    job = base_stores.jobs.get(jobs[0].job_id)
    assert job.status == JobStatus.FINISHED
    run = base_stores.runs.get(jobs[0].last_run_id or "")
    assert run.status == RunStatus.FAILED
    assert (run.error or "").startswith("launch: ")


@pytest.mark.dynamodb_only  # a worker that reports itself: on SQLite no worker reaches the store
def test_the_sweeper_ends_an_outside_run_from_its_workers_report(
    base_stores: Stores, executor: LocalExecutor
) -> None:
    template = base_stores.templates.get("echo")
    # The worker runs and reports, but nothing watches it (a Lambda that died after RunTask).
    claims: list[Claim] = []

    class RunUnwatched:
        def launch(self, claim: Claim) -> None:
            claims.append(claim)

    stores = base_stores.with_launcher(RunUnwatched())
    jobs, _ = start_now(stores, [NowJob(template, {"exit_code": 4})], priority=100)
    outcome = executor.run(claims[0])  # the worker's exit, never recorded by a dispatcher
    assert outcome.exit_code == 4
    assert stores.jobs.get(jobs[0].job_id).status == JobStatus.RUNNING

    ended = sweep_outside_queue(stores, DispatchConfig(), time.time())

    assert ended == [claims[0].unit_id]
    run = stores.runs.get(claims[0].unit_id)
    assert (run.status, run.exit_code) == (RunStatus.FAILED, 4)
    assert stores.jobs.get(jobs[0].job_id).status == JobStatus.FINISHED


def test_the_sweeper_ends_a_silent_outside_run_as_lost_and_stops_its_task(
    base_stores: Stores,
) -> None:
    stopped = Stopped()
    stores = base_stores.with_launcher(LaunchNothing()).with_edges(kicker=stopped, tasks=stopped)
    template = stores.templates.get("echo")
    jobs, _ = start_now(stores, [NowJob(template, {})], priority=100)
    config = DispatchConfig(startup_lease_seconds=60)

    assert sweep_outside_queue(stores, config, time.time() + 30) == []  # still starting
    ended = sweep_outside_queue(stores, config, time.time() + 61)

    run_id = jobs[0].last_run_id
    assert ended == [run_id]
    assert stopped.units == [(run_id, "lost")]
    assert stores.runs.get(run_id or "").error == "lost"


def test_the_sweeper_ends_an_outside_run_past_its_timeout(base_stores: Stores) -> None:
    stopped = Stopped()
    stores = base_stores.with_launcher(LaunchNothing()).with_edges(kicker=stopped, tasks=stopped)
    template = stores.templates.get("echo")
    jobs, _ = start_now(stores, [NowJob(template, {})], priority=100)
    run = stores.runs.get(jobs[0].last_run_id or "")
    config = DispatchConfig(startup_lease_seconds=60, heartbeat_seconds=30)
    late = run.started_at.timestamp() + 60 + template.timeout_seconds + 1
    # A worker that still beats, well past its time: the heartbeat alone would keep it.
    stores.runs.put(run.model_copy(update={"heartbeat_at": late - 1}))

    assert sweep_outside_queue(stores, config, late) == [run.run_id]
    assert stores.runs.get(run.run_id).error == "timeout"
    assert stopped.units == [(run.run_id, "timeout")]


def test_monitor_ends_runs_nothing_runs_and_keeps_live_and_young_ones(
    wired: Stores, executor: LocalExecutor
) -> None:
    echo(wired)
    lost = claim_one(wired)  # claimed, but no worker was ever started for it
    assert lost.job is not None
    template = wired.templates.get("echo")
    live_jobs, _ = start_now(wired, [NowJob(template, {"sleep_seconds": 30})], priority=100)
    wait_until(lambda: live_jobs[0].last_run_id in executor.running_units(), what="a worker")

    young = monitor(wired)
    assert young.changed == []
    assert young.starting == [lost.job.job_id]
    assert young.running == [live_jobs[0].job_id]

    report = monitor(wired, grace_seconds=0)

    assert [c.job_id for c in report.changed] == [lost.job.job_id]
    assert report.changed[0].now == "failed"
    assert report.running == [live_jobs[0].job_id]
    assert wired.jobs.get(lost.job.job_id).status == JobStatus.FINISHED
    assert wired.runs.get(lost.unit_id).error == "lost: no task or process runs it"


def test_monitor_changes_nothing_when_it_cannot_see_the_tasks(base_stores: Stores) -> None:
    echo(base_stores)
    claim_one(base_stores)

    report = monitor(base_stores, grace_seconds=0)  # NoProbe

    assert report.probed is False
    assert report.changed == []
    assert report.checked == 1


def test_monitor_routes_over_http(wired: Stores, legacy_off: TestClient) -> None:
    echo(wired)
    lost = claim_one(wired)
    assert lost.job is not None

    everything = legacy_off.post("/api/v1/jobs/monitor")
    one = legacy_off.post(f"/jobs/{lost.job.job_id}/monitor")

    assert everything.status_code == 200, everything.text
    assert everything.json()["starting"] == [lost.job.job_id]  # too young to judge
    assert everything.headers["deprecation"].startswith("@")
    assert one.status_code == 200
    assert one.json()["job"]["status"] == "running"
    assert legacy_off.post("/jobs/job_nope/monitor").status_code == 404


@pytest.mark.dynamodb_only  # the worker's own transaction; on SQLite the executor renews
def test_a_worker_outside_the_queue_beats_its_run_only(base_stores: Stores) -> None:
    template = base_stores.templates.get("echo")
    claims: list[Claim] = []

    class Keep:
        def launch(self, claim: Claim) -> None:
            claims.append(claim)

    start_now(base_stores.with_launcher(Keep()), [NowJob(template, {})], priority=100)

    request = base_stores.dispatch.heartbeat_request(claims[0])
    assert claims[0].slot == OUTSIDE_QUEUE
    assert [item["Update"]["TableName"] for item in request["TransactItems"]] == [
        base_stores.dispatch.runs  # type: ignore[attr-defined]
    ]


def test_runs_ended_outside_the_queue_or_by_monitor_are_counted_cancels_are_not(
    base_stores: Stores,
) -> None:
    from jobsched.jobs.jobs import cancel_job
    from tests.support.dispatch import Recorded

    recorded = Recorded()
    stopped = Stopped()
    stores = (
        base_stores.with_launcher(LaunchNothing())
        .with_edges(kicker=stopped, tasks=stopped)
        .with_metrics(recorded)
    )
    template = stores.templates.get("echo")

    start_now(stores, [NowJob(template, {})], priority=100)
    assert recorded.take() == []  # running: nothing ended yet
    sweep_outside_queue(stores, DispatchConfig(startup_lease_seconds=1), time.time() + 2)
    assert recorded.take() == ["RunsFailed", "RunDuration"]  # lost

    echo(stores)
    claim_one(stores)  # a queue run no process runs
    assert recorded.take() == ["QueueWait"]
    monitor(stores.with_probe(NoLiveUnits()), grace_seconds=0)
    assert recorded.take() == ["RunsFailed", "RunDuration"]

    jobs, _ = start_now(stores, [NowJob(template, {})], priority=100)
    cancel_job(stores, jobs[0].job_id)
    assert recorded.take() == []


class NoLiveUnits:
    def running_units(self) -> set[str]:
        return set()
