"""/ui/groups: the groups, paged by the API's cursor; /ui/groups/{id}: a group's jobs on a
timeline (a bar from each job's latest run's start to its end, or to now), drawn with CSS
positions on the server, and hold, release and cancel for write keys."""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.ui.client import Api
from api.ui.formats import parse_time
from api.ui.live import panel
from api.ui.render import NO_STORE, page, render
from api.ui.web import RefusedError, SessionDep, session_of
from jobsched.constants import MAX_PAGE_SIZE

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE_SIZE = 25
ACTIONS = ("hold", "release", "cancel")
GROUP_ENDED = frozenset({"completed", "failed", "partial", "cancelled"})


@panel("groups_list")
async def groups_list(request: Request) -> str:
    cursor = request.query_params.get("cursor") or None
    found = await session_of(request).api.get("/groups", limit=PAGE_SIZE, cursor=cursor)
    next_cursor = found["next_cursor"]
    return render(
        "partials/groups_list.html",
        groups=found["items"],
        next_url=f"/ui/groups?{urlencode({'cursor': next_cursor})}" if next_cursor else None,
        first_url="/ui/groups" if cursor else None,
        now=datetime.now(UTC),
    )


@router.get("/groups", response_class=HTMLResponse)
async def groups_page(request: Request, session: SessionDep) -> HTMLResponse:
    return page(
        request,
        "groups.html",
        section="groups",
        panels=["groups_list"],
        groups_html=await groups_list(request),
    )


async def _jobs_of(api: Api, group_id: str) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        found = await api.get("/jobs", group_id=group_id, limit=MAX_PAGE_SIZE, cursor=cursor)
        jobs.extend(found["items"])
        cursor = found["next_cursor"]
        if not cursor:
            return jobs


def gantt(group: dict[str, Any], jobs: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Each job as a row of the chart: its bar's left and width as percents of the span from
    the first start to the last end (or now), its outcome, its label. The group's order of
    jobs is kept (a sequential group's is the order they run in)."""
    order = {job_id: n for n, job_id in enumerate(group["job_ids"])}
    jobs = sorted(jobs, key=lambda job: order.get(job["job_id"], len(order)))
    spans: list[tuple[datetime, datetime] | None] = []
    for job in jobs:
        run = job.get("run")
        start = parse_time(run["started_at"]) if run else None
        end = (parse_time(run["finished_at"]) if run else None) or now
        spans.append((start, max(start, end)) if start else None)
    started = [span for span in spans if span]
    t0 = min((s for s, _ in started), default=now)
    t1 = max((e for _, e in started), default=now)
    total = max((t1 - t0).total_seconds(), 1.0)
    rows = []
    for job, span in zip(jobs, spans, strict=True):
        run = job.get("run")
        row: dict[str, Any] = {"job": job, "run": run, "bar": None}
        if span:
            left = (span[0] - t0).total_seconds() / total * 100
            width = (span[1] - span[0]).total_seconds() / total * 100
            outcome = "cancelled" if job["status"] == "cancelled" else run["status"] if run else ""
            row["bar"] = {
                "left": round(left, 2),
                "width": round(max(width, 0.5), 2),
                "outcome": outcome,
                "seconds": (span[1] - span[0]).total_seconds(),
                "running": run is not None and run["finished_at"] is None,
            }
        rows.append(row)
    return {"rows": rows, "t0": t0, "t1": t1, "seconds": (t1 - t0).total_seconds()}


async def _group_html(request: Request, api: Api, group_id: str) -> tuple[str, dict[str, Any]]:
    group = await api.get(f"/groups/{group_id}")
    jobs = await _jobs_of(api, group_id)
    now = datetime.now(UTC)
    html = render(
        "partials/groups_detail.html",
        request=request,
        session=session_of(request),
        group=group,
        chart=gantt(group, jobs, now),
        ended=group["status"] in GROUP_ENDED,
        now=now,
    )
    return html, group


@panel("group_detail")
async def group_detail(request: Request) -> str:
    """The group's chart and controls as they are now: a live panel of the group's page."""
    html, _ = await _group_html(request, session_of(request).api, _group_id(request))
    return html


def _group_id(request: Request) -> str:
    group_id = request.query_params.get("group_id")
    if not group_id:
        raise RefusedError(422, "Validation failed", "query.group_id: a group id is required")
    return group_id


@router.get("/groups/{group_id}", response_class=HTMLResponse)
async def group_page(group_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    html, group = await _group_html(request, session.api, group_id)
    return page(
        request,
        "group.html",
        section="groups",
        group=group,
        detail_html=html,
        panels=["group_detail"],
        panel_params={"group_id": group_id},
    )


@router.post("/groups/{group_id}/{action}", response_class=HTMLResponse)
async def group_action(
    group_id: str, action: str, request: Request, session: SessionDep
) -> Response:
    if action not in ACTIONS:
        return Response(status_code=404)
    await session.api.post(f"/groups/{group_id}/{action}")
    html, _ = await _group_html(request, session.api, group_id)
    return HTMLResponse(html, headers=NO_STORE)
