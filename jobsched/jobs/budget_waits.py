"""Why a queued job waits for a spent budget, for its read and its ETA (issue 17, point 2).

The claim decides by itself (dispatch/budgets.py); this is what a reader is told: the budgets
of the job's current template and of its schedule that are spent now, read in one go. A job
none of whose budgets are declared costs no read beyond the cached template (and its
schedule, when it has one).
"""

from dataclasses import dataclass
from datetime import datetime

from jobsched.dispatch.budgets import spent_holds, spent_reason, unit_holds
from jobsched.errors import NotFoundError
from jobsched.models import GroupMode, Job, JobStatus, utcnow
from jobsched.models.budgets import BudgetHold, BudgetScope, BudgetSpend
from jobsched.ports import Stores


@dataclass(frozen=True)
class BudgetWait:
    """The spent budgets a queued job is held to, each with what its counter holds."""

    spent: tuple[tuple[BudgetHold, BudgetSpend], ...]

    @property
    def reason(self) -> str:
        return spent_reason(list(self.spent)) or ""

    @property
    def resumes_at(self) -> datetime:
        """When the last of them turns: the earliest it can start, unless one is raised."""
        return max(hold.resets_at for hold, _ in self.spent)

    def of(self, template_id: str, schedule_id: str | None) -> "BudgetWait | None":
        """Those of them that hold another queued job of this template or schedule (for the
        ETAs of the jobs ahead), or None when none does."""
        spent = tuple(
            (hold, spend)
            for hold, spend in self.spent
            if (hold.scope == BudgetScope.TEMPLATE and hold.scope_id == template_id)
            or (hold.scope == BudgetScope.SCHEDULE and hold.scope_id == schedule_id)
        )
        return BudgetWait(spent) if spent else None


def budget_wait(stores: Stores, job: Job, now: datetime | None = None) -> BudgetWait | None:
    """The spent budgets holding this queued job back, or None. A held job waits for its
    release first, and a parallel group's jobs are not held to budgets by the claim."""
    if job.status != JobStatus.QUEUED or job.group_mode == GroupMode.PARALLEL:
        return None
    now = now or utcnow()
    try:
        template = stores.templates.get_cached(job.template_id)
    except NotFoundError:
        return None
    schedule = stores.schedules.find(job.schedule_id) if job.schedule_id else None
    spent = spent_holds(stores, unit_holds(template, schedule, now))
    return BudgetWait(tuple(spent)) if spent else None
