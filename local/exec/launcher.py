"""Launcher of the local runtime: a unit started outside the queue (USE_SCHEDULER=false) is a
worker subprocess of its own, watched by a thread that ends its run when it exits."""

import logging
import threading

from jobsched.dispatch.immediate import finish_outside_queue
from jobsched.models.units import Claim, Outcome
from jobsched.ports import Stores
from jobsched.ports.dispatch import LaunchError
from local.exec.dispatcher_loop import UnitExecutor

logger = logging.getLogger(__name__)


class LocalLauncher:
    def __init__(self, executor: UnitExecutor, stores: Stores | None = None) -> None:
        self.executor = executor
        self.stores = stores
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def bind(self, stores: Stores) -> None:
        """The stores that end the runs (they carry this launcher too: set after building)."""
        self.stores = stores

    def launch(self, claim: Claim) -> None:
        if self.stores is None:
            raise LaunchError("the local launcher is not bound to stores")
        thread = threading.Thread(
            target=self._run, args=(claim,), name=f"jobsched-now-{claim.unit_id}", daemon=True
        )
        try:
            thread.start()
        except RuntimeError as exc:  # the interpreter is shutting down, or out of threads
            raise LaunchError(str(exc)) from exc
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _run(self, claim: Claim) -> None:
        try:
            outcome = self.executor.run(claim)
        except Exception as exc:  # the executor never raises for a unit's own failure
            logger.exception("the worker of %s could not run", claim.unit_id)
            outcome = Outcome(exit_code=None, error=f"executor: {exc}")
        assert self.stores is not None
        try:
            finish_outside_queue(self.stores, claim, outcome)
        except Exception:
            # The store is unreachable: the sweeper ends the run from the worker's own report.
            logger.exception("could not record the end of %s", claim.unit_id)

    def join(self, timeout: float) -> None:
        """Wait for the watching threads (after the executor was told to stop its workers)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
