"""/ui/runs: the execution history, filtered and paged by the API's cursor; /ui/runs/{id}: one
run with its job's params, its attempts, its states in time, its artifacts and its log, which
follows the run live (server-sent events locally, a poller on Lambda: `live_mode` decides), and
its job's lineage of reruns (pages/lineage.py)."""

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.ui.client import Api, ApiProblemError
from api.ui.formats import parse_time
from api.ui.live import live_mode, panel, sse_event
from api.ui.pages.lineage import lineage_context
from api.ui.render import NO_STORE, page, render
from api.ui.web import Session, SessionDep, session_of, streamed
from jobsched.constants import MAX_LOG_LINES

router = APIRouter(prefix="/ui", include_in_schema=False)

RUN_STATUSES = ("started", "completed", "failed", "rejected", "skipped")
FILTERS = ("status", "template_id", "schedule_id", "job_id", "group_id", "since", "until")
PAGE_SIZE = 25
TAIL_LINES = 500  # the log lines a run page opens with (its end); the download has them all
TAIL_PAGES = 20  # pages read to reach the end at first paint; the follow reads on from there
FOLLOW_SECONDS = 0.5  # how often a log stream asks the API for new lines
FOLLOW_BOUND_SECONDS = 300.0  # a log stream ends after this; the browser resumes at its cursor
LOG_POLL = "1s"  # how often a polling page asks for new lines


def _zoned(value: str) -> str:
    """A time from the form's datetime-local box (no zone) is taken as UTC, as the pages show
    times; anything else goes to the API as typed, whose 422 says what is wrong with it."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _filters(request: Request) -> dict[str, str]:
    query = request.query_params
    return {name: query[name].strip() for name in FILTERS if query.get(name, "").strip()}


def _row_of_job(job: dict[str, Any]) -> dict[str, Any] | None:
    """A group's job as a row of the list: its latest run (the API lists no runs by group)."""
    run = job.get("run")
    if run is None:
        return None
    return {
        **run,
        "job_id": job["job_id"],
        "template_id": job["template_id"],
        "schedule_id": job["schedule_id"],
        "group_id": job["group_id"],
        "error": None,
    }


def _took(run: dict[str, Any]) -> float | None:
    start, end = parse_time(run["started_at"]), parse_time(run["finished_at"])
    return None if start is None or end is None else (end - start).total_seconds()


@panel("runs_list")
async def runs_list(request: Request) -> str:
    api = session_of(request).api
    filters = _filters(request)
    cursor = request.query_params.get("cursor") or None
    if "group_id" in filters:
        # The runs API filters by job, template, schedule, status and time but not by group;
        # the jobs API does, and each of its jobs carries its latest run.
        found = await api.get(
            "/jobs",
            group_id=filters["group_id"],
            template_id=filters.get("template_id"),
            schedule_id=filters.get("schedule_id"),
            limit=PAGE_SIZE,
            cursor=cursor,
        )
        rows = [row for job in found["items"] if (row := _row_of_job(job)) is not None]
        if "status" in filters:
            rows = [row for row in rows if row["status"] == filters["status"]]
    else:
        query = {k: v for k, v in filters.items() if k != "group_id"}
        for name in ("since", "until"):
            if name in query:
                query[name] = _zoned(query[name])
        found = await api.get("/runs", limit=PAGE_SIZE, cursor=cursor, **query)
        rows = found["items"]
    rows = [{**row, "took": _took(row)} for row in rows]
    next_cursor = found.get("next_cursor")
    next_url = f"/ui/runs?{urlencode({**filters, 'cursor': next_cursor})}" if next_cursor else None
    first_url = f"/ui/runs?{urlencode(filters)}" if cursor else None
    return render(
        "partials/runs_list.html",
        runs=rows,
        next_url=next_url,
        first_url=first_url,
        by_group="group_id" in filters,
        now=datetime.now(UTC),
    )


@router.get("/runs", response_class=HTMLResponse)
async def runs_page(request: Request, session: SessionDep) -> HTMLResponse:
    templates = await session.api.get("/templates", limit=200)
    return page(
        request,
        "runs.html",
        section="runs",
        panels=["runs_list"],
        filters=dict.fromkeys(FILTERS, "") | _filters(request),
        statuses=RUN_STATUSES,
        templates=templates["items"],
        runs_html=await runs_list(request),
    )


# --- one run --------------------------------------------------------------------------------


async def _job_of(api: Api, job_id: str) -> dict[str, Any] | None:
    """The run's job, or None for a run recorded without one (a reservation's, an import)."""
    try:
        job: dict[str, Any] = await api.get(f"/jobs/{job_id}")
    except ApiProblemError as exc:
        if exc.status == 404:
            return None
        raise
    return job


async def _status_context(api: Api, run_id: str) -> dict[str, Any]:
    run = await api.get(f"/runs/{run_id}")
    job = await _job_of(api, run["job_id"])
    attempts: list[dict[str, Any]] = []
    if job is not None:
        found = await api.get(f"/jobs/{run['job_id']}/runs", limit=50)
        attempts = sorted(found["items"], key=lambda r: (r["attempt"], r["started_at"]))
    return {
        "run": run,
        "job": job,
        "attempts": attempts,
        "timeline": _timeline(run, job),
        "artifacts": [_artifact(run["run_id"], n, a) for n, a in enumerate(run["artifacts"])],
        "finished": run["finished_at"] is not None,
    }


def _timeline(run: dict[str, Any], job: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The run's states in time, each with how long it lasted until the next (or until now)."""
    steps: list[tuple[str, str | None]] = []
    if job is not None:
        steps.append(("queued", job["created_at"]))
    steps.append(("started", run["started_at"]))
    if run["finished_at"] is not None:
        steps.append((run["status"], run["finished_at"]))
    now = datetime.now(UTC)
    timeline = []
    for n, (state, at) in enumerate(steps):
        moment = parse_time(at)
        later = parse_time(steps[n + 1][1]) if n + 1 < len(steps) else None
        lasted = None
        if moment is not None and (later is not None or run["finished_at"] is None):
            lasted = max(0.0, ((later or now) - moment).total_seconds())
        is_end = n == len(steps) - 1 and run["finished_at"] is not None
        timeline.append({"state": state, "at": at, "lasted": None if is_end else lasted})
    return timeline


def _artifact(run_id: str, index: int, value: str) -> dict[str, Any]:
    """An http(s) artifact links to where it is; any other (a file:// path, an s3:// URI) links
    to its download through the API, with the URI shown beside it."""
    if value.startswith(("http://", "https://")):
        return {"value": value, "href": value, "download": None}
    return {"value": value, "href": None, "download": f"/ui/runs/{run_id}/artifacts/{index}"}


async def _tail(api: Api, run_id: str) -> tuple[list[str], str | None, bool]:
    """The log's last lines and the cursor at its end (True when earlier lines were left out,
    or when the end was not reached in the pages read: the follow reads on from the cursor)."""
    kept: deque[str] = deque(maxlen=TAIL_LINES)
    cursor: str | None = None
    read = 0
    for _ in range(TAIL_PAGES):
        found = await api.get(f"/runs/{run_id}/logs", limit=MAX_LOG_LINES, cursor=cursor)
        kept.extend(found["lines"])
        read += len(found["lines"])
        moved = found["next_cursor"] != cursor
        cursor = found["next_cursor"]
        if not found["lines"] or not moved:
            break
    return list(kept), cursor, read > len(kept)


async def _status_html(api: Api, session: Session, run_id: str) -> tuple[str, bool]:
    context = await _status_context(api, run_id)
    html = render("partials/runs_status.html", session=session, now=datetime.now(UTC), **context)
    return html, context["finished"]


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(run_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    context = await _status_context(session.api, run_id)
    reruns = await lineage_context(session.api, context["run"], context["job"])
    lines, cursor, cut = await _tail(session.api, run_id)
    status_html = render(
        "partials/runs_status.html", session=session, now=datetime.now(UTC), **context
    )
    return page(
        request,
        "run.html",
        section="runs",
        status_html=status_html,
        lines=lines,
        cursor=cursor or "",
        cut=cut,
        **context,
        **reruns,
    )


@router.post("/runs/{run_id}/stop", response_class=HTMLResponse)
async def stop_run(run_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Cancels the run's job (the API stops its task); answers the run's status as it is now."""
    run = await session.api.get(f"/runs/{run_id}")
    await session.api.post(f"/jobs/{run['job_id']}/cancel")
    html, _ = await _status_html(session.api, session, run_id)
    return HTMLResponse(html, headers=NO_STORE)


@router.get("/runs/{run_id}/artifacts/{index}")
async def artifact_download(run_id: str, index: str, session: SessionDep) -> Response:
    """The artifact as the API serves it, relayed with its attachment headers (never inline)."""
    data, headers = await session.api.get_bytes(f"/runs/{run_id}/artifacts/{index}")
    relayed = ("Content-Disposition", "X-Content-Type-Options", "Cache-Control")
    return Response(
        content=data,
        media_type=headers.get("content-type", "application/octet-stream"),
        headers={name: headers[name] for name in relayed if name in headers},
    )


# --- the log: following, and the whole of it ------------------------------------------------


def _lines_html(lines: list[str]) -> str:
    return render("partials/runs_log_lines.html", lines=lines)


@router.get("/runs/{run_id}/log/lines", response_class=HTMLResponse)
async def log_lines(
    run_id: str, request: Request, session: SessionDep, cursor: str = ""
) -> HTMLResponse:
    """Poll mode: the lines after `cursor` (appended by the page), with the poller replaced
    out of band to carry the new cursor, and the run's status; the poller stops once the run
    has finished and its log is read to the end."""
    found = await session.api.get(f"/runs/{run_id}/logs", limit=MAX_LOG_LINES, cursor=cursor)
    status_html, finished = await _status_html(session.api, session, run_id)
    next_cursor = found["next_cursor"] or cursor
    following = not (finished and not found["lines"])
    html = _lines_html(found["lines"]) + render(
        "partials/runs_log_poller.html",
        run_id=run_id,
        cursor=next_cursor,
        following=following,
        every=LOG_POLL,
        oob=True,
        status_html=status_html,
    )
    return HTMLResponse(html, headers=NO_STORE)


async def follow_log(
    api: Api,
    session: Session,
    run_id: str,
    cursor: str | None,
    every: float = FOLLOW_SECONDS,
    bound: float = FOLLOW_BOUND_SECONDS,
) -> AsyncIterator[str]:
    """SSE mode: new lines as `line` events (each with the cursor after it as its id, so a
    browser that reconnects resumes there), the run's status as `status` when it changes, and
    `end` once the run has finished and no more lines come. Ends after `bound` in any case."""
    deadline = time.monotonic() + bound
    sent_status = ""
    yield "retry: 2000\n\n"
    while time.monotonic() < deadline:
        status_html, finished = await _status_html(api, session, run_id)
        if status_html != sent_status:
            sent_status = status_html
            yield sse_event("status", status_html)
        found = await api.get(f"/runs/{run_id}/logs", limit=MAX_LOG_LINES, cursor=cursor)
        if found["lines"]:
            cursor = found["next_cursor"]
            yield f"id: {cursor}\n" + sse_event("line", _lines_html(found["lines"]))
            continue  # more may be waiting: read again at once
        if finished:
            yield sse_event("end", "")
            return
        yield ": keep-alive\n\n"
        await asyncio.sleep(every)


@router.get("/runs/{run_id}/log/events")
async def log_events(
    run_id: str, request: Request, session: SessionDep, cursor: str = ""
) -> Response:
    if live_mode(request) != "sse":
        return Response(status_code=404)
    await session.api.get(f"/runs/{run_id}")  # 404 now, not inside the stream
    # A reconnecting EventSource says where it got to; that wins over the page's first cursor.
    start = request.headers.get("last-event-id") or cursor or None

    return streamed(request, session, lambda api: follow_log(api, session, run_id, start))


@router.get("/runs/{run_id}/log.txt")
async def log_download(run_id: str, request: Request, session: SessionDep) -> Response:
    """The whole log as text, read from the API page by page as it is sent."""
    await session.api.get(f"/runs/{run_id}")  # 404 now, not inside the stream

    async def text(api: Api) -> AsyncIterator[str]:
        cursor: str | None = None
        while True:
            found = await api.get(f"/runs/{run_id}/logs", limit=MAX_LOG_LINES, cursor=cursor)
            if not found["lines"]:
                return
            yield "".join(line + "\n" for line in found["lines"])
            if found["next_cursor"] in (None, cursor):
                return
            cursor = found["next_cursor"]

    safe = "".join(c for c in run_id if c.isalnum() or c in "_-.")
    disposition = {"Content-Disposition": f'attachment; filename="{safe}.log"'}
    return streamed(request, session, text, "text/plain; charset=utf-8", disposition)
