"""What dispatch needs beyond the entity stores: slots and atomic steps, stopping a running
unit, and waking the dispatcher."""

from collections.abc import Sequence
from typing import Any, Protocol

from jobsched.dispatch.steps import Step
from jobsched.dispatch.units import Claim
from jobsched.models import QueueEntry, Reservation, SlotLease
from jobsched.ranks import QueueRank


class DispatchStore(Protocol):
    def slots(self) -> list[SlotLease]: ...
    def commit(self, steps: Sequence[Step]) -> None:
        """All steps or none; raises StepFailedError naming the step whose condition failed."""
        ...

    def entry(self, unit_id: str) -> QueueEntry | None: ...
    def insert_reservation(self, reservation: Reservation, rank: QueueRank) -> None: ...
    def reservation(self, reservation_id: str) -> Reservation: ...
    def extend_lease(self, slot: str, holder: str, until: float) -> bool: ...
    def record_pid(self, claim: Claim, pid: int) -> None:
        """Note the local worker's process id on its run (the spec's `run.pid`)."""
        ...

    def heartbeat_request(self, claim: Claim) -> dict[str, Any]:
        """A transaction the worker sends every period: it extends the slot's lease, and fails
        once its run was ended elsewhere (cancelled, or declared lost)."""
        ...

    def result_request(self, claim: Claim) -> dict[str, Any]:
        """A transaction the worker sends at exit with its own exit code and artifacts."""
        ...


class TaskStopper(Protocol):
    """Stops a running unit's task: ECS StopTask on AWS, SIGTERM then SIGKILL locally."""

    def stop(self, unit_id: str, reason: str) -> None: ...


class Kicker(Protocol):
    """Wakes the dispatcher when work arrives and it may be idle (idempotent, cheap)."""

    def kick(self) -> None: ...


class LogReader(Protocol):
    """A run's log lines from `cursor` on (CloudWatch Logs on AWS, the log file locally)."""

    def read(
        self, log_path: str | None, cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]: ...


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
