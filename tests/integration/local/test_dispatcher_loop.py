"""The local dispatcher loop: real worker subprocesses, in queue order, woken only by events."""

import itertools
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from jobsched.adapters.dynamodb import Dynamo
from jobsched.adapters.dynamodb.metering import CallMeter
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.jobs import cancel_job
from jobsched.jobs.reservations import get_reservation, reserve
from jobsched.models import (
    GroupMode,
    GroupStatus,
    JobRun,
    JobStatus,
    JobTemplate,
    ReservationStatus,
    RetryPolicy,
    RunStatus,
)
from jobsched.models.units import INTERRUPTED
from jobsched.ports import RunFilter, Stores
from jobsched.settings import Settings
from local.exec.dispatcher_loop import LocalDispatcher, LoopConfig
from local.exec.executor import LocalExecutor
from local.exec.logs import FileLogReader
from tests.support.local import echo, log_events, wait_until
from tests.support.waiting import BOUND_SECONDS


class Runtime:
    """The loop wired as `jobsched local` wires it: it kicks, the executor stops tasks."""

    def __init__(self, stores: Stores, executor: LocalExecutor, settings: Settings) -> None:
        self.executor = executor
        self.loop = LocalDispatcher(executor, LoopConfig.from_settings(settings))
        self.stores = stores.with_edges(
            kicker=self.loop, tasks=executor, logs=FileLogReader(settings.data_dir)
        )

    def start(self) -> "Runtime":
        self.loop.start(self.stores)
        return self

    def finished(self, job_id: str) -> bool:
        return self.stores.jobs.get(job_id).status in (JobStatus.FINISHED, JobStatus.CANCELLED)

    def run_of(self, job_id: str) -> JobRun:
        runs = self.stores.runs.list_page(RunFilter(job_id=job_id), 10, None).items
        assert len(runs) == 1, runs
        return runs[0]


@pytest.fixture
def runtime(
    base_stores: Stores, executor: LocalExecutor, local_settings: Settings
) -> Iterator[Runtime]:
    runtime = Runtime(base_stores, executor, local_settings)
    yield runtime
    runtime.loop.stop(timeout=BOUND_SECONDS)


def log_span(run: JobRun) -> tuple[datetime, datetime]:
    """When the worker process started and finished, from its own log lines."""
    events = log_events(Path(run.log_path or ""))
    return datetime.fromisoformat(events[0]["ts"]), datetime.fromisoformat(events[-1]["ts"])


def test_one_slot_runs_queued_jobs_one_at_a_time_in_queue_order(runtime: Runtime) -> None:
    jobs = [echo(runtime.stores, message=f"job {n}") for n in range(5)]

    runtime.start()

    wait_until(lambda: all(runtime.finished(j.job_id) for j in jobs), what="5 jobs")
    runs = [runtime.run_of(job.job_id) for job in jobs]
    assert all(run.status == RunStatus.COMPLETED and run.exit_code == 0 for run in runs)
    assert [run.started_at for run in runs] == sorted(run.started_at for run in runs)
    spans = [log_span(run) for run in runs]
    for (_, ended), (started, _) in itertools.pairwise(spans):
        assert ended <= started  # no two workers alive at once
    for run, job in zip(runs, jobs, strict=True):
        assert f"job {job.params['message'][-1]}" in Path(run.log_path or "").read_text()


def test_a_reservation_takes_the_next_slot_without_interrupting_the_running_job(
    runtime: Runtime, tmp_path: Path
) -> None:
    # Job 1 runs until released, so the reservation is made while it runs, whatever the speed.
    release = tmp_path / "release-job-1"
    job1 = echo(runtime.stores, message="job 1", sleep_seconds=3600, until_file=str(release))
    job2 = echo(runtime.stores, message="job 2")
    job3 = echo(runtime.stores, message="job 3")
    runtime.start()
    wait_until(lambda: runtime.stores.jobs.get(job1.job_id).status == JobStatus.RUNNING)

    reservation = reserve(runtime.stores, "echo", {"message": "direct call"})
    release.touch()

    wait_until(lambda: runtime.finished(job3.job_id), what="the queue to drain")
    done = get_reservation(runtime.stores, reservation.reservation_id)
    assert done.status == ReservationStatus.COMPLETED
    assert done.exit_code == 0
    [artifact] = done.artifacts
    assert artifact.startswith("file://")
    assert "direct call" in Path(done.log_path or "").read_text()
    first = runtime.run_of(job1.job_id)
    assert first.status == RunStatus.COMPLETED  # not pre-empted
    assert done.started_at is not None
    started = sorted(
        [
            (first.started_at, "job 1"),
            (done.started_at, "reservation"),
            (runtime.run_of(job2.job_id).started_at, "job 2"),
            (runtime.run_of(job3.job_id).started_at, "job 3"),
        ]
    )
    assert [name for _, name in started] == ["job 1", "reservation", "job 2", "job 3"]


def test_cancelling_a_running_job_stops_its_worker_and_the_next_job_runs(
    runtime: Runtime,
) -> None:
    long = echo(runtime.stores, message="long", sleep_seconds=3600)  # only a cancel ends it
    after = echo(runtime.stores, message="after")
    runtime.start()
    wait_until(lambda: runtime.stores.jobs.get(long.job_id).status == JobStatus.RUNNING)
    run_id = runtime.run_of(long.job_id).run_id
    log = runtime.executor.log_path(run_id)
    wait_until(lambda: log.exists() and '"echo"' in log.read_text(), what="the workload")

    job = cancel_job(runtime.stores, long.job_id)

    assert job.status == JobStatus.CANCELLED
    wait_until(lambda: runtime.finished(after.job_id), what="the next job")
    run = runtime.run_of(long.job_id)
    assert run.status == RunStatus.FAILED
    assert run.error == "cancelled"
    last = wait_until(lambda: log_events(log)[-1], what="the worker's last line")
    assert (last["event"], last["exit_code"]) == ("finished", 143)
    assert runtime.run_of(after.job_id).status == RunStatus.COMPLETED


def test_an_idle_loop_makes_no_store_calls_and_wakes_on_enqueue(
    runtime: Runtime, local_dynamo: Dynamo
) -> None:
    runtime.start()
    wait_until(lambda: runtime.loop.idle == 1, what="the loop to settle")

    with CallMeter(local_dynamo.client) as meter:
        time.sleep(1.0)
    assert meter.calls == []

    job = echo(runtime.stores)
    wait_until(lambda: runtime.finished(job.job_id), what="the job")
    assert runtime.run_of(job.job_id).status == RunStatus.COMPLETED


def test_a_failed_job_is_retried_when_its_backoff_ends_without_a_kick(runtime: Runtime) -> None:
    runtime.stores.templates.create(
        JobTemplate(
            template_id="flaky",
            name="Flaky",
            workload="echo",
            retry=RetryPolicy(max_attempts=2, backoff_seconds=1, backoff_multiplier=1),
        )
    )
    job = echo(runtime.stores, "flaky", exit_code=3)
    runtime.start()

    wait_until(lambda: runtime.finished(job.job_id), what="both attempts")

    runs = runtime.stores.runs.list_page(RunFilter(job_id=job.job_id), 10, None).items
    first, second = sorted(runs, key=lambda run: run.attempt)
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.exit_code == second.exit_code == 3
    assert first.finished_at is not None
    assert (second.started_at - first.finished_at).total_seconds() >= 0.9


def test_a_parallel_group_runs_its_jobs_at_most_max_parallel_at_once(runtime: Runtime) -> None:
    specs = [
        GroupJobSpec(template_id="echo", params={"message": f"g{n}", "sleep_seconds": 0.5})
        for n in range(3)
    ]
    group, jobs = create_group(
        runtime.stores, GroupCreate(mode=GroupMode.PARALLEL, max_parallel=2, jobs=specs)
    )
    runtime.start()

    wait_until(
        lambda: runtime.stores.groups.get(group.group_id).status == GroupStatus.COMPLETED,
        what="the group",
    )
    spans = [log_span(runtime.run_of(job.job_id)) for job in jobs]
    moments = sorted({moment for span in spans for moment in span})
    most = max(sum(1 for start, end in spans if start <= m < end) for m in moments)
    assert most == 2


def test_stop_interrupts_running_workers_and_queues_their_jobs_again(runtime: Runtime) -> None:
    first = echo(runtime.stores, sleep_seconds=3600)  # only the stop ends it
    runtime.start()
    wait_until(lambda: runtime.stores.jobs.get(first.job_id).status == JobStatus.RUNNING)
    waiting = echo(runtime.stores)  # behind it in the same band

    runtime.loop.stop(timeout=BOUND_SECONDS)

    run = runtime.run_of(first.job_id)
    assert run.status == RunStatus.FAILED
    assert run.error == INTERRUPTED
    job = runtime.stores.jobs.get(first.job_id)
    assert job.status == JobStatus.QUEUED
    head = [entry.job_id for entry in runtime.stores.queue.dispatch_head(10)]
    assert head == [first.job_id, waiting.job_id], "back at the front of its band"
    assert runtime.stores.queue.dispatch_head(1)[0].attempt == 0, "the attempt was not spent"
