"""Dispatch latency on one machine: a LocalDispatcher over moto's server (HTTP, the atomic
emulator `jobsched local` runs), with an executor that notes when each claim arrives and returns
success at once, so no subprocess time is counted.

- Idle queue: from the enqueue call until the claim its kick makes is done (the run exists and
  holds the slot, and the executor has the claim).
- Busy queue: from the previous job's end (its executor returns) until the next claim is done:
  the finish that hands the slot over, in one transaction with the next job's start.
"""

import time
from dataclasses import dataclass

from bench.harness import (
    NOOP,
    FullCollections,
    InstantExecutor,
    Loop,
    dispatcher_loop,
    fmt_ms,
    percentile,
    rig,
    wait_idle,
)
from jobsched.jobs.jobs import JobCreate, enqueue

SAMPLES = 50
WARMUP = 3  # the first claims pay for connections and lazy imports
GOAL_P50_SECONDS = 0.050


@dataclass(frozen=True)
class Latency:
    name: str
    samples: list[float]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    def row(self) -> str:
        figures = (self.p50, percentile(self.samples, 99), max(self.samples))
        return f"  {self.name:<40}" + "".join(f" {fmt_ms(value):>9}" for value in figures)


def idle_queue(collections: FullCollections) -> list[Latency]:
    """Enqueue call -> claim done; enqueue returned -> claim done; one store call alone."""
    total: list[float] = []
    after_enqueue: list[float] = []
    one_call: list[float] = []
    executor = InstantExecutor()
    with rig() as bench_rig, dispatcher_loop(bench_rig, executor) as loop:
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
        Latency("one store call (Query of the slots)", one_call),
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


def busy_queue(collections: FullCollections) -> Latency:
    """The previous job's end -> the next claim done, over a backlog drained back to back."""
    executor = InstantExecutor()
    jobs = WARMUP + SAMPLES + 1
    with rig() as bench_rig, dispatcher_loop(bench_rig, executor) as loop:
        for _ in range(jobs):
            enqueue(loop.api, JobCreate(template_id=NOOP.template_id))
        with collections:
            loop.start()
            executor.wait_for_runs(jobs)
            wait_idle(loop.loop)
    gaps = [
        executor.arrivals[index + 1] - executor.ends[index] for index in range(WARMUP, jobs - 1)
    ]
    return Latency("busy: previous end -> next claim done", gaps)


def main() -> None:
    print(f"Dispatch latency, LocalDispatcher over moto server (HTTP), {SAMPLES} samples each")
    idle_gc, busy_gc = FullCollections(), FullCollections()
    idle, after_enqueue, one_call = idle_queue(idle_gc)
    busy = busy_queue(busy_gc)
    print(f"  {'':<40} {'p50':>9} {'p99':>9} {'max':>9}")
    for latency in (idle, after_enqueue, busy, one_call):
        print(latency.row())
    goal = fmt_ms(GOAL_P50_SECONDS)
    for latency, collections in ((idle, idle_gc), (busy, busy_gc)):
        verdict = "within" if latency.p50 <= GOAL_P50_SECONDS else "ABOVE"
        kind = latency.name.split(":")[0]
        print(f"  {kind}: p50 {verdict} the goal of {goal}; while sampling: {collections}")
    print("  (moto runs in this process, as in `jobsched local`: its garbage is in the tails)")


if __name__ == "__main__":
    main()
