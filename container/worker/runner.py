"""Run a workload in its own thread, so the worker keeps control when it is told to stop.

Signals are handled on the main thread, which only waits here. A workload that ignores the stop
event is given a grace period, then abandoned (its daemon thread dies with the process): the
worker still keeps the outputs and reports, instead of waiting for SIGKILL and reporting nothing.
"""

import threading
import time
from dataclasses import dataclass
from typing import Any

from worker.context import WorkloadContext
from worker.workloads import Workload

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Finished:
    returned: object = None  # the workload's return value (an exit code, if well behaved)
    raised: BaseException | None = None
    stopped: bool = False  # the stop event was set before the workload returned
    abandoned: bool = False  # it outlived the grace period after the stop


def run_workload(
    workload: Workload, params: dict[str, Any], ctx: WorkloadContext, grace_seconds: float
) -> Finished:
    box: list[Finished] = []

    def target() -> None:
        try:
            returned = workload(params, ctx)
        except BaseException as exc:  # even SystemExit: the worker, not the workload, exits
            box.append(Finished(raised=exc, stopped=ctx.stop.is_set()))
        else:
            box.append(Finished(returned=returned, stopped=ctx.stop.is_set()))

    thread = threading.Thread(target=target, name="workload", daemon=True)
    thread.start()
    give_up_at: float | None = None
    while thread.is_alive():
        thread.join(POLL_SECONDS)
        if ctx.stop.is_set() and give_up_at is None:
            give_up_at = time.monotonic() + grace_seconds
        if give_up_at is not None and time.monotonic() >= give_up_at and thread.is_alive():
            return Finished(stopped=True, abandoned=True)
    return box[0] if box else Finished(raised=RuntimeError("the workload ended without a result"))
