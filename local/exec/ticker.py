"""The local runtime's schedule ticker: fires due schedules with the same expression engine and
the same fire use case as EventBridge Scheduler's target on AWS.

It is also the runtime's ScheduleSync: creating, changing or deleting a schedule wakes it to plan
again. Between fires it sleeps; it reads the schedules only to plan, never to poll.

A time is fired once: the ticker plans each schedule from the later of its start and the
schedule's last fired time, and a fire is idempotent per (schedule, scheduled time) anyway. A
time missed while the runtime was down is not fired late (EventBridge Scheduler does not catch
up either); the next one is.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from jobsched.models import Schedule
from jobsched.ports import Stores
from jobsched.schedules.fire import fire
from jobsched.schedules.usecases import upcoming

logger = logging.getLogger(__name__)

ERROR_PAUSE_SECONDS = 5.0


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class LocalTicker:
    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        import time

        self.clock = clock or time.time
        self._cond = threading.Condition()
        self._changed = True
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._since = _utc(self.clock())  # nothing before the runtime started is fired late
        self.fired: list[tuple[str, datetime]] = []  # what this ticker fired, for operators

    # --- ScheduleSync: every change means "plan again" --------------------------------------

    def create(self, schedule: Schedule) -> None:
        self._wake()

    def update(self, schedule: Schedule) -> None:
        self._wake()

    def delete(self, schedule_id: str) -> None:
        self._wake()

    def set_state(self, schedule: Schedule) -> None:
        self._wake()

    def _wake(self) -> None:
        with self._cond:
            self._changed = True
            self._cond.notify_all()

    # --- the loop ----------------------------------------------------------------------------

    def start(self, stores: Stores) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(stores,), name="schedule-ticker", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self, stores: Stores) -> None:
        plan: dict[str, datetime] = {}
        while True:
            with self._cond:
                if self._stopping:
                    return
                changed, self._changed = self._changed, False
            try:
                if changed:
                    plan = self.plan(stores)
                plan = self._fire_due(stores, plan)
            except Exception:
                logger.exception("the schedule ticker failed; trying again shortly")
                self._wait(ERROR_PAUSE_SECONDS)
                self._wake()
                continue
            due = min(plan.values(), default=None)
            self._wait(None if due is None else due.timestamp() - self.clock())

    def _wait(self, seconds: float | None) -> None:
        with self._cond:
            if self._stopping or self._changed:
                return
            if seconds is None:
                self._cond.wait()
            elif seconds > 0:
                self._cond.wait(timeout=seconds)

    def plan(self, stores: Stores) -> dict[str, datetime]:
        """The next fire time of every enabled schedule."""
        plan: dict[str, datetime] = {}
        cursor: str | None = None
        while True:
            page = stores.schedules.list_page(None, 200, cursor)
            for schedule in page.items:
                following = self._next(schedule, self._after(schedule))
                if following is not None:
                    plan[schedule.schedule_id] = following
            cursor = page.next_cursor
            if cursor is None:
                return plan

    def _after(self, schedule: Schedule) -> datetime:
        last = schedule.last_run.scheduled_time if schedule.last_run else None
        return max(self._since, last) if last else self._since

    @staticmethod
    def _next(schedule: Schedule, after: datetime) -> datetime | None:
        """The same next time GET /schedules/{id} shows (a rate counts from its creation)."""
        times = upcoming(schedule, 1, after)
        return times[0].at if times else None

    def _fire_due(self, stores: Stores, plan: dict[str, datetime]) -> dict[str, datetime]:
        now = _utc(self.clock())
        for schedule_id, due in sorted(plan.items(), key=lambda item: item[1]):
            if due > now:
                continue
            fired = fire(stores, schedule_id, due)
            self.fired.append((schedule_id, due))
            logger.info("schedule %s at %s: %s", schedule_id, due.isoformat(), fired.result.value)
            schedule = stores.schedules.find(schedule_id)
            # From now on, not from `due`: times passed while this fire was late are not fired.
            following = self._next(schedule, max(due, now)) if schedule else None
            if following is None:
                del plan[schedule_id]
            else:
                plan[schedule_id] = following
        return plan
