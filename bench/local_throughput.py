"""No-op jobs through the local runtime: jobs per second and enqueue-to-start latency.

The real LocalRuntime (`jobsched local` without its API server): moto's server, the dispatcher
loop with its sweeper, and the executor running the container's worker as a subprocess per job
(the echo workload with no sleep and no output file). For SLOTS=1 and SLOTS=4:

- burst: jobs enqueued back to back. Jobs per second from the first enqueue to the last finish;
  a job's enqueue-to-start includes its wait behind the jobs ahead of it.
- steady: jobs arriving one at a time at half the burst's rate, so few wait behind another.

Enqueue-to-start is the job's created_at to its run's started_at (the claim, made just before
the worker starts); "to worker up" goes on to the worker process's first log line.
"""

import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.harness import NOOP, WAIT_SECONDS, fake_aws_env, fmt_ms, free_port, percentile
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import Job, JobRun, JobStatus, RunStatus
from jobsched.ports import Stores
from jobsched.settings import get_settings
from local.runtime import LocalConfig, LocalRuntime

SLOT_COUNTS = (1, 4)
BURST = 40
STEADY = 20
POLL_SECONDS = 0.1
ENDED = (JobStatus.FINISHED, JobStatus.CANCELLED)


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


@dataclass(frozen=True)
class Row:
    slots: int
    arrivals: str
    samples: list[Sample]
    jobs_per_second: float | None

    @property
    def failed(self) -> int:
        return sum(1 for s in self.samples if s.run.status != RunStatus.COMPLETED)


@contextmanager
def local_runtime(slots: int) -> Iterator[Stores]:
    """A LocalRuntime on free ports with its own tables and data dir, and the no-op template;
    the environment it changes is restored on exit."""
    with fake_aws_env(), tempfile.TemporaryDirectory(prefix="jobsched-bench-") as data:
        # moto's backends outlive a server in the same process: fresh tables each time.
        os.environ["JOBSCHED_TABLE_PREFIX"] = f"bench{uuid.uuid4().hex[:8]}"
        config = LocalConfig(port=free_port(), moto_port=free_port(), slots=slots, data_dir=data)
        runtime = LocalRuntime(config)
        try:
            stores = runtime.start()
            stores.templates.create(NOOP)
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


def burst(stores: Stores, slots: int) -> Row:
    jobs = [noop(stores) for _ in range(BURST)]
    samples = samples_of(stores, jobs)
    first = min(s.job.created_at for s in samples)
    last = max(s.run.finished_at or s.run.started_at for s in samples)
    rate = len(samples) / (last - first).total_seconds()
    return Row(slots, f"burst: {BURST} back to back", samples, rate)


def steady(stores: Stores, slots: int, rate: float) -> Row:
    interval = 2 / rate  # half the burst's rate
    started = time.monotonic()
    jobs = []
    for index in range(STEADY):
        time.sleep(max(0.0, started + index * interval - time.monotonic()))
        jobs.append(noop(stores))
    return Row(slots, f"steady: one every {fmt_ms(interval)}", samples_of(stores, jobs), None)


def measure(slots: int) -> list[Row]:
    with local_runtime(slots) as stores:
        samples_of(stores, [noop(stores)])  # warm-up: caches, connections, the first fork
        busy = burst(stores, slots)
        return [busy, steady(stores, slots, busy.jobs_per_second or 1.0)]


def render(rows: list[Row]) -> str:
    header = ["slots", "arrivals", "jobs", "jobs/s", "to start p50", "p99", "to worker up p50"]
    header += ["p99", "run p50"]
    table = [header]
    for row in rows:
        starts = [s.to_start for s in row.samples]
        workers = [w for s in row.samples if (w := s.to_worker) is not None]
        rate = f"{row.jobs_per_second:.1f}" if row.jobs_per_second else "-"
        table.append(
            [
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
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main() -> None:
    print(
        "No-op jobs through the local runtime (echo, no sleep, no output; a worker subprocess "
        f"each; {os.cpu_count()} CPUs)"
    )
    rows = [row for slots in SLOT_COUNTS for row in measure(slots)]
    print(render(rows))
    print("  to start: the job's created_at -> its run's started_at (the claim); to worker up:")
    print("  -> the worker's first log line; run: the claim -> the finish (the subprocess's life).")
    print("  A burst's waits include the jobs queued ahead of it.")


if __name__ == "__main__":
    main()
