"""The steps a dispatch decision is made of. The core decides which steps to take; the store
commits a list of them atomically (one DynamoDB transaction) and names the step whose
condition failed, so the core can decide again. Each step states its condition."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobsched.errors import ConflictError
from jobsched.models import (
    GroupStatus,
    Job,
    JobGroup,
    JobRun,
    JobStatus,
    QueueEntry,
    ReservationStatus,
    RunStatus,
    UnitKind,
)
from jobsched.models.budgets import BudgetHold
from jobsched.models.concurrency import KeyHold
from jobsched.models.gates import FailedCheck
from jobsched.models.idempotency import IdempotencyClaim
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ranks import QueueRank


@dataclass(frozen=True)
class TakeSlot:
    """Hold `slot` for `holder`. Condition: the slot is free or, when `expected_holder` is
    given, it is held by that unit (a finishing unit hands it over). A slot whose lease expired
    is not free: its unit is the sweeper's to end first, else its run would stay `started`
    with no one to end it."""

    slot: str
    holder: str
    kind: UnitKind
    lease_until: float
    expected_holder: str | None = None


@dataclass(frozen=True)
class ReleaseSlot:
    """Free `slot`. Condition: `holder` holds it."""

    slot: str
    holder: str


@dataclass(frozen=True)
class CheckSlotHolder:
    slot: str
    holder: str


@dataclass(frozen=True)
class CheckNotPaused:
    """Condition: the queue is not paused."""


@dataclass(frozen=True)
class StartJob:
    """The job leaves the queue (its place must exist) and goes queued -> running with its run."""

    entry: QueueEntry
    run: JobRun


@dataclass(frozen=True)
class AcquireKeys:
    """The run holds a place under each of its job's concurrency keys. Condition: each key's
    counter has fewer than its limit holders. The counters of one job are distinct items (a
    counter names its key), so a transaction touches each once."""

    run_id: str
    keys: tuple[KeyHold, ...]


@dataclass(frozen=True)
class ReleaseKeys:
    """The run's places under `counters` are freed. No condition: the counters hold run ids,
    so a release retried, or by two enders racing, frees the place once."""

    run_id: str
    counters: tuple[str, ...]


@dataclass(frozen=True)
class ChargeBudget:
    """The run charges one unit (a token and a micro-US$) to a budget's period counter.
    Condition: the counter's committed units are below each of the hold's limits. Settled by
    the run's end (EndRun.budgets). One step per budget, so a failure names the spent one."""

    run_id: str
    hold: BudgetHold


@dataclass(frozen=True)
class StartOutsideQueue:
    """The legacy immediate start (USE_SCHEDULER=false): a new job goes straight to running
    with its run, never entering the queue and holding no slot. Condition: both ids are new."""

    job: Job
    run: JobRun


@dataclass(frozen=True)
class RecordIdempotencyKey:
    """The Idempotency-Key of what the other steps create. Condition: the key has no live
    record (an expired one counts as none)."""

    claim: IdempotencyClaim


@dataclass(frozen=True)
class CreateGroup:
    """A new group (a legacy batch started outside the queue). Condition: its id is new."""

    group: JobGroup


@dataclass(frozen=True)
class GroupTurn:
    """A sequential group's job may start only in its turn; the first one starts the group."""

    group_id: str
    index: int
    started_at: datetime


@dataclass(frozen=True)
class StartGroup:
    """A parallel group goes queued -> running; its jobs then start under its slot."""

    group_id: str
    started_at: datetime


@dataclass(frozen=True)
class StartReservation:
    """The reservation leaves the queue and goes pending -> running."""

    entry: QueueEntry
    slot: str
    started_at: datetime


@dataclass(frozen=True)
class EndRun:
    """Condition: the run is still started (a cancel or the sweeper may have ended it)."""

    run_id: str
    status: RunStatus
    finished_at: datetime
    exit_code: int | None = None
    error: str | None = None
    artifacts: list[str] = field(default_factory=list)
    log_path: str | None = None
    # Recorded on the run and, in the same write, added to the usage ledger under these ids.
    usage: Usage | None = None
    template_id: str = ""
    schedule_id: str | None = None
    failed_checks: list[FailedCheck] | None = None  # a REJECTED run's
    # The budget counters its claim charged: each gets the run's usage less the unit charged
    # (ChargeBudget), in the same write, so a run's end settles them exactly once.
    budgets: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        run_id: str,
        outcome: Outcome,
        finished_at: datetime,
        owner: Job | JobRun,
        budgets: Sequence[BudgetHold] | None = None,
    ) -> "EndRun":
        """The run ends as its executor saw it: completed on a clean exit, else failed.
        `owner` (its job, or the run itself) names what its usage is charged to; the run (or
        `budgets`, when the owner is its job) names the budgets it settles."""
        status = RunStatus.COMPLETED if outcome.succeeded else RunStatus.FAILED
        if outcome.failed_checks:
            status = RunStatus.REJECTED
        return cls(
            run_id,
            status,
            finished_at,
            exit_code=outcome.exit_code,
            error=outcome.reason,
            artifacts=outcome.artifacts,
            log_path=outcome.log_path,
            usage=outcome.usage,
            template_id=owner.template_id,
            schedule_id=owner.schedule_id,
            failed_checks=outcome.failed_checks,
            budgets=tuple(
                hold.counter
                for hold in (owner.budget_holds if isinstance(owner, JobRun) else budgets or ())
            ),
        )


@dataclass(frozen=True)
class EndJob:
    """running -> finished (or cancelled). Condition: running, and `run_id` is its latest run."""

    job_id: str
    run_id: str
    finished_at: datetime
    status: JobStatus = JobStatus.FINISHED


@dataclass(frozen=True)
class RequeueJob:
    """running -> queued for a retry, at `rank`, not before `not_before` (epoch seconds)."""

    job: Job
    run_id: str
    rank: QueueRank
    not_before: float


@dataclass(frozen=True)
class EndReservation:
    """Condition: the reservation is running."""

    reservation_id: str
    status: ReservationStatus
    finished_at: datetime
    exit_code: int | None = None
    error: str | None = None
    artifacts: list[str] = field(default_factory=list)
    log_path: str | None = None
    result: dict[str, Any] | None = None
    # Recorded on it and added to the usage ledger under its template, as a run's.
    usage: Usage | None = None
    template_id: str = ""
    # Its template's budget counters of the period it ended in: they get its whole usage
    # (a direct call is not held by a budget; what it used counts against later jobs).
    budgets: tuple[str, ...] = ()


@dataclass(frozen=True)
class CountGroupJob:
    """Count one of the group's jobs as ended; a sequential group passes the turn on."""

    group_id: str
    succeeded: bool
    turn: int | None = None  # sequential: the index whose turn ends (condition: it is)


@dataclass(frozen=True)
class EndGroup:
    """Condition: the group is running (or queued, when nothing of it ever started)."""

    group_id: str
    status: GroupStatus
    finished_at: datetime


Step = (
    TakeSlot
    | ReleaseSlot
    | CheckSlotHolder
    | CheckNotPaused
    | StartJob
    | AcquireKeys
    | ReleaseKeys
    | ChargeBudget
    | StartOutsideQueue
    | RecordIdempotencyKey
    | CreateGroup
    | GroupTurn
    | StartGroup
    | StartReservation
    | EndRun
    | EndJob
    | RequeueJob
    | EndReservation
    | CountGroupJob
    | EndGroup
)


class StepFailedError(ConflictError):
    """The store committed nothing: `step`'s condition did not hold (another writer changed
    what the steps were made from: a conflict, never a server error)."""

    def __init__(self, step: Step, steps: Sequence[Step]) -> None:
        super().__init__(f"{type(step).__name__} failed its condition")
        self.step = step
        self.steps = list(steps)
