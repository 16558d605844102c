"""What a claim hands to an executor, and what an executor hands back."""

import json
import signal
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict

from jobsched.models import Job, JobGroup, JobRun, JobTemplate, Reservation, UnitKind
from jobsched.models.gates import FailedCheck, GateVerdict
from jobsched.models.usage import Usage


class Claim(BaseModel):
    """A unit that holds a slot. Serialisable: the state machine carries it between steps."""

    model_config = ConfigDict(extra="forbid")

    slot: str
    kind: UnitKind
    unit_id: str  # run id, group id or reservation id
    holder: str  # the slot's holder: unit_id, or the group's id for a parallel group's job
    lease_until: float
    template: JobTemplate | None = None
    job: Job | None = None
    run: JobRun | None = None
    reservation: Reservation | None = None
    group: JobGroup | None = None

    @property
    def params(self) -> dict[str, Any]:
        if self.job is not None:
            return self.job.params
        if self.reservation is not None:
            return self.reservation.params
        return {}


@dataclass(frozen=True)
class Outcome:
    """How a unit's execution ended, as its executor saw it."""

    exit_code: int | None
    error: str | None = None
    artifacts: list[str] = field(default_factory=list)
    log_path: str | None = None
    result: dict[str, Any] | None = None
    usage: Usage | None = None  # what its worker reported its model calls used
    # Set when its outputs failed its template's checks: it exited 0, and is rejected.
    failed_checks: list[FailedCheck] | None = None

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and self.error is None

    @property
    def reason(self) -> str | None:
        """Why it failed, for a person: the executor's own error, else what the exit code
        says ("exit code 1", "killed by SIGKILL (exit code 137)"); None when it succeeded."""
        if self.error is not None:
            return self.error
        if self.exit_code == 0:
            return None
        if self.exit_code is None:
            return "ended without an exit code"
        return describe_exit(self.exit_code)

    @classmethod
    def reported(cls, unit: JobRun | Reservation) -> "Outcome | None":
        """What the unit's worker itself recorded at exit, if it did (a lost dispatcher's run
        is reconciled from it)."""
        if unit.worker_exit_code is None:
            return None
        artifacts = json.loads(unit.worker_artifacts) if unit.worker_artifacts else []
        usage = Usage.reported(unit.worker_usage)
        return cls(exit_code=unit.worker_exit_code, artifacts=list(artifacts), usage=usage)

    def rejected(self, verdict: GateVerdict) -> "Outcome":
        """This outcome, its outputs having failed `verdict`'s checks: a failure (retried as
        one), whose error says what failed first."""
        count = len(verdict.failed) + verdict.unlisted
        first = verdict.failed[0].reason if verdict.failed else ""
        plural = "" if count == 1 else "s"
        error = f"{REJECTED_PREFIX}{count} check{plural} failed" + (f": {first}" if first else "")
        return replace(self, error=error, failed_checks=list(verdict.failed))

    @classmethod
    def lost(cls) -> "Outcome":
        return cls(exit_code=None, error="lost")

    @classmethod
    def cancelled(cls) -> "Outcome":
        return cls(exit_code=None, error="cancelled")

    @classmethod
    def over_budget(cls, why: str) -> "Outcome":
        """Stopped by a budget that stops runs (on_exceed: stop): a failure, not retried (its
        job ends: a retry would only wait for the next period)."""
        return cls(exit_code=None, error=f"{OVER_BUDGET_PREFIX}{why}")

    @classmethod
    def interrupted(cls, exit_code: int | None = None) -> "Outcome":
        """Its worker was stopped because the scheduler stopped (a clean stop, not a failure
        of the unit): a job goes back to the front of its band without spending an attempt."""
        return cls(exit_code=exit_code, error=INTERRUPTED)

    @property
    def was_interrupted(self) -> bool:
        return self.error == INTERRUPTED

    @classmethod
    def unrunnable(cls, why: str) -> "Outcome":
        """The unit can never start as given (e.g. params too large for a task): no retry."""
        return cls(exit_code=None, error=f"{UNRUNNABLE}{why}")


def describe_exit(exit_code: int) -> str:
    """A shell's convention, which ECS and the local executor both follow: 128 + N is a
    process ended by signal N (137: SIGKILL, what an out-of-memory kill also looks like)."""
    number = exit_code - SIGNAL_EXIT_BASE
    try:
        name = signal.Signals(number).name if number > 0 else None
    except ValueError:
        name = None
    if name is None:
        return f"exit code {exit_code}"
    hint = " (out of memory, or stopped)" if number == signal.SIGKILL else ""
    return f"killed by {name}{hint} (exit code {exit_code})"


SIGNAL_EXIT_BASE = 128
UNRUNNABLE = "unrunnable: "
REJECTED_PREFIX = "rejected: "  # a run whose outputs failed its checks (Outcome.rejected)
OVER_BUDGET_PREFIX = "over budget: "  # stopped by a budget that stops runs (Outcome.over_budget)
INTERRUPTED = "interrupted by a stop of the scheduler; queued again without spending an attempt"
# The slot name of a unit started outside the queue (USE_SCHEDULER=false): it holds no slot.
OUTSIDE_QUEUE = "outside-queue"
