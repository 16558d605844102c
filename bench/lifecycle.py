"""Store round trips per job lifecycle (enqueue -> claim -> finish), and store calls while idle.

A real LocalDispatcher (one slot) runs over moto's server with an executor that does nothing;
a botocore hook (CallMeter) counts the calls of the API's client and of the dispatcher's.

- Busy queue: a backlog of jobs drained back to back. A finish hands its slot to the next job
  in the same transaction, so a job costs its enqueue, one head query and one transaction.
- Idle queue: one job enqueued while the dispatcher sleeps: the enqueue, the claim its kick
  makes, and its finish, which finds the queue empty and frees the slot.
- Empty queue: the calls a sleeping dispatcher makes (none: it is woken by events).
"""

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bench.harness import NOOP, InstantExecutor, Loop, Rig, dispatcher_loop, rig, wait_idle
from jobsched.adapters.dynamodb.metering import CallMeter, MeteredCall
from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.dispatch.sweeper import sweep
from jobsched.jobs.jobs import JobCreate, enqueue

BACKLOG = 100
GOAL = 3
IDLE_SECONDS = 3.0
LOCAL_SWEEP_SECONDS = 10.0  # jobsched local's period (local/runtime.py, LOCAL_TIMINGS)
# Quoted from issue 3 (each measured on the issue author's machine), not measured here.
PEERS = (("Celery on Redis", 4.2), ("arq", 9.0), ("RQ", 20.0))


@dataclass(frozen=True)
class Segment:
    calls: Sequence[MeteredCall]

    def __len__(self) -> int:
        return len(self.calls)

    def __str__(self) -> str:
        counts = Counter(call.operation for call in self.calls)
        return ", ".join(f"{op} {n}" for op, n in sorted(counts.items())) or "none"


class Marks:
    """Where each claim's arrival at the executor falls in the dispatcher's call log."""

    def __init__(self) -> None:
        self.meter: CallMeter | None = None
        self.at: list[int] = []

    def note(self, *_: object) -> None:
        assert self.meter is not None
        self.at.append(len(self.meter.calls))


def busy_queue(rig: Rig) -> None:
    marks = Marks()
    executor = InstantExecutor(on_run=marks.note)
    with dispatcher_loop(rig, executor) as loop:
        with CallMeter(rig.api_dynamo.client) as enqueues:
            for _ in range(BACKLOG):
                enqueue(loop.api, JobCreate(template_id=NOOP.template_id))
        with CallMeter(rig.loop_dynamo.client) as dispatching:
            marks.meter = dispatching
            loop.start()
            executor.wait_for_runs(BACKLOG)
            wait_idle(loop.loop)
    calls = dispatching.calls
    first, last = marks.at[0], marks.at[-1]
    handovers = Segment(calls[first:last])  # finish n + claim n+1, for n = 1 .. BACKLOG-1
    per_enqueue = len(enqueues.calls) / BACKLOG
    per_handover = len(handovers) / (BACKLOG - 1)
    per_job = per_enqueue + per_handover
    whole = (len(enqueues.calls) + len(calls)) / BACKLOG
    print(f"busy queue: a backlog of {BACKLOG} jobs drained back to back (one slot)")
    print(f"  enqueue                    {per_enqueue:5.2f} per job  ({Segment(enqueues.calls)})")
    print(f"  finish n + claim n+1       {per_handover:5.2f} per job  ({handovers})")
    verdict = "within" if per_job <= GOAL else "ABOVE"
    print(f"  per job lifecycle          {per_job:5.2f}          ({verdict} the goal of {GOAL})")
    opening, closing = Segment(calls[:first]), Segment(calls[last:])
    print(f"  once per burst: its first claim {len(opening)} ({opening}),")
    print(f"    its last finish {len(closing)} ({closing}): the queue is empty, the slot freed")
    total = len(enqueues.calls) + len(calls)
    print(f"  whole burst                {whole:5.2f} per job  ({total} calls / {BACKLOG} jobs)")
    peers = ", ".join(f"{name} {calls:g}" for name, calls in PEERS)
    print(f"  peers, as quoted in issue 3 (not measured here): {peers}")


def idle_queue(loop: Loop, rig: Rig, executor: InstantExecutor, marks: Marks) -> None:
    ran = len(executor.arrivals)
    with (
        CallMeter(rig.api_dynamo.client) as api_calls,
        CallMeter(rig.loop_dynamo.client) as loop_calls,
    ):
        marks.meter, marks.at = loop_calls, []
        enqueue(loop.api, JobCreate(template_id=NOOP.template_id))
        executor.wait_for_runs(ran + 1)
        wait_idle(loop.loop)
    claim = Segment(loop_calls.calls[: marks.at[0]])
    finish = Segment(loop_calls.calls[marks.at[0] :])
    total = len(api_calls.calls) + len(claim) + len(finish)
    print("idle queue: one job enqueued while the dispatcher sleeps")
    print(f"  enqueue                    {len(api_calls.calls):2d}  ({Segment(api_calls.calls)})")
    print(f"  claim (woken by the kick)  {len(claim):2d}  ({claim}: the slots, the head, the take)")
    print(f"  finish (queue empty)       {len(finish):2d}  ({finish}: the head, the release)")
    print(f"  per job lifecycle          {total:2d}")


def empty_queue(loop: Loop, rig: Rig) -> None:
    with CallMeter(rig.loop_dynamo.client) as meter:
        started = time.monotonic()
        time.sleep(IDLE_SECONDS)
        elapsed = time.monotonic() - started
    dispatcher = Dispatcher(loop.dispatch_stores, loop.dispatch_stores.dispatch)
    with CallMeter(rig.loop_dynamo.client) as one_sweep:
        sweep(dispatcher)
    per_sweep = len(one_sweep.calls)
    print(f"empty queue: a LocalDispatcher asleep for {elapsed:.1f} s")
    rate = len(meter.calls) / elapsed
    print(f"  store calls                {len(meter.calls)}  ({rate:.2f} per second; goal 0)")
    print("  the sweeper is outside this window (its first look comes a whole period after start):")
    print(f"    a sweep makes {per_sweep} calls ({Segment(one_sweep.calls)}): once a minute on AWS")
    local_rate = per_sweep / LOCAL_SWEEP_SECONDS
    print(
        f"    ({per_sweep / 60:.3f} per second), every {LOCAL_SWEEP_SECONDS:g} s in "
        f"`jobsched local` ({local_rate:.2f} per second)"
    )


def main() -> None:
    print("Store round trips per job lifecycle, LocalDispatcher over moto server, CallMeter")
    with rig() as bench_rig:
        busy_queue(bench_rig)
    print()
    with rig() as bench_rig:
        marks = Marks()
        executor = InstantExecutor(on_run=marks.note)
        with dispatcher_loop(bench_rig, executor) as loop:
            loop.start()
            wait_idle(loop.loop)  # its first look at the empty queue is done
            idle_queue(loop, bench_rig, executor, marks)
            print()
            empty_queue(loop, bench_rig)


if __name__ == "__main__":
    main()
