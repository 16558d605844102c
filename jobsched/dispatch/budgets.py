"""Budgets in dispatch: which budgets a unit is held to now, and what a template or schedule may
declare (models/budgets.py holds the counting).

A job is held to its template's current budgets and its schedule's (not those of the version
it was queued with: a budget is about spend, and raising one lets waiting jobs start). The claim
charges each with a ChargeBudget step; a spent one fails that step, and the job keeps its place
until the period turns (the dispatcher wakes then) or the budget is raised.
"""

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobsched.errors import FieldProblem, NotFoundError, ValidationFailedError
from jobsched.models import JobTemplate, Schedule
from jobsched.models.budgets import (
    MAX_BUDGETS,
    Budget,
    BudgetHold,
    BudgetScope,
    BudgetSpend,
    describe,
    hold_of,
)
from jobsched.ports import Stores

SCHEDULE_CACHE_SECONDS = 60.0  # as templates' (adapters/template_cache.py)
TEMPLATE_ZONE = "UTC"  # a template has no time zone of its own


def template_holds(template: JobTemplate, now: datetime) -> list[BudgetHold]:
    return [
        hold_of(budget, BudgetScope.TEMPLATE, template.template_id, TEMPLATE_ZONE, now)
        for budget in template.budgets
    ]


def schedule_holds(schedule: Schedule, now: datetime) -> list[BudgetHold]:
    return [
        hold_of(budget, BudgetScope.SCHEDULE, schedule.schedule_id, schedule.timezone, now)
        for budget in schedule.budgets
    ]


def unit_holds(template: JobTemplate, schedule: Schedule | None, now: datetime) -> list[BudgetHold]:
    """Every budget a job of `template` (fired by `schedule`, if any) is held to now."""
    holds = template_holds(template, now)
    return holds + schedule_holds(schedule, now) if schedule is not None else holds


class BudgetBook:
    """The budgets units are held to, from the current template (the store's short cache) and
    schedule (a cache of its own, as short), so a claim pass costs no extra read per job."""

    def __init__(self, stores: Stores, clock: Callable[[], float] = time.monotonic) -> None:
        self.stores = stores
        self.clock = clock
        self._schedules: dict[str, tuple[float, Schedule | None]] = {}

    def holds(self, template_id: str, schedule_id: str | None, now: datetime) -> list[BudgetHold]:
        try:
            template = self.stores.templates.get_cached(template_id)
        except NotFoundError:
            return []  # the claim's own steps find what is wrong with the job
        schedule = self._schedule(schedule_id) if schedule_id else None
        return unit_holds(template, schedule, now)

    def _schedule(self, schedule_id: str) -> Schedule | None:
        hit = self._schedules.get(schedule_id)
        if hit is not None and self.clock() - hit[0] < SCHEDULE_CACHE_SECONDS:
            return hit[1]
        schedule = self.stores.schedules.find(schedule_id)
        self._schedules[schedule_id] = (self.clock(), schedule)
        return schedule


Spent = list[tuple[BudgetHold, BudgetSpend]]


def hold_spends(stores: Stores, holds: Sequence[BudgetHold]) -> Spent:
    """Each hold with what its counter holds committed (one strongly consistent read; none
    without holds). A budget's state as GET /templates/{id} and /schedules/{id} show it."""
    if not holds:
        return []
    spends = stores.dispatch.budget_spend([hold.counter for hold in holds])
    return [(hold, spends.get(hold.counter, BudgetSpend())) for hold in holds]


def spent_holds(stores: Stores, holds: Sequence[BudgetHold]) -> Spent:
    """The holds whose budget is spent now, with what their counter holds (one read). For
    showing why a job waits and for skipping a schedule's fire: the claim decides by itself."""
    return [(hold, spend) for hold, spend in hold_spends(stores, holds) if spend.spent(hold)]


def spent_reason(spent: Spent) -> str | None:
    """Why a unit held to these spent budgets waits, or None when none is spent."""
    return "; ".join(describe(hold, spend) for hold, spend in spent) or None


def check_budgets(budgets: Sequence[Budget], field: str = "budgets") -> None:
    """At most MAX_BUDGETS, a period at most once per time zone, each zone a known one."""
    if len(budgets) > MAX_BUDGETS:
        raise ValidationFailedError.on(
            field, f"declares {len(budgets)} budgets; at most {MAX_BUDGETS}"
        )
    problems = []
    seen: set[tuple[str, str | None]] = set()
    for index, budget in enumerate(budgets):
        where = f"{field}.{index}"
        if budget.timezone is not None and not _known_zone(budget.timezone):
            problems.append(
                FieldProblem(
                    f"{where}.timezone",
                    f"{budget.timezone!r} is not a known IANA time zone, e.g. Europe/Paris or UTC",
                )
            )
        if (budget.period, budget.timezone) in seen:
            problems.append(
                FieldProblem(f"{where}.period", f"a {budget.period} budget is declared twice")
            )
        seen.add((budget.period, budget.timezone))
    if problems:
        first = problems[0]
        raise ValidationFailedError(f"{first.field}: {first.message}", problems)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, e.g. "America"
        return False
    return True
