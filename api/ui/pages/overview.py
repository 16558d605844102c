"""/ui/: the overview: counts by state, runs over the last day, waits and durations, what runs
now (with a stop button), the next day's schedule fires, and what needs attention.

Every panel reads the API a bounded number of times (docs/decisions.md, "Overview and keys
pages"): counts 1, activity at most RUN_PAGES + 1, running 1, fires 1, attention 4.
"""

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.ui.live import panel
from api.ui.render import fragment, page, render
from api.ui.web import SessionDep, session_of
from jobsched_client.summary import (
    ATTENTION_SHOWN,
    FIRES_PER_SCHEDULE,
    PAGE,
    RUN_PAGES,
    WINDOW,
    hourly_series,
    iso,
    parse_time,
    spreads,
    upcoming_fires,
)
from jobsched_client.summary import (
    attention as attention_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)

FIRES_SHOWN = 40


def _utcnow() -> datetime:
    return datetime.now(UTC)


def chart_json(series: dict[str, list[int]]) -> str:
    """For a <script type="application/json">: no "<" may close the element early."""
    return json.dumps(series, separators=(",", ":")).replace("<", "\\u003c")


async def _recent_runs(request: Request, since: datetime) -> tuple[list[dict[str, Any]], bool]:
    """The runs started since `since`, newest first, at most RUN_PAGES pages; and whether
    more were left unread."""
    api = session_of(request).api
    runs: list[dict[str, Any]] = []
    cursor = None
    for _ in range(RUN_PAGES):
        got = await api.get("/runs", since=iso(since), limit=PAGE, cursor=cursor)
        runs.extend(got["items"])
        cursor = got["next_cursor"]
        if cursor is None:
            return runs, False
    return runs, True


@panel("overview_counts")
async def counts(request: Request) -> str:
    stats = await session_of(request).api.get("/queue/stats")
    return render("partials/overview_counts.html", stats=stats)


@panel("overview_activity")
async def activity(request: Request) -> str:
    now = _utcnow()
    runs, truncated = await _recent_runs(request, now - WINDOW)
    # The newest jobs give the created_at a first attempt waited from (newest first, as runs).
    jobs = (await session_of(request).api.get("/jobs", limit=PAGE))["items"]
    series = hourly_series(runs, now)
    return render(
        "partials/overview_activity.html",
        series=series,
        series_json=chart_json(series),
        completed=sum(series["completed"]),
        failed=sum(series["failed"]),
        spreads=list(spreads(runs, jobs)),
        runs=len(runs),
        truncated=truncated,
    )


@panel("overview_running")
async def running(request: Request) -> str:
    session = session_of(request)
    jobs = await session.api.get("/jobs", status="running", limit=PAGE)
    now = _utcnow()
    rows = []
    for job in jobs["items"]:
        started = parse_time((job.get("run") or {}).get("started_at"))
        elapsed = (now - started).total_seconds() if started else None
        rows.append({"job": job, "elapsed": elapsed})
    return render(
        "partials/overview_running.html",
        rows=rows,
        more=jobs["next_cursor"] is not None,
        can_write=session.can("write"),
    )


@panel("overview_fires")
async def fires(request: Request) -> str:
    now = _utcnow()
    schedules = await session_of(request).api.get(
        "/schedules", next_runs=FIRES_PER_SCHEDULE, limit=PAGE
    )
    found = upcoming_fires(schedules["items"], now)
    return render(
        "partials/overview_fires.html",
        fires=found.upcoming[:FIRES_SHOWN],
        hidden=max(0, len(found.upcoming) - FIRES_SHOWN),
        cut=found.cut,
        horizon=found.horizon,
        more_schedules=schedules["next_cursor"] is not None,
        per_schedule=FIRES_PER_SCHEDULE,
        now=now,
    )


@panel("overview_attention")
async def attention(request: Request) -> str:
    api = session_of(request).api
    now = _utcnow()
    since = iso(now - WINDOW)
    failed = (await api.get("/runs", status="failed", since=since, limit=ATTENTION_SHOWN))["items"]
    rejected = await api.get("/runs", status="rejected", since=since, limit=ATTENTION_SHOWN)
    held = (await api.get("/jobs", status="held", limit=ATTENTION_SHOWN))["items"]
    queued = (await api.get("/jobs", status="queued", limit=PAGE))["items"]
    groups = (await api.get("/groups", limit=PAGE))["items"]
    found = attention_of(failed, held, queued, groups, rejected["items"])
    return render(
        "partials/overview_attention.html",
        failed=found.failed,
        lost=found.lost,
        held=found.held,
        retrying=found.retrying,
        webhooks=found.webhooks,
        shown=ATTENTION_SHOWN,
        now=now,
    )


PANEL_NAMES = [
    "overview_counts",
    "overview_activity",
    "overview_running",
    "overview_fires",
    "overview_attention",
]


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep) -> HTMLResponse:
    return page(
        request,
        "overview.html",
        section="overview",
        panels=PANEL_NAMES,
        counts_html=await counts(request),
        activity_html=await activity(request),
        running_html=await running(request),
        fires_html=await fires(request),
        attention_html=await attention(request),
    )


@router.post("/overview/jobs/{job_id}/stop", response_class=HTMLResponse)
async def stop_job(job_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Cancel a running job (the API stops its task) and answer the running units again."""
    job = await session.api.post(f"/jobs/{quote(job_id, safe='')}/cancel")
    return fragment(
        request, "partials/overview_stopped.html", job=job, running_html=await running(request)
    )
