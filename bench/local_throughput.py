"""No-op jobs through the local runtime: jobs per second, enqueue-to-start latency, and where
a job's time goes, for each way the process executor starts a worker.

The real LocalRuntime (`jobsched local` without its API server) on its default store, with the
process executor running the container's worker per job (the echo workload with no sleep and
no output file): (a) `python -m worker` as a subprocess each, the baseline, then (b) forked
from the fork server that has the worker imported (the default). For SLOTS=1 and SLOTS=4:

- burst: jobs enqueued back to back. Jobs per second from the first enqueue to the last finish;
  a job's enqueue-to-start includes its wait behind the jobs ahead of it.
- steady: jobs arriving one at a time at half the burst's rate, so few wait behind another.

Enqueue-to-start is the job's created_at to its run's started_at (the claim, made just before
the worker starts); "to worker up" goes on to the worker process's first log line.

The per-job split of a one-slot burst is timed around the executor's own steps: the worker's
start (to its pid), its life (to its exit seen), the rest of the executor's run (its log notes,
the pid, the lease, the result), and what is left of the job's share of the wall clock: the
dispatcher's claim and finish, and its wake-ups.
"""

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

from bench.harness import NOOP, WAIT_SECONDS, fake_aws_env, fmt_ms, free_port, percentile
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import Job, JobRun, JobStatus, RunStatus
from jobsched.ports import Stores
from jobsched.settings import Settings, get_settings
from local.exec.executor import ExecutorConfig, LocalExecutor
from local.runtime import LocalConfig, LocalRuntime

SLOT_COUNTS = (1, 4)
STEADY = 20
POLL_SECONDS = 0.1
ENDED = (JobStatus.FINISHED, JobStatus.CANCELLED)
GOAL_JOBS_PER_SECOND = 50.0  # one slot, no-op jobs


@dataclass(frozen=True)
class Method:
    name: str
    fork_server: bool
    burst: int  # more jobs where they are quick, so the burst lasts long enough to measure


BASELINE = Method("subprocess", fork_server=False, burst=40)
METHODS = (BASELINE, Method("fork server", fork_server=True, burst=200))


@dataclass(frozen=True)
class Sample:
    job: Job
    run: JobRun
    worker_up: datetime | None  # the worker's first log line

    @property
    def to_start(self) -> float:
        return (self.run.started_at - self.job.created_at).total_seconds()

    @property
    def run_seconds(self) -> float:
        """The claim to the finish: the worker's whole life, and the executor around it."""
        ended = self.run.finished_at or self.run.started_at
        return (ended - self.run.started_at).total_seconds()

    @property
    def to_worker(self) -> float | None:
        if self.worker_up is None:
            return None
        return (self.worker_up - self.job.created_at).total_seconds()


@dataclass
class Split:
    """Seconds spent in the executor's steps, one entry per job."""

    run: list[float] = field(default_factory=list)  # LocalExecutor.run, whole
    start: list[float] = field(default_factory=list)  # _start: to the worker's pid
    life: list[float] = field(default_factory=list)  # _wait: to its exit seen

    def clear(self) -> None:
        for times in (self.run, self.start, self.life):
            times.clear()


@dataclass(frozen=True)
class Row:
    method: Method
    slots: int
    arrivals: str
    samples: list[Sample]
    jobs_per_second: float | None
    split: Split | None = None  # one-slot bursts only

    @property
    def failed(self) -> int:
        return sum(1 for s in self.samples if s.run.status != RunStatus.COMPLETED)


def timed(times: list[float], step: Callable[..., Any]) -> Callable[..., Any]:
    def step_timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return step(*args, **kwargs)
        finally:
            times.append(time.perf_counter() - began)

    return step_timed


@contextmanager
def metered(executor: LocalExecutor, split: Split) -> Iterator[None]:
    with (
        mock.patch.object(executor, "run", timed(split.run, executor.run)),
        mock.patch.object(executor, "_start", timed(split.start, executor._start)),
        mock.patch.object(executor, "_wait", timed(split.life, executor._wait)),
    ):
        yield


@contextmanager
def started_by(method: Method) -> Iterator[None]:
    """The runtime builds its ExecutorConfig from the settings: with this start method."""
    build = ExecutorConfig.from_settings

    def from_settings(settings: Settings, **overrides: Any) -> ExecutorConfig:
        return build(settings, **{"fork_server": method.fork_server, **overrides})

    with mock.patch.object(ExecutorConfig, "from_settings", staticmethod(from_settings)):
        yield


@contextmanager
def local_runtime(slots: int, method: Method, split: Split) -> Iterator[Stores]:
    """A LocalRuntime on free ports with its own data dir (its default store) and the no-op
    template, its executor metered into `split`; the environment it changes is restored."""
    with fake_aws_env(), tempfile.TemporaryDirectory(prefix="jobsched-bench-") as data:
        # moto's backends outlive a server in the same process: fresh tables each time.
        os.environ["JOBSCHED_TABLE_PREFIX"] = f"bench{uuid.uuid4().hex[:8]}"
        config = LocalConfig(
            port=free_port(), moto_port=free_port(), slots=slots, data_dir=data, executor="process"
        )
        runtime = LocalRuntime(config)
        try:
            with started_by(method):
                stores = runtime.start()
            assert isinstance(stores.tasks, LocalExecutor)
            stores.templates.create(NOOP)
            with metered(stores.tasks, split):
                yield stores
        finally:
            runtime.stop()
            get_settings.cache_clear()  # it read the environment restored now


def wait_ended(stores: Stores, jobs: list[Job]) -> list[Job]:
    """Poll the latest unfinished job only, so the poll costs the runtime almost nothing."""
    deadline = time.monotonic() + WAIT_SECONDS
    pending, ended = list(jobs), []
    while pending:
        job = stores.jobs.get(pending[-1].job_id)
        if job.status in ENDED:
            ended.append(job)
            pending.pop()
        elif time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} jobs still not run after {WAIT_SECONDS} s")
        else:
            time.sleep(POLL_SECONDS)
    return ended[::-1]


def samples_of(stores: Stores, jobs: list[Job]) -> list[Sample]:
    samples = []
    for job in wait_ended(stores, jobs):
        assert job.last_run_id is not None
        run = stores.runs.get(job.last_run_id)
        samples.append(Sample(job, run, _first_log_line(run.log_path)))
    return samples


def _first_log_line(log_path: str | None) -> datetime | None:
    try:
        with Path(log_path or "").open(encoding="utf-8") as lines:
            return datetime.fromisoformat(json.loads(lines.readline())["ts"])
    except (OSError, ValueError, KeyError):
        return None


def noop(stores: Stores) -> Job:
    job, _ = enqueue(stores, JobCreate(template_id=NOOP.template_id))
    return job


def burst(stores: Stores, method: Method, slots: int, split: Split) -> Row:
    split.clear()
    jobs = [noop(stores) for _ in range(method.burst)]
    samples = samples_of(stores, jobs)
    first = min(s.job.created_at for s in samples)
    last = max(s.run.finished_at or s.run.started_at for s in samples)
    rate = len(samples) / (last - first).total_seconds()
    kept = Split(list(split.run), list(split.start), list(split.life)) if slots == 1 else None
    return Row(method, slots, f"burst: {method.burst} back to back", samples, rate, kept)


def steady(stores: Stores, method: Method, slots: int, rate: float) -> Row:
    interval = 2 / rate  # half the burst's rate
    started = time.monotonic()
    jobs = []
    for index in range(STEADY):
        time.sleep(max(0.0, started + index * interval - time.monotonic()))
        jobs.append(noop(stores))
    samples = samples_of(stores, jobs)
    return Row(method, slots, f"steady: one every {fmt_ms(interval)}", samples, None)


def measure(method: Method, slots: int) -> list[Row]:
    split = Split()
    with local_runtime(slots, method, split) as stores:
        samples_of(stores, [noop(stores)])  # warm-up: caches, connections, the fork server
        busy = burst(stores, method, slots, split)
        return [busy, steady(stores, method, slots, busy.jobs_per_second or 1.0)]


def render(rows: list[Row]) -> str:
    header = ["start", "slots", "arrivals", "jobs", "jobs/s", "to start p50", "p99"]
    header += ["to worker up p50", "p99", "run p50"]
    table = [header]
    for row in rows:
        starts = [s.to_start for s in row.samples]
        workers = [w for s in row.samples if (w := s.to_worker) is not None]
        rate = f"{row.jobs_per_second:.1f}" if row.jobs_per_second else "-"
        table.append(
            [
                row.method.name,
                str(row.slots),
                row.arrivals,
                str(len(row.samples)) + (f" ({row.failed} failed)" if row.failed else ""),
                rate,
                fmt_ms(percentile(starts, 50)),
                fmt_ms(percentile(starts, 99)),
                fmt_ms(percentile(workers, 50)) if workers else "-",
                fmt_ms(percentile(workers, 99)) if workers else "-",
                fmt_ms(percentile([s.run_seconds for s in row.samples], 50)),
            ]
        )
    return _columns(table, left=3)


@dataclass(frozen=True)
class PerJob:
    """A one-slot burst's mean seconds per job, split (they add up to `total`)."""

    total: float  # the burst's wall clock per job
    start: float
    life: float
    executor_rest: float
    outside: float

    @classmethod
    def of(cls, row: Row) -> "PerJob":
        assert row.split is not None
        assert row.jobs_per_second
        split = row.split
        total, run = 1 / row.jobs_per_second, _mean(split.run)
        start, life = _mean(split.start), _mean(split.life)
        return cls(total, start, life, run - start - life, total - run)

    @property
    def executor(self) -> float:
        """The process executor's whole run: for a no-op job, all of it is overhead (the
        interpreter's start and imports show in the worker's life)."""
        return self.start + self.life + self.executor_rest


def render_split(rows: list[Row]) -> str:
    one_slot = [row for row in rows if row.split is not None]
    base = PerJob.of(next(row for row in one_slot if row.method == BASELINE))
    base_rate = next(r.jobs_per_second for r in one_slot if r.method == BASELINE) or 1.0
    header = ["start", "jobs/s", "vs baseline", "per job", "worker start", "worker life"]
    header += ["executor rest", "executor total", "vs baseline", "outside executor"]
    table = [header]
    for row in one_slot:
        job = PerJob.of(row)
        rate = row.jobs_per_second or 0.0
        table.append(
            [
                row.method.name,
                f"{rate:.1f}",
                f"{rate / base_rate:.1f}x",
                fmt_ms(job.total),
                fmt_ms(job.start),
                fmt_ms(job.life),
                fmt_ms(job.executor_rest),
                fmt_ms(job.executor),
                f"{job.executor / base.executor:.2f}x",
                fmt_ms(job.outside),
            ]
        )
    return _columns(table, left=1)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _columns(table: list[list[str]], left: int) -> str:
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main() -> None:
    print(
        "No-op jobs through the local runtime (echo, no sleep, no output; the default store; "
        f"{os.cpu_count()} CPUs)"
    )
    rows = [row for method in METHODS for slots in SLOT_COUNTS for row in measure(method, slots)]
    print(render(rows))
    print("  to start: the job's created_at -> its run's started_at (the claim); to worker up:")
    print("  -> the worker's first log line; run: the claim -> the finish (the worker's life).")
    print("  A burst's waits include the jobs queued ahead of it.")
    print()
    print(f"One slot, a burst, mean per job (goal: {GOAL_JOBS_PER_SECOND:.0f} jobs/s)")
    print(render_split(rows))
    print("  worker start: the executor's _start, to the pid; worker life: to its exit seen")
    print("  (a subprocess's interpreter start and imports are here); executor rest: the rest of")
    print("  its run (log notes, pid, lease, result); executor total: the three, the process")
    print("  executor's cost of a no-op job; outside executor: the dispatcher's claim and finish.")


if __name__ == "__main__":
    main()
