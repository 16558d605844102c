"""/ui/: the overview: counts by state, runs over the last day, waits and durations, what runs
now (with a stop button), the next day's schedule fires, and what needs attention.

Every panel reads the API a bounded number of times (docs/decisions.md, "Overview and keys
pages"): counts 1, activity at most RUN_PAGES + 1, running 1, fires 1, attention 4.
"""

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.ui.formats import parse_time
from api.ui.live import panel
from api.ui.render import fragment, page, render
from api.ui.web import SessionDep, session_of

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE = 200  # the API's largest page
RUN_PAGES = 3  # the activity panel reads at most this many pages of runs (600 runs)
WINDOW = timedelta(hours=24)
BUCKET = timedelta(hours=1)
FIRES_PER_SCHEDULE = 50  # the API's most next_runs per schedule
FIRES_SHOWN = 40
ATTENTION_SHOWN = 20
LOST = "lost"  # a lost unit's run fails with this error, or "lost: <why>" (jobsched.dispatch)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value at or above p% of them."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Spread:
    what: str
    p50: float | None
    p90: float | None
    n: int

    @classmethod
    def of(cls, what: str, values: list[float]) -> "Spread":
        return cls(what, percentile(values, 50), percentile(values, 90), len(values))


def hourly_series(runs: list[dict[str, Any]], now: datetime) -> dict[str, list[int]]:
    """Completed and failed runs per hour by the hour they finished, the last 24 hours."""
    end = now.replace(minute=0, second=0, microsecond=0) + BUCKET
    start = end - WINDOW
    buckets = int(WINDOW / BUCKET)
    series = {"x": [int((start + i * BUCKET).timestamp()) for i in range(buckets)]}
    counts = {"completed": [0] * buckets, "failed": [0] * buckets}
    for run in runs:
        finished = parse_time(run.get("finished_at"))
        if run["status"] not in counts or finished is None or not start <= finished < end:
            continue
        counts[run["status"]][int((finished - start) / BUCKET)] += 1
    return {**series, **counts}


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
        got = await api.get("/runs", since=_iso(since), limit=PAGE, cursor=cursor)
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
    created = {job["job_id"]: parse_time(job["created_at"]) for job in jobs}
    waits: list[float] = []
    durations: list[float] = []
    for run in runs:
        started, finished = parse_time(run["started_at"]), parse_time(run.get("finished_at"))
        if run["status"] == "skipped" or started is None:
            continue
        job_created = created.get(run["job_id"])
        if run["attempt"] == 1 and job_created is not None:
            waits.append(max(0.0, (started - job_created).total_seconds()))
        if finished is not None:
            durations.append(max(0.0, (finished - started).total_seconds()))
    series = hourly_series(runs, now)
    return render(
        "partials/overview_activity.html",
        series=series,
        series_json=chart_json(series),
        completed=sum(series["completed"]),
        failed=sum(series["failed"]),
        spreads=[Spread.of("Queue wait", waits), Spread.of("Run duration", durations)],
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
    horizon = now + WINDOW
    merged: list[dict[str, Any]] = []
    for schedule in schedules["items"]:
        times = schedule["next_runs"]
        if len(times) == FIRES_PER_SCHEDULE:
            # It fires more often than we read: past its last read fire, others' would show alone.
            horizon = min(horizon, parse_time(times[-1]["utc"]) or horizon)
        merged.extend({"schedule": schedule, "fire": fire} for fire in times)
    upcoming = sorted(
        (f for f in merged if (parse_time(f["fire"]["utc"]) or horizon) <= horizon),
        key=lambda f: (f["fire"]["utc"], f["schedule"]["name"]),
    )
    return render(
        "partials/overview_fires.html",
        fires=upcoming[:FIRES_SHOWN],
        hidden=max(0, len(upcoming) - FIRES_SHOWN),
        cut=horizon < now + WINDOW,
        horizon=horizon,
        more_schedules=schedules["next_cursor"] is not None,
        per_schedule=FIRES_PER_SCHEDULE,
        now=now,
    )


@panel("overview_attention")
async def attention(request: Request) -> str:
    api = session_of(request).api
    now = _utcnow()
    since = _iso(now - WINDOW)
    failed = (await api.get("/runs", status="failed", since=since, limit=ATTENTION_SHOWN))["items"]
    held = (await api.get("/jobs", status="held", limit=ATTENTION_SHOWN))["items"]
    queued = (await api.get("/jobs", status="queued", limit=PAGE))["items"]
    # A retry waiting out its backoff: queued again, its latest run failed.
    retrying = [j for j in queued if (j.get("run") or {}).get("status") == "failed"]
    groups = (await api.get("/groups", limit=PAGE))["items"]
    webhooks = [
        g for g in groups if (g.get("webhook") or {}).get("status") in {"failed", "refused"}
    ]
    lost = [r for r in failed if (r.get("error") or "").startswith(LOST)]
    return render(
        "partials/overview_attention.html",
        failed=[r for r in failed if r not in lost],
        lost=lost,
        held=held,
        retrying=retrying[:ATTENTION_SHOWN],
        webhooks=webhooks[:ATTENTION_SHOWN],
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
