"""A finish that fails (the store refused the commit) leaves the unit started for the sweeper:
the dispatcher loop notes how the worker ended on it first, so the sweeper records that
outcome rather than a loss, and the job is not run again."""

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from jobsched.errors import UnavailableError
from jobsched.models import RunStatus
from jobsched.models.steps import EndRun, Step
from jobsched.models.units import Claim, Outcome
from jobsched.ports import RunFilter, Stores
from jobsched.ports.dispatch import DispatchStore, NoTaskStopper
from local.exec.dispatcher_loop import LocalDispatcher, LoopConfig
from tests.support.local import echo
from tests.support.waiting import wait_until


class DoneAtOnce:
    def run(self, claim: Claim) -> Outcome:
        return Outcome(exit_code=0, artifacts=["file:///out/a.txt"])

    def stop_all(self, reason: str) -> None:
        return None


class FinishRefusedOnce:
    """The dispatch store, refusing the first commit that ends a run."""

    def __init__(self, inner: DispatchStore) -> None:
        self._inner = inner
        self.refused = threading.Event()

    def commit(self, steps: Sequence[Step]) -> None:
        if not self.refused.is_set() and any(isinstance(step, EndRun) for step in steps):
            self.refused.set()
            raise UnavailableError("the store is busy; retry shortly")
        self._inner.commit(steps)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_refused_finish_keeps_the_workers_outcome_on_the_run(base_stores: Stores) -> None:
    echo(base_stores)
    flaky = FinishRefusedOnce(base_stores.dispatch)
    stores = replace(base_stores, dispatch=flaky)
    loop = LocalDispatcher(DoneAtOnce(), LoopConfig(slots=1, sweep_seconds=3600))
    loop.start(stores.with_edges(kicker=loop, tasks=NoTaskStopper()))
    try:
        wait_until(flaky.refused.is_set, what="the refused finish")
        [run] = base_stores.runs.list_page(RunFilter(), 10, None).items
        wait_until(
            lambda: base_stores.runs.get(run.run_id).worker_exit_code == 0,
            what="the worker's outcome noted on the run",
        )
    finally:
        loop.stop()
    kept = base_stores.runs.get(run.run_id)
    assert kept.status == RunStatus.STARTED  # still the sweeper's to end, now as completed
    assert kept.worker_artifacts == '["file:///out/a.txt"]'
