"""/runs: the execution history."""

import mimetypes
import re
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import problems
from api.content_schemas import DedupCheckBody, DuplicateItemOut, RunDedupOut
from api.deps import DEFAULT_LIMIT, CanRead, Cursor, IdFilter, Limit, LogLimit, PathId, StoresDep
from api.schemas import PageOut, RunLogsOut, RunOut, RunsDiffOut
from jobsched.constants import DEFAULT_LOG_LINES, MAX_DIFF_LINES, MAX_DIFF_TEXT_BYTES, MAX_ID_LENGTH
from jobsched.content.usecases import dedup_check
from jobsched.errors import ValidationFailedError
from jobsched.jobs.artifact_diff import diff_runs
from jobsched.jobs.runs import list_runs, run_artifact, run_logs
from jobsched.models import RunStatus
from jobsched.models.instants import TimeFromJson
from jobsched.ports import RunFilter

router = APIRouter(prefix="/runs", tags=["runs"])

UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


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


DIFF_DESCRIPTION = f"""What changed from run `against` to this one. With `name`: that
artifact's unified diff (3 lines of context), its text read up to {MAX_DIFF_TEXT_BYTES} bytes a
side (413 past it), at most {MAX_DIFF_LINES} lines of it answered (`diff_truncated`); an
artifact in one run only is diffed against nothing (/dev/null), one in neither is a 404, one
that is not UTF-8 text a 422 titled "Artifact is not text". Without `name`: every artifact of
either run, and whether it is identical, changed, added or removed (compared byte for byte).
Both runs must exist (404)."""


# Before /artifacts/{index}: that route would take "diff" for an index.
@router.get(
    "/{run_id}/artifacts/diff",
    dependencies=[CanRead],
    description=DIFF_DESCRIPTION,
)
def diff_run_artifacts(
    stores: StoresDep,
    run_id: PathId,
    against: Annotated[
        str,
        Query(min_length=1, max_length=MAX_ID_LENGTH, description="the run to compare with"),
    ],
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=1024,
            description="an artifact's path under the run's outputs, or its file name",
        ),
    ] = None,
) -> RunsDiffOut:
    return RunsDiffOut.of(diff_runs(stores, run_id, against, name))


@router.get(
    "/{run_id}/artifacts/{index}",
    dependencies=[CanRead],
    response_class=Response,
    responses={
        200: {
            "content": {"application/octet-stream": {}},
            "description": "the artifact's bytes, always as an attachment",
        },
        **problems.responses(401, 403, 404, 413, 422, 503),
    },
)
def get_run_artifact(stores: StoresDep, run_id: PathId, index: int) -> Response:
    """The run's artifact at `index` (its 0-based place in the run's `artifacts`), read from
    where the worker wrote it (S3 on AWS, the runtime's runs folder locally), up to 4 MiB.
    Always an attachment, never shown inline: a job's HTML output must not run as our page."""
    name, data = run_artifact(stores, run_id, index)
    return Response(content=data, media_type=_guessed_type(name), headers=attachment(name))


def _guessed_type(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def attachment(name: str) -> dict[str, str]:
    """The headers that make a browser save a download (also the dashboard's, which relays it)."""
    safe = UNSAFE_IN_FILENAME.sub("_", name).lstrip(".") or "artifact"
    return {
        "Content-Disposition": f'attachment; filename="{safe}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
