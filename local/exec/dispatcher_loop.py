"""The local dispatcher: one thread per slot claims a unit, executes it and finishes it with the
same Dispatcher code the state machine runs on AWS; and a sweeper thread.

Threads sleep until something can have changed: a kick (enqueue, resume, a reservation, the
sweeper), the time a waiting retry becomes eligible, or a stop. An idle runtime makes no store
calls at all, apart from the sweeper's one query a period.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.dispatch.sweeper import sweep
from jobsched.models import UnitKind
from jobsched.models.units import INTERRUPTED, Claim, Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings

logger = logging.getLogger(__name__)

# After an unexpected error (the store unreachable), a slot thread waits this long and looks
# again: work it was about to claim may still wait.
ERROR_PAUSE_SECONDS = 1.0
# A retry is eligible once its not-before time has passed (strictly): wake just after it.
WAKE_MARGIN_SECONDS = 0.01
JOIN_SECONDS = 30.0


class UnitExecutor(Protocol):
    def run(self, claim: Claim) -> Outcome: ...
    def stop_all(self, reason: str) -> None: ...


@dataclass(frozen=True)
class LoopConfig:
    slots: int = 1
    startup_lease_seconds: float = 600.0
    sweep_seconds: float = 60.0
    heartbeat_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoopConfig":
        return cls(
            settings.slots,
            settings.startup_lease_seconds,
            settings.sweep_seconds,
            settings.heartbeat_seconds,
        )

    @property
    def dispatch(self) -> DispatchConfig:
        return DispatchConfig(self.slots, self.startup_lease_seconds, self.heartbeat_seconds)


class LocalDispatcher:
    """The Kicker of the local runtime, and the threads that dispatch.

    A kick sets `pending` and wakes one idle slot thread. A thread that claims a unit passes
    the wake-up on to another idle thread, since more work may wait for another free slot. A
    thread about to finish a unit clears `pending` first: the finish reads the queue after every
    kick made so far and claims the next unit itself.
    """

    def __init__(
        self,
        executor: UnitExecutor,
        config: LoopConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.executor = executor
        self.config = config
        self.clock = clock
        self._cond = threading.Condition()
        self._pending = True  # look once at start: work may have arrived before the threads
        self._idle = 0
        self._wake_at: float | None = None
        self._stopping = False
        self._halt = threading.Event()  # ends the sweeper's and the error pauses' waits
        self._threads: list[threading.Thread] = []

    # --- the Kicker ---------------------------------------------------------------------------

    def kick(self) -> None:
        with self._cond:
            self._pending = True
            self._cond.notify()

    # --- life cycle ---------------------------------------------------------------------------

    def start(self, stores: Stores) -> None:
        """`stores` must carry this loop as their kicker and the executor as their task stopper."""
        for index in range(self.config.slots):
            self._spawn(f"jobsched-slot-{index}", self._serve, self._dispatcher(stores))
        self._spawn("jobsched-sweeper", self._sweep, self._dispatcher(stores))

    def stop(self, timeout: float = JOIN_SECONDS) -> None:
        """Claim nothing more, stop running workers (SIGTERM, then SIGKILL after the grace),
        record their ends (interrupted: their jobs are queued again at the front of their
        band, with the attempt not spent), and wait for the threads."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._halt.set()
        self.executor.stop_all(INTERRUPTED)
        deadline = self.clock() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - self.clock()))
            if thread.is_alive():
                logger.warning("%s did not stop in time", thread.name)
        self._threads.clear()

    @property
    def idle(self) -> int:
        """Slot threads asleep, waiting for work."""
        with self._cond:
            return self._idle

    def _dispatcher(self, stores: Stores) -> Dispatcher:
        # One per thread: a Dispatcher keeps per-claim state (wake_at).
        return Dispatcher(stores, stores.dispatch, self.config.dispatch, clock=self.clock)

    def _spawn(self, name: str, target: Callable[[Dispatcher], None], arg: Dispatcher) -> None:
        thread = threading.Thread(target=target, args=(arg,), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # --- a slot thread ------------------------------------------------------------------------

    def _serve(self, dispatcher: Dispatcher) -> None:
        while self._wait_for_work():
            try:
                self._drain(dispatcher)
            except Exception:
                # The slot, if held, is recovered by the sweeper once its lease expires.
                logger.exception("dispatch failed; looking again in %s s", ERROR_PAUSE_SECONDS)
                self._halt.wait(ERROR_PAUSE_SECONDS)
                self.kick()

    def _drain(self, dispatcher: Dispatcher) -> None:
        """Claim a unit, then run units back to back while each finish hands over the next."""
        claim = dispatcher.claim()
        self._note_wake_at(dispatcher)
        while claim is not None:
            self._pass_wake_up()
            outcome = self._execute(dispatcher, claim)
            with self._cond:
                self._pending = False
                claim_next = not self._stopping
            ended = claim
            try:
                claim = dispatcher.finish(ended, outcome, claim_next=claim_next)
            except Exception:
                _keep_outcome(dispatcher, ended, outcome)
                raise
            self._note_wake_at(dispatcher)  # it covers a retry this finish queued

    def _execute(self, dispatcher: Dispatcher, claim: Claim) -> Outcome:
        unit = _describe(claim)
        logger.info("slot %s: %s started", claim.slot, unit)
        if claim.kind == UnitKind.GROUP:
            outcome = self._run_group(dispatcher, claim)
        else:
            outcome = self.executor.run(claim)
        error = f" ({outcome.error})" if outcome.error else ""
        logger.info("slot %s: %s ended, exit code %s%s", claim.slot, unit, outcome.exit_code, error)
        return outcome

    def _run_group(self, dispatcher: Dispatcher, group_claim: Claim) -> Outcome:
        """A parallel group's jobs, up to max_parallel at once, all under the group's slot. The
        group's own outcome is its jobs' counts, which their finishes recorded."""
        group = group_claim.group
        assert group is not None
        width = min(group.max_parallel or len(group.job_ids), len(group.job_ids))
        with ThreadPoolExecutor(max(1, width), thread_name_prefix="jobsched-group") as pool:
            for _ in pool.map(
                lambda job_id: self._run_group_job(dispatcher, group_claim, job_id),
                group.job_ids,
            ):
                pass
        return Outcome(exit_code=0)

    def _run_group_job(self, dispatcher: Dispatcher, group_claim: Claim, job_id: str) -> None:
        if self._stopping:
            return
        try:
            claim = dispatcher.claim_group_job(group_claim, job_id)
            if claim is None:
                return  # cancelled before its turn
            dispatcher.finish_group_job(claim, self.executor.run(claim))
        except Exception:
            # Its run stays STARTED; the sweeper recovers it with the group when the lease ends.
            logger.exception("group %s: job %s failed to run", group_claim.unit_id, job_id)

    # --- waking -------------------------------------------------------------------------------

    def _wait_for_work(self) -> bool:
        """Sleep until a kick, the earliest retry time, or a stop; False when stopping."""
        with self._cond:
            self._idle += 1
            try:
                while not self._pending and not self._stopping:
                    if self._wake_at is None:
                        self._cond.wait()
                        continue
                    delay = self._wake_at + WAKE_MARGIN_SECONDS - self.clock()
                    if delay <= 0:
                        self._wake_at = None
                        break
                    self._cond.wait(delay)
                self._pending = False
            finally:
                self._idle -= 1
            return not self._stopping

    def _pass_wake_up(self) -> None:
        with self._cond:
            if self._idle:
                self._pending = True
                self._cond.notify()

    def _note_wake_at(self, dispatcher: Dispatcher) -> None:
        """Remember when the earliest waiting retry becomes eligible; idle threads wake then."""
        if dispatcher.wake_at is not None:
            self._wake_no_later_than(dispatcher.wake_at)

    def _wake_no_later_than(self, at: float) -> None:
        with self._cond:
            if self._wake_at is None or at < self._wake_at:
                self._wake_at = at
                self._cond.notify_all()  # idle threads recompute how long to sleep

    def _sweep(self, dispatcher: Dispatcher) -> None:
        while not self._halt.wait(self.config.sweep_seconds):
            try:
                report = sweep(dispatcher, clock=self.clock)
            except Exception:
                logger.exception("sweep failed; next one in %s s", self.config.sweep_seconds)
                continue
            if report.recovered:
                logger.warning("sweeper recovered lost units: %s", ", ".join(report.recovered))


def _keep_outcome(dispatcher: Dispatcher, claim: Claim, outcome: Outcome) -> None:
    """A finish that failed leaves the unit started, for the sweeper once its lease lapses:
    note how the worker ended on it, so the sweeper records that rather than a loss (a worker
    that reaches the store reported it itself already; once more is harmless)."""
    if outcome.exit_code is None or outcome.error is not None:
        return
    try:
        dispatcher.dispatch.record_result(
            claim, outcome.exit_code, outcome.artifacts, outcome.usage
        )
    except Exception:
        logger.warning("could not keep the outcome of %s", claim.unit_id, exc_info=True)


def _describe(claim: Claim) -> str:
    if claim.job is not None:
        return f"job {claim.job.job_id} (run {claim.unit_id})"
    return f"{claim.kind} {claim.unit_id}"
