"""Which status changes are allowed. Stores enforce them with conditional writes; this table is
the rule they implement, and what error messages and use cases consult."""

from typing import TypeVar

from jobsched.errors import ConflictError
from jobsched.models import GroupStatus, JobStatus, RunStatus, Status

JOB: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.HELD}),
    # A held job keeps its place: release puts it back as it was; it never starts while held.
    JobStatus.HELD: frozenset({JobStatus.QUEUED, JobStatus.CANCELLED}),
    # A failed attempt with retries left goes back to the queue.
    JobStatus.RUNNING: frozenset({JobStatus.FINISHED, JobStatus.CANCELLED, JobStatus.QUEUED}),
    JobStatus.FINISHED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}

RUN: dict[RunStatus, frozenset[RunStatus]] = {
    # REJECTED: it exited 0, but its outputs failed its template's checks (jobsched/gates).
    RunStatus.STARTED: frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.REJECTED}),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.REJECTED: frozenset(),
    RunStatus.SKIPPED: frozenset(),  # recorded once, for a schedule fire that did not run
}

_ENDED_GROUP: frozenset[GroupStatus] = frozenset()
GROUP: dict[GroupStatus, frozenset[GroupStatus]] = {
    GroupStatus.QUEUED: frozenset({GroupStatus.RUNNING, GroupStatus.CANCELLED}),
    GroupStatus.RUNNING: frozenset(
        {GroupStatus.COMPLETED, GroupStatus.FAILED, GroupStatus.PARTIAL, GroupStatus.CANCELLED}
    ),
    GroupStatus.COMPLETED: _ENDED_GROUP,
    GroupStatus.FAILED: _ENDED_GROUP,
    GroupStatus.PARTIAL: _ENDED_GROUP,
    GroupStatus.CANCELLED: _ENDED_GROUP,
}

S = TypeVar("S", bound=Status)


def can_move(table: dict[S, frozenset[S]], current: S, target: S) -> bool:
    return target in table[current]


def check_move(table: dict[S, frozenset[S]], what: str, current: S, target: S) -> None:
    """Raise ConflictError (409), naming the status, unless `current -> target` is allowed."""
    if not can_move(table, current, target):
        raise ConflictError(f"{what} is {current.value}; it cannot become {target.value}")


def sources(table: dict[S, frozenset[S]], target: S) -> frozenset[S]:
    """The statuses from which `target` may be reached (what a conditional write allows)."""
    return frozenset(status for status, targets in table.items() if target in targets)


def hold_conflict(job_id: str, status: str, holding: bool) -> ConflictError:
    """A hold of a job that is not queued, or a release of one that is not held (409): the
    stores say it in the same words whichever of them refused."""
    if holding:
        return ConflictError(f"job {job_id!r} is {status}; only a queued job can be held")
    return ConflictError(f"job {job_id!r} is {status}; only a held job can be released")
