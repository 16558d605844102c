"""The port to whatever fires our schedules: one EventBridge Scheduler schedule per Schedule on
AWS, nothing at all where the local runtime's ticker reads our own table instead.

Our record is the source of truth; an implementation makes the firing side match it. Errors are
domain errors: NotFoundError for a missing schedule (update, set_state), ConflictError for one
that exists already (create), UnavailableError when the service failed or cannot be reached.
"""

from typing import Protocol

from jobsched.models import Schedule


class ScheduleSync(Protocol):
    def create(self, schedule: Schedule) -> None: ...

    def update(self, schedule: Schedule) -> None:
        """Replace the whole definition (expression, window, target input, state)."""
        ...

    def delete(self, schedule_id: str) -> None:
        """Delete it; one that is gone already is not an error."""
        ...

    def set_state(self, schedule: Schedule) -> None:
        """Enable or disable it as `schedule.enabled` says."""
        ...


class NoScheduleSync:
    """For processes with no EventBridge Scheduler: the local runtime (its ticker fires from
    our table), the CLI, tests of the core alone."""

    def create(self, schedule: Schedule) -> None:
        return None

    def update(self, schedule: Schedule) -> None:
        return None

    def delete(self, schedule_id: str) -> None:
        return None

    def set_state(self, schedule: Schedule) -> None:
        return None
