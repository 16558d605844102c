"""What dispatch needs beyond the entity stores: slots and atomic steps, stopping a running
unit, and waking the dispatcher."""

from collections.abc import Sequence
from typing import Any, Protocol

from jobsched.models import QueueEntry, Reservation, SlotLease
from jobsched.models.budgets import BudgetSpend
from jobsched.models.gates import GateVerdict
from jobsched.models.idempotency import IdempotencyClaim
from jobsched.models.steps import Step
from jobsched.models.units import Claim
from jobsched.models.usage import Usage
from jobsched.ranks import QueueRank


class DispatchStore(Protocol):
    def slots(self) -> list[SlotLease]: ...
    def commit(self, steps: Sequence[Step]) -> None:
        """All steps or none; raises StepFailedError naming the step whose condition failed."""
        ...

    def entry(self, unit_id: str) -> QueueEntry | None: ...
    def insert_reservation(
        self, reservation: Reservation, rank: QueueRank, idempotency: IdempotencyClaim | None = None
    ) -> None:
        """With `idempotency`, the key is recorded in the same transaction (raises
        IdempotencyKeyTakenError when it is taken, and nothing is written)."""
        ...

    def reservation(self, reservation_id: str) -> Reservation: ...
    def budget_spend(self, counters: Sequence[str]) -> dict[str, BudgetSpend]:
        """What each budget counter holds committed (strongly consistent); a counter nothing
        charged yet is absent."""
        ...

    def extend_lease(self, slot: str, holder: str, until: float) -> bool: ...
    def record_pid(self, claim: Claim, pid: int) -> None:
        """Note the local worker's process id on its run (the spec's `run.pid`)."""
        ...

    def heartbeat_request(self, claim: Claim) -> dict[str, Any] | None:
        """A transaction the worker sends every period: it extends the slot's lease, and fails
        once its run was ended elsewhere (cancelled, or declared lost). None: the worker has
        no connection to this store (SQLite), and its parent calls `renew` instead."""
        ...

    def result_request(self, claim: Claim) -> dict[str, Any] | None:
        """A transaction the worker sends at exit with its own exit code and artifacts. None:
        the worker has no connection to this store, and its parent calls `record_result`."""
        ...

    def renew(
        self, claim: Claim, now: float, lease_until: float, usage: Usage | None = None
    ) -> bool:
        """What the heartbeat does, from the worker's parent: the unit's heartbeat_at = `now`
        (and a run's live_usage = `usage`, what it used so far) and, unless it runs outside the
        queue, its slot's lease to `lease_until` (held by claim.holder). False, with nothing
        written, once the unit ended or lost its slot."""
        ...

    def record_result(
        self, claim: Claim, exit_code: int, artifacts: list[str], usage: Usage | None = None
    ) -> bool:
        """What the result transaction does, from the worker's parent: the worker's own exit
        code, artifacts and usage on its live unit. False, with nothing written, once it ended."""
        ...


class TaskStopper(Protocol):
    """Stops a running unit's task: ECS StopTask on AWS, SIGTERM then SIGKILL locally."""

    def stop(self, unit_id: str, reason: str) -> None: ...


class RunProbe(Protocol):
    """What really runs: the unit ids of live tasks (ECS) or worker processes (local); None
    when this process cannot tell (no cluster, no executor)."""

    def running_units(self) -> set[str] | None: ...


class NoProbe:
    def running_units(self) -> set[str] | None:
        return None


class Kicker(Protocol):
    """Wakes the dispatcher when work arrives and it may be idle (idempotent, cheap)."""

    def kick(self) -> None: ...


class LogReader(Protocol):
    """A run's log lines from `cursor` on (CloudWatch Logs on AWS, the log file locally)."""

    def read(
        self, log_path: str | None, cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]: ...


class OutputIndexer(Protocol):
    """Indexes what a unit wrote (stories, research cards) before its end is recorded; returns
    what a reservation's `result` should hold, or None when the outputs hold nothing to index.
    Idempotent: a finish that is retried indexes the same items again without harm."""

    def index(self, claim: Claim, outcome: Any) -> dict[str, Any] | None: ...


class OutputGate(Protocol):
    """Checks a finished run's outputs against its template's quality gates (jobsched/gates):
    None when nothing was checked. Raises when the outputs could not be read for now (the
    finish fails, and is tried again, as indexing's)."""

    def check(self, claim: Claim, outcome: Any) -> GateVerdict | None: ...


class NoGate:
    def check(self, claim: Claim, outcome: Any) -> GateVerdict | None:
        return None


class NoIndexer:
    def index(self, claim: Claim, outcome: Any) -> dict[str, Any] | None:
        return None


class LaunchError(Exception):
    """A unit's task could not be started outside the queue; the message says why."""


class Launcher(Protocol):
    """Starts a unit's task outside the queue (USE_SCHEDULER=false) and returns at once:
    ECS RunTask on AWS, a worker subprocess locally. Raises LaunchError."""

    def launch(self, claim: Claim) -> None: ...


class NoLauncher:
    def launch(self, claim: Claim) -> None:
        raise LaunchError("this process cannot start jobs outside the queue (no launcher)")


class GroupNotifier(Protocol):
    """Tells an ended group's webhook that it ended. Asynchronous (a delivery with its retries
    may take a minute, longer than a dispatch step) and at most once per group: the sender
    claims the group's notification with a conditional write before it sends."""

    def group_ended(self, group_id: str) -> None: ...


class NoNotifier:
    def group_ended(self, group_id: str) -> None:
        return None


class NoLogs:
    def read(
        self, log_path: str | None, cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        return [], cursor


class NoKicker:
    """For processes that never dispatch (the CLI, tests of the queue alone)."""

    def kick(self) -> None:
        return None


class NoTaskStopper:
    def stop(self, unit_id: str, reason: str) -> None:
        return None
