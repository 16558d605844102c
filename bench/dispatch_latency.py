"""Dispatch latency on one machine: a LocalDispatcher with an executor that notes when each
claim arrives and returns success at once, so no subprocess time is counted. On the SQLite
store of `jobsched local` (one file, WAL, synchronous=FULL), with moto's server (HTTP, the
atomic emulator of `--store dynamodb`) as the baseline, in the same run; and SQLite with
synchronous=NORMAL, which shows what the fsync of each commit costs.

- Idle queue: from the enqueue call until the claim its kick makes is done (the run exists and
  holds the slot, and the executor has the claim).
- Busy queue: from the previous job's end (its executor returns) until the next claim is done:
  the finish that hands the slot over, in one transaction with the next job's start.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from bench.harness import (
    NOOP,
    FullCollections,
    InstantExecutor,
    Loop,
    SqliteRig,
    StoreRig,
    dispatcher_loop,
    fmt_ms,
    percentile,
    rig,
    sqlite_rig,
    wait_idle,
)
from jobsched.jobs.jobs import JobCreate, enqueue

SAMPLES = 50
WARMUP = 3  # the first claims pay for connections and lazy imports
GOAL_P50_SECONDS = {"moto": 0.050, "sqlite": 0.005}  # each store's goal (the issues')

RigFactory = Callable[[], AbstractContextManager[StoreRig]]


@dataclass(frozen=True)
class Store:
    name: str
    goal: str  # the key of GOAL_P50_SECONDS
    rig: RigFactory
    one_call: str  # what the lone store call is


STORES = (
    Store("moto server (HTTP)", "moto", rig, "Query of the slots"),
    Store("SQLite, synchronous=FULL", "sqlite", sqlite_rig, "read of the slots"),
    Store(
        "SQLite, synchronous=NORMAL", "sqlite", lambda: sqlite_rig("NORMAL"), "read of the slots"
    ),
)


@dataclass(frozen=True)
class Latency:
    name: str
    samples: list[float]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    def row(self) -> str:
        figures = (self.p50, percentile(self.samples, 99), max(self.samples))
        return f"    {self.name:<40}" + "".join(f" {fmt_ms(value):>9}" for value in figures)


@dataclass
class Result:
    store: Store
    idle: Latency
    after_enqueue: Latency
    busy: Latency
    one_call: Latency
    idle_gc: FullCollections
    busy_gc: FullCollections
    calls_per_job: Counter[str] | None  # SQLite's db.calls over the busy drain, per job


def idle_queue(store: Store, collections: FullCollections) -> list[Latency]:
    """Enqueue call -> claim done; enqueue returned -> claim done; one store call alone."""
    total: list[float] = []
    after_enqueue: list[float] = []
    one_call: list[float] = []
    executor = InstantExecutor()
    with store.rig() as bench_rig, dispatcher_loop(bench_rig, executor) as loop:
        loop.start()
        wait_idle(loop.loop)
        for _ in range(SAMPLES):
            started = time.perf_counter()
            loop.dispatch_stores.dispatch.slots()
            one_call.append(time.perf_counter() - started)
        for _ in range(WARMUP):
            _enqueue_on_idle(loop, executor)
        with collections:
            for _ in range(SAMPLES):
                started, enqueued, claimed = _enqueue_on_idle(loop, executor)
                total.append(claimed - started)
                after_enqueue.append(claimed - enqueued)
    return [
        Latency("idle: enqueue call -> claim done", total),
        Latency("  of which after enqueue returned", after_enqueue),
        Latency(f"one store call ({store.one_call})", one_call),
    ]


def _enqueue_on_idle(loop: Loop, executor: InstantExecutor) -> tuple[float, float, float]:
    """(enqueue called, enqueue returned, claim arrived at the executor), perf_counter times."""
    ran = len(executor.arrivals)
    started = time.perf_counter()
    enqueue(loop.api, JobCreate(template_id=NOOP.template_id))
    enqueued = time.perf_counter()
    executor.wait_for_runs(ran + 1)
    wait_idle(loop.loop)  # its finish is recorded: the queue is idle again
    return started, enqueued, executor.arrivals[ran]


def busy_queue(store: Store, collections: FullCollections) -> tuple[Latency, Counter[str] | None]:
    """The previous job's end -> the next claim done, over a backlog drained back to back."""
    executor = InstantExecutor()
    jobs = WARMUP + SAMPLES + 1
    calls: Counter[str] | None = None
    with store.rig() as bench_rig, dispatcher_loop(bench_rig, executor) as loop:
        for _ in range(jobs):
            enqueue(loop.api, JobCreate(template_id=NOOP.template_id))
        db = bench_rig.db if isinstance(bench_rig, SqliteRig) else None
        before = Counter(db.calls) if db is not None else Counter()
        with collections:
            loop.start()
            executor.wait_for_runs(jobs)
            wait_idle(loop.loop)
        if db is not None:
            calls = db.calls - before
    gaps = [
        executor.arrivals[index + 1] - executor.ends[index] for index in range(WARMUP, jobs - 1)
    ]
    per_job = Counter({kind: round(n / jobs, 2) for kind, n in calls.items()}) if calls else None
    return Latency("busy: previous end -> next claim done", gaps), per_job


def measure(store: Store) -> Result:
    idle_gc, busy_gc = FullCollections(), FullCollections()
    idle, after_enqueue, one_call = idle_queue(store, idle_gc)
    busy, calls = busy_queue(store, busy_gc)
    return Result(store, idle, after_enqueue, busy, one_call, idle_gc, busy_gc, calls)


def report(results: list[Result]) -> Iterator[str]:
    yield f"    {'':<40} {'p50':>9} {'p99':>9} {'max':>9}"
    for result in results:
        yield f"  {result.store.name}"
        for latency in (result.idle, result.after_enqueue, result.busy, result.one_call):
            yield latency.row()
    yield ""
    base = results[0]
    for result in results:
        goal = GOAL_P50_SECONDS[result.store.goal]
        for latency, collections in ((result.idle, result.idle_gc), (result.busy, result.busy_gc)):
            verdict = "within" if latency.p50 <= goal else "ABOVE"
            kind = latency.name.split(":")[0]
            yield (
                f"  {result.store.name}, {kind}: p50 {verdict} the goal of {fmt_ms(goal)}; "
                f"while sampling: {collections}"
            )
        if result is not base:
            idle, busy = base.idle.p50 / result.idle.p50, base.busy.p50 / result.busy.p50
            yield f"    p50 against moto: idle {idle:.1f}x, busy {busy:.1f}x lower"
        if result.calls_per_job:
            calls = ", ".join(f"{kind} {n:g}" for kind, n in sorted(result.calls_per_job.items()))
            yield f"    store calls per job while draining: {calls}"
    yield "  (moto runs in this process, as in `jobsched local`: its garbage is in the tails)"


def main() -> None:
    print(
        f"Dispatch latency, LocalDispatcher with an instant executor, {SAMPLES} samples each: "
        "SQLite against moto's server"
    )
    results = [measure(store) for store in STORES]
    print("\n".join(report(results)))


if __name__ == "__main__":
    main()
