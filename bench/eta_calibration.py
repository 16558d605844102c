"""ETA calibration (issue 14, point 1): how often a job starts by its p90 estimate, and how far
its start lands from the p50 one.

A synthetic workload runs through the local runtime's dispatcher loop (LocalDispatcher, its
slot threads and the SQLite store of the default); the executor runs no worker but sleeps each
job's drawn duration, so the runs' recorded times are the workload's. Three templates with
stated distributions (lognormal, uniform, bimodal) start with 50 completed runs of history
each, drawn from the same distributions. A backlog is enqueued, then jobs arrive at random
(Poisson) while random queued jobs are moved to random places and others cancelled. Every
half second the queue's first page is read with its ETAs (the API's GET /queue use cases);
each estimate is then held against the job's real start.

Figures: the fraction of estimates whose job started at or before its p90 (goal >= 90%), the
median absolute error of the p50 relative to the wait from the estimate to the start (goal
<= 20%), for the replay and for a naive baseline measured on the same snapshots (position x
mean duration / slots, the estimate most dashboards show).
"""

import math
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bench.harness import InstantExecutor, dispatcher_loop, sqlite_rig, wait_idle
from jobsched.errors import ConflictError, NotFoundError
from jobsched.foresight.estimates import queue_etas
from jobsched.ids import new_id
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.queue import MoveRequest, move_job, view_queue
from jobsched.models import JobRun, JobTemplate, RunStatus, utcnow
from jobsched.models.units import Claim
from jobsched.ports import Stores

SEEDS = (14, 15, 16, 17, 18)  # five workloads: one run's estimates share its luck
SLOTS = 2
BACKLOG = 24
ARRIVALS = 120
ARRIVAL_RATE = 2.6  # jobs a second: about 80% of what two slots finish
MOVE_CHANCE = 0.10  # per arrival: a random queued job goes to a random place
CANCEL_CHANCE = 0.05  # per arrival: a random queued job is cancelled
HISTORY = 50  # the window the estimates read (jobsched/foresight/durations.py)
SNAPSHOT_SECONDS = 0.5
PAGE = 200
MIN_WAIT = 0.5  # the relative error counts estimates whose wait was at least this long
GOAL_COVERAGE, GOAL_ERROR = 0.90, 0.20

Draw = Callable[[random.Random], float]
WORKLOAD: dict[str, Draw] = {
    "short": lambda rng: rng.lognormvariate(math.log(0.25), 0.5),  # median 0.25 s
    "steady": lambda rng: rng.uniform(0.5, 1.3),
    "bimodal": lambda rng: 0.12 if rng.random() < 0.7 else 1.4,  # mostly quick, some slow
}


@dataclass(frozen=True)
class Guess:
    job_id: str
    at: float  # epoch seconds of the snapshot
    p50: float
    p90: float
    naive: float


@dataclass
class Workload:
    stores: Stores
    rng: random.Random
    durations: dict[str, float] = field(default_factory=dict)
    starts: dict[str, float] = field(default_factory=dict)
    guesses: list[Guess] = field(default_factory=list)
    moves: int = 0
    cancels: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_run(self, claim: Claim) -> None:
        assert claim.job is not None
        assert claim.run is not None
        with self.lock:
            self.starts[claim.job.job_id] = claim.run.started_at.timestamp()
            seconds = self.durations[claim.job.job_id]
        time.sleep(seconds)

    def enqueue(self) -> None:
        template_id = self.rng.choice(sorted(WORKLOAD))
        seconds = WORKLOAD[template_id](self.rng)
        with self.lock:  # known before a slot can take it
            job, _ = enqueue(self.stores, JobCreate(template_id=template_id))
            self.durations[job.job_id] = seconds

    def stir(self) -> None:
        """Now and then a move or a cancel, as users do; one that lost a race is let go."""
        queued = [entry.job_id for _, entry in view_queue(self.stores, PAGE, None)[0]]
        if len(queued) < 3:
            return
        try:
            if self.rng.random() < MOVE_CHANCE:
                position = self.rng.randint(1, len(queued))
                move_job(self.stores, self.rng.choice(queued), MoveRequest(position=position))
                self.moves += 1
            if self.rng.random() < CANCEL_CHANCE:
                cancel_job(self.stores, self.rng.choice(queued))
                self.cancels += 1
        except (ConflictError, NotFoundError):
            pass  # the job started meanwhile

    def snapshot(self, mean_seconds: float) -> None:
        entries = view_queue(self.stores, PAGE, None)[0]
        now = time.time()
        etas = queue_etas(self.stores, SLOTS, entries)
        for position, entry in entries:
            eta = etas[entry.job_id]
            if eta.start_p50 is None or eta.start_p90 is None:
                continue
            naive = now + (position - 1) * mean_seconds / SLOTS
            self.guesses.append(
                Guess(
                    entry.job_id, now, eta.start_p50.timestamp(), eta.start_p90.timestamp(), naive
                )
            )


def seed_history(stores: Stores, rng: random.Random) -> float:
    """HISTORY completed runs per template, an hour ago; the mean duration of them all."""
    drawn: list[float] = []
    for template_id, draw in WORKLOAD.items():
        stores.templates.create(
            JobTemplate(template_id=template_id, name=template_id, workload="echo")
        )
        for _ in range(HISTORY):
            seconds = draw(rng)
            drawn.append(seconds)
            finished = utcnow() - timedelta(hours=1)
            stores.runs.put(
                JobRun(
                    run_id=new_id("run"),
                    job_id=new_id("job"),
                    template_id=template_id,
                    status=RunStatus.COMPLETED,
                    started_at=finished - timedelta(seconds=seconds),
                    finished_at=finished,
                )
            )
    return statistics.fmean(drawn)


def run(seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    with sqlite_rig() as rig:
        mean_seconds = seed_history(rig.api, rng)
        workload = Workload(rig.api, rng)
        executor = InstantExecutor(on_run=workload.on_run)
        with dispatcher_loop(rig, executor, slots=SLOTS) as loop:
            workload.stores = loop.api
            for _ in range(BACKLOG):
                workload.enqueue()
            loop.start()
            drive(workload, mean_seconds)
            executor.wait_for_runs(len(workload.durations) - workload.cancels)
            wait_idle(loop.loop, SLOTS)
        return figures(workload)


def drive(workload: Workload, mean_seconds: float) -> None:
    """Arrivals at random, stirs, and a snapshot every SNAPSHOT_SECONDS, until the queue is
    empty after the last arrival."""
    next_arrival = time.monotonic()
    next_snapshot = time.monotonic()
    arrived = 0
    while True:
        now = time.monotonic()
        if arrived < ARRIVALS and now >= next_arrival:
            workload.enqueue()
            workload.stir()
            arrived += 1
            next_arrival = now + workload.rng.expovariate(ARRIVAL_RATE)
        if now >= next_snapshot:
            workload.snapshot(mean_seconds)
            next_snapshot = now + SNAPSHOT_SECONDS
            if arrived >= ARRIVALS and not view_queue(workload.stores, 1, None)[0]:
                return
        time.sleep(0.01)


def figures(workload: Workload) -> dict[str, float]:
    scored = [
        (g, workload.starts[g.job_id]) for g in workload.guesses if g.job_id in workload.starts
    ]
    waited = [(g, start) for g, start in scored if start - g.at >= MIN_WAIT]
    return {
        "jobs": float(len(workload.starts)),
        "estimates": float(len(scored)),
        "moves": float(workload.moves),
        "cancels": float(workload.cancels),
        "coverage_p90": statistics.fmean(start <= g.p90 for g, start in scored),
        "error_p50": statistics.median(abs(start - g.p50) / (start - g.at) for g, start in waited),
        "naive_coverage": statistics.fmean(start <= g.naive for g, start in scored),
        "naive_error": statistics.median(
            abs(start - g.naive) / (start - g.at) for g, start in waited
        ),
    }


def main() -> None:
    print(f"ETA calibration on {SLOTS} slots, a workload per seed")
    header = ("seed", "jobs", "estimates", "moves", "cancels", "by p90", "p50 error")
    print("".join(f"{h:>10}" for h in (*header, "naive p90", "naive err")))
    results = [run(seed) for seed in SEEDS]
    for seed, r in zip(SEEDS, results, strict=True):
        counts = (seed, int(r["jobs"]), int(r["estimates"]), int(r["moves"]), int(r["cancels"]))
        print("".join(f"{n:>10}" for n in counts) + _rates(r))
    mean = {key: statistics.fmean(r[key] for r in results) for key in results[0]}
    print(f"{'mean':>10}" + " " * 40 + _rates(mean))
    print(
        f"goals: >= {GOAL_COVERAGE:.0%} of estimates started by their p90; <= {GOAL_ERROR:.0%} "
        f"median |error| of the p50 relative to the wait (waits of {MIN_WAIT} s or more)"
    )


def _rates(r: dict[str, float]) -> str:
    keys = ("coverage_p90", "error_p50", "naive_coverage", "naive_error")
    return "".join(f"{r[key]:>10.1%}" for key in keys)


if __name__ == "__main__":
    main()
