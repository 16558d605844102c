"""Schedule lint as a use case: a proposed schedule checked as a create would check it (422
naming the field, 404 for an unknown template), then linted (jobsched/schedules/lint.py)
against the template's run history and the deployment's other schedules. Writes nothing.

`lint_planned` lints what a dry run would create or update (checked already by its plan).
Reads are bounded: the template's durations the ETA keeps (jobsched/foresight/durations.py:
one page of its newest completed runs, read once a minute per process at most) and one page
of schedules.
"""

import statistics
from datetime import datetime

from jobsched.constants import DEFAULT_CATCH_UP_MAX_FIRES
from jobsched.foresight.durations import duration_stats
from jobsched.models import Schedule, utcnow
from jobsched.ports import Stores
from jobsched.schedules.expressions import check_timezone, check_window, parse_expression
from jobsched.schedules.lint import COLLISION_FIRES, LintReport, OtherFires, ScheduleDraft, lint
from jobsched.schedules.usecases import ScheduleCreate, upcoming

OTHER_SCHEDULES = 200  # schedules compared for same-minute fires (one page)


def lint_schedule(
    stores: Stores,
    request: ScheduleCreate,
    catch_up_max_fires: int = DEFAULT_CATCH_UP_MAX_FIRES,
    now: datetime | None = None,
) -> LintReport:
    now = now or utcnow()
    expression = parse_expression(request.expression)
    check_timezone(request.timezone)
    check_window(request.start_at, request.end_at)
    stores.templates.get(request.template_id)  # NotFoundError: a 404, as a create answers
    draft = ScheduleDraft(
        expression,
        request.timezone,
        request.start_at,
        request.end_at,
        request.overlap_policy,
        request.catch_up,
        request.catch_up_window_minutes,
    )
    return _lint(stores, draft, request.template_id, None, catch_up_max_fires, now)


def lint_planned(
    stores: Stores,
    schedule: Schedule,
    catch_up_max_fires: int = DEFAULT_CATCH_UP_MAX_FIRES,
    now: datetime | None = None,
) -> LintReport:
    """The warnings of a schedule a dry run planned (its checks passed): compared with every
    other schedule, never with its own stored version."""
    draft = ScheduleDraft(
        parse_expression(schedule.expression),
        schedule.timezone,
        schedule.start_at,
        schedule.end_at,
        schedule.overlap_policy,
        schedule.catch_up,
        schedule.catch_up_window_minutes,
    )
    now = now or utcnow()
    return _lint(stores, draft, schedule.template_id, schedule.schedule_id, catch_up_max_fires, now)


def _lint(
    stores: Stores,
    draft: ScheduleDraft,
    template_id: str,
    itself: str | None,
    catch_up_max_fires: int,
    now: datetime,
) -> LintReport:
    others = [other for other in _others(stores, now) if other.schedule_id != itself]
    return lint(draft, now, p90_run_seconds(stores, template_id), others, catch_up_max_fires)


def p90_run_seconds(stores: Stores, template_id: str) -> float | None:
    """The 90th percentile of the template's recent completed runs' durations, as the ETA
    keeps them; None without the template's own history (the ETA's pooled or default guess is
    no evidence of overlap: then no warning)."""
    durations = duration_stats(stores).of(template_id)
    if durations.basis != "history":
        return None
    if len(durations.samples) < 2:
        return durations.samples[0]
    return statistics.quantiles(durations.samples, n=10, method="inclusive")[-1]


def _others(stores: Stores, now: datetime) -> list[OtherFires]:
    page = stores.schedules.list_page(None, OTHER_SCHEDULES, None)
    return [
        OtherFires(s.schedule_id, s.name, [f.at for f in upcoming(s, COLLISION_FIRES, now)])
        for s in page.items
        if s.enabled
    ]
