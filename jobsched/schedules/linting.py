"""POST /schedules/lint: a proposed schedule checked as a create would check it (422 naming
the field, 404 for an unknown template), then linted (jobsched/schedules/lint.py) against the
template's run history and the deployment's other schedules. Writes nothing.

Reads are bounded: one page of the template's newest completed runs, one page of schedules.
"""

import statistics
from datetime import datetime

from jobsched.models import RunStatus, utcnow
from jobsched.ports import RunFilter, Stores
from jobsched.schedules.expressions import check_timezone, check_window, parse_expression
from jobsched.schedules.lint import COLLISION_FIRES, LintReport, OtherFires, ScheduleDraft, lint
from jobsched.schedules.usecases import ScheduleCreate, upcoming

HISTORY_RUNS = 50  # the template's newest completed runs its p90 is taken from
OTHER_SCHEDULES = 200  # schedules compared for same-minute fires (one page)


def lint_schedule(
    stores: Stores, request: ScheduleCreate, now: datetime | None = None
) -> LintReport:
    now = now or utcnow()
    expression = parse_expression(request.expression)
    check_timezone(request.timezone)
    check_window(request.start_at, request.end_at)
    stores.templates.get(request.template_id)  # NotFoundError: a 404, as a create answers
    draft = ScheduleDraft(
        expression, request.timezone, request.start_at, request.end_at, request.overlap_policy
    )
    return lint(draft, now, p90_run_seconds(stores, request.template_id), _others(stores, now))


def p90_run_seconds(stores: Stores, template_id: str) -> float | None:
    """The 90th percentile of the template's recent completed runs' durations; None without
    history (then no overlap warning: there is nothing to compare with)."""
    runs = stores.runs.list_page(
        RunFilter(template_id=template_id, status=RunStatus.COMPLETED), HISTORY_RUNS, None
    ).items
    durations = [
        (run.finished_at - run.started_at).total_seconds()
        for run in runs
        if run.finished_at is not None
    ]
    if len(durations) < 2:
        return durations[0] if durations else None
    return statistics.quantiles(durations, n=10, method="inclusive")[-1]


def _others(stores: Stores, now: datetime) -> list[OtherFires]:
    page = stores.schedules.list_page(None, OTHER_SCHEDULES, None)
    return [
        OtherFires(s.schedule_id, s.name, [f.at for f in upcoming(s, COLLISION_FIRES, now)])
        for s in page.items
        if s.enabled
    ]
