"""/runs: the execution history."""

from datetime import datetime

from fastapi import APIRouter

from api.deps import DEFAULT_LIMIT, CanRead, Cursor, IdFilter, Limit, PathId, StoresDep
from api.schemas import PageOut, RunOut
from jobsched.errors import ValidationFailedError
from jobsched.models import RunStatus
from jobsched.ports import RunFilter
from jobsched.usecases.runs import list_runs

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("", dependencies=[CanRead])
def list_all_runs(
    stores: StoresDep,
    status: RunStatus | None = None,
    job_id: IdFilter = None,
    template_id: IdFilter = None,
    schedule_id: IdFilter = None,
    since: datetime | None = None,
    until: datetime | None = None,
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
