"""/runs: the execution history."""

from fastapi import APIRouter

from api.content_schemas import DedupCheckBody, DuplicateItemOut, RunDedupOut
from api.deps import DEFAULT_LIMIT, CanRead, Cursor, IdFilter, Limit, LogLimit, PathId, StoresDep
from api.schemas import PageOut, RunLogsOut, RunOut
from jobsched.constants import DEFAULT_LOG_LINES
from jobsched.content.usecases import dedup_check
from jobsched.errors import ValidationFailedError
from jobsched.jobs.runs import list_runs, run_logs
from jobsched.models import RunStatus
from jobsched.models.instants import TimeFromJson
from jobsched.ports import RunFilter

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("", dependencies=[CanRead])
def list_all_runs(
    stores: StoresDep,
    status: RunStatus | None = None,
    job_id: IdFilter = None,
    template_id: IdFilter = None,
    schedule_id: IdFilter = None,
    since: TimeFromJson | None = None,
    until: TimeFromJson | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[RunOut]:
    """Newest first; since/until bound the start time (ISO 8601, with a zone)."""
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise ValidationFailedError.on(name, "needs a time zone, e.g. 2026-01-18T10:00:00Z")
    if since and until and since > until:
        raise ValidationFailedError.on("until", "is before since")
    filters = RunFilter(status, job_id, template_id, schedule_id, since, until)
    page = list_runs(stores, filters, limit, cursor)
    return PageOut(items=[RunOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{run_id}", dependencies=[CanRead])
def get_run(stores: StoresDep, run_id: PathId) -> RunOut:
    return RunOut.of(stores.runs.get(run_id))


@router.post("/{run_id}/dedup-check", dependencies=[CanRead])
def check_run_duplicates(
    stores: StoresDep, run_id: PathId, body: DedupCheckBody | None = None
) -> RunDedupOut:
    """Compare the stories and cards this run (or reservation) made with every other stored
    one; each at or over the threshold is listed with the item it nearly repeats. Writes
    nothing. The v2 successor of the legacy `POST /jobs/{job_id}/dedup_check`."""
    from jobsched.settings import get_settings  # lazy: pydantic-settings stays off cold start

    run = stores.runs.get(run_id)  # 404 for an unknown run
    threshold = body.threshold if body and body.threshold else get_settings().dedup_threshold
    check = dedup_check(stores.content, run.run_id, threshold)
    return RunDedupOut(
        run_id=run.run_id,
        job_id=run.job_id,
        checked=check["checked"],
        duplicates=[DuplicateItemOut(**dict(d)) for d in check["duplicates"]],
        threshold=check["threshold"],
    )


@router.get("/{run_id}/logs", dependencies=[CanRead])
def get_run_logs(
    stores: StoresDep, run_id: PathId, limit: LogLimit = DEFAULT_LOG_LINES, cursor: Cursor = None
) -> RunLogsOut:
    """The run's log lines from `cursor` on, also while it runs: read again with `next_cursor`
    to follow it (CloudWatch Logs on AWS, the run's log file locally)."""
    lines, next_cursor = run_logs(stores, run_id, cursor, limit)
    return RunLogsOut(lines=lines, next_cursor=next_cursor)
