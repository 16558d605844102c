"""The local runtime's schedule ticker: fires due schedules with the same expression engine and
the same fire use case as EventBridge Scheduler's target on AWS.

It is also the runtime's ScheduleSync: creating, changing or deleting a schedule wakes it to plan
again. Between fires it sleeps; it reads the schedules only to plan, never to poll.

A time is fired once: a fire is idempotent per (schedule, scheduled time), and the ticker plans
each schedule from the latest time handled (`fired_through`). Times missed while the runtime was
down or the schedule disabled, or passed while a fire was late, are caught up under the
schedule's catch-up policy (jobsched.schedules.catch_up) when the ticker plans (at its start and
after every change) and after each fire; a time due in the last few seconds is fired as on time.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from jobsched.constants import DEFAULT_CATCH_UP_MAX_FIRES, LOCAL_CATCH_UP_GRACE_SECONDS
from jobsched.models import Schedule
from jobsched.ports import Stores
from jobsched.schedules.catch_up import catch_up
from jobsched.schedules.fire import fire
from jobsched.schedules.usecases import upcoming

logger = logging.getLogger(__name__)

ERROR_PAUSE_SECONDS = 5.0
GRACE = timedelta(seconds=LOCAL_CATCH_UP_GRACE_SECONDS)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class LocalTicker:
    def __init__(
        self,
        clock: Callable[[], float] | None = None,
        max_fires: int = DEFAULT_CATCH_UP_MAX_FIRES,
    ) -> None:
        import time

        self.clock = clock or time.time
        self.max_fires = max_fires  # the catch-up bound of `all`
        self._cond = threading.Condition()
        self._changed = True
        self._stopping = False
        self._thread: threading.Thread | None = None
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
        """Catch up every enabled schedule, then the next fire time of each."""
        plan: dict[str, datetime] = {}
        cursor: str | None = None
        while True:
            page = stores.schedules.list_page(None, 200, cursor)
            for schedule in page.items:
                following = self._next(self._caught_up(stores, schedule))
                if following is not None:
                    plan[schedule.schedule_id] = following
            cursor = page.next_cursor
            if cursor is None:
                return plan

    def _caught_up(self, stores: Stores, schedule: Schedule) -> Schedule:
        """The schedule once its times missed up to a few seconds ago are handled."""
        now = _utc(self.clock())
        done = catch_up(stores, schedule, now, now - GRACE, self.max_fires)
        for due, fired in done.fired:
            self.fired.append((schedule.schedule_id, due))
            logger.info(
                "schedule %s caught up %s: %s", schedule.schedule_id, due, fired.result.value
            )
        if not (done.fired or done.skipped):
            return schedule
        return stores.schedules.find(schedule.schedule_id) or schedule

    def _next(self, schedule: Schedule) -> datetime | None:
        """The same next time GET /schedules/{id} shows (a rate counts from its creation),
        after what catch-up handled: nothing older than the grace is fired here."""
        after = _utc(self.clock()) - GRACE
        through = schedule.fired_through
        if through is None and schedule.last_run is not None:
            through = schedule.last_run.scheduled_time
        if through is not None and through > after:
            after = through
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
            # Times passed while this fire was late are caught up under the policy.
            following = self._next(self._caught_up(stores, schedule)) if schedule else None
            if following is None:
                del plan[schedule_id]
            else:
                plan[schedule_id] = following
        return plan
