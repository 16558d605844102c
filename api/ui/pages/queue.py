"""/ui/queue: the queue in dispatch order, a page (50) at a time, with its ETAs; reorder by drag
(previewed while dragging), by buttons or by keys; priority, hold, release, cancel, in bulk
too; pause and resume. Every read and write goes through the API (GET /queue, POST /queue/...)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.ui.client import ApiProblemError
from api.ui.formats import clock, parse_time
from api.ui.live import panel
from api.ui.render import page, render
from api.ui.web import Session, SessionDep, session_of
from jobsched.priority import PriorityLevel

router = APIRouter(prefix="/ui", include_in_schema=False)

PAGE_SIZE = 50
PRIORITIES = [level.value for level in PriorityLevel]
BULK_ACTIONS = ("cancel", "hold", "release", "top", "bottom")
# A write that lost a race (the job started, ended or was cancelled meanwhile): shown, then the
# list as the API has it now. Any other refusal (403, 422) is the framework's flash.
RACES = {404: "is gone", 409: "could not be changed"}
OUTCOME_HEADER = "X-Outcome"


def eta_text(eta: dict[str, Any] | None) -> tuple[str, str]:
    """What a row shows for its ETA, and the whole estimate for its title."""
    if not eta:
        return "\u2013", "no estimate"
    state = eta["state"]
    if state != "estimated" or not eta.get("start_p50"):
        return state, eta.get("reason") or state

    def minute(value: str | None) -> str:
        moment = parse_time(value)
        return "\u2013" if moment is None else moment.strftime("%H:%M")

    text = f"{minute(eta['start_p50'])} (p90 {minute(eta.get('start_p90'))}) UTC"
    title = (
        f"start p50 {clock(eta['start_p50'])}, p90 {clock(eta.get('start_p90'))}; "
        f"durations from {eta.get('basis') or 'unknown'}"
    )
    return text, title


def age(value: str | None) -> str:
    """A job's wait, to the minute: a live panel that changed every second would never rest."""
    from datetime import UTC, datetime

    moment = parse_time(value)
    if moment is None:
        return "\u2013"
    minutes = int((datetime.now(UTC) - moment).total_seconds() // 60)
    if minutes < 1:
        return "< 1 min"
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h" if minutes < 48 * 60 else f"{minutes // 1440} d"


def _cursor(request: Request) -> str | None:
    return request.query_params.get("cursor") or None


def _items_html(request: Request, session: Session, queue: dict[str, Any]) -> str:
    cursor = _cursor(request)
    return render(
        "partials/queue_items.html",
        queue=queue,
        cursor=cursor,
        session=session,
        priorities=PRIORITIES,
        bulk_actions=BULK_ACTIONS,
        eta_text=eta_text,
        age=age,
    )


@panel("queue_items")
async def queue_items(request: Request) -> str:
    session = session_of(request)
    queue = await session.api.get("/queue", limit=PAGE_SIZE, cursor=_cursor(request))
    return _items_html(request, session, queue)


@router.get("/queue", response_class=HTMLResponse)
async def queue_page(request: Request, session: SessionDep) -> HTMLResponse:
    return page(
        request,
        "queue.html",
        section="queue",
        panels=["queue_items"],
        items_html=await queue_items(request),
    )


async def _form(request: Request) -> dict[str, Any]:
    """A write's fields: JSON from the page's script, a form from htmx."""
    if "json" in request.headers.get("content-type", ""):
        try:
            body = await request.json()
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}
    form = await request.form()
    fields: dict[str, Any] = {}
    for name, value in form.multi_items():
        if name == "job_id":
            fields.setdefault("job_ids", []).append(str(value))
        fields[name] = str(value)
    return fields


def _flash(level: str, title: str, detail: str = "") -> str:
    return render("partials/queue_flash.html", level=level, title=title, detail=detail, errors=[])


async def _answer(request: Request, *flashes: str, lost: bool = False) -> HTMLResponse:
    """The list re-rendered from the API, with any message for the page's message area; a
    write that lost a race says so in X-Outcome (for the script's announcement)."""
    headers = {"Cache-Control": "no-store", **({OUTCOME_HEADER: "lost"} if lost else {})}
    # str(): rendered fragments are Markup, whose + would escape the other side
    html = str(await queue_items(request)) + "".join(str(flash) for flash in flashes)
    return HTMLResponse(html, headers=headers)


def _race(job_id: str, exc: ApiProblemError) -> str:
    return _flash("error", f"Job {job_id} {RACES[exc.status]}", exc.detail)


def _position(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@router.post("/queue/move")
async def move(request: Request, session: SessionDep) -> HTMLResponse:
    """{"job_id", "position"} (1-based, queue-wide): the drop of a drag, a button, a key."""
    fields = await _form(request)
    job_id = str(fields.get("job_id") or "")
    position = _position(fields.get("position"))
    if position is None:  # the API says what is wrong with it
        position = fields.get("position")
    try:
        moved = await session.api.post(f"/queue/{job_id}/move", json={"position": position})
    except ApiProblemError as exc:
        if exc.status not in RACES:
            raise
        return await _answer(request, _race(job_id, exc), lost=True)
    note = _flash("warn", f"Job {job_id} changed priority", moved["note"]) if moved["note"] else ""
    return await _answer(request, note)


@router.post("/queue/preview")
async def preview(request: Request, session: SessionDep) -> JSONResponse:
    """What a drag's placeholder would do: each job's ETA text after the move, and whether it
    changed. Writes nothing (the API's preview)."""
    fields = await _form(request)
    change = {"move": {"job_id": fields.get("job_id"), "position": fields.get("position")}}
    try:
        answer = await session.api.post("/queue/preview", json=change)
    except ApiProblemError as exc:
        if exc.status not in RACES:
            raise
        return JSONResponse({"etas": {}, "error": exc.detail})
    etas = {}
    for row in answer["items"]:
        text, title = eta_text(row["eta"])
        etas[row["job_id"]] = {
            "text": text,
            "title": title,
            "position": row["position"],
            "changed": eta_text(row["eta_now"])[0] != text,
        }
    return JSONResponse({"etas": etas}, headers={"Cache-Control": "no-store"})


async def _act(session: Session, action: str, job_id: str, fields: dict[str, Any]) -> None:
    if action == "hold":
        note = str(fields.get("note") or fields.get("prompt") or "").strip()
        await session.api.post(f"/jobs/{job_id}/hold", json={"note": note} if note else None)
    elif action in ("release", "cancel"):
        await session.api.post(f"/jobs/{job_id}/{action}")
    elif action == "top":
        await session.api.post(f"/queue/{job_id}/move", json={"position": 1})
    elif action == "bottom":
        stats = await session.api.get("/queue/stats")
        last = max(int(stats["queued"]), 1)
        await session.api.post(f"/queue/{job_id}/move", json={"position": last})
    elif action == "priority":
        await session.api.post(
            f"/queue/{job_id}/priority", json={"priority": fields.get("priority")}
        )


ROW_ACTIONS = (*BULK_ACTIONS, "priority")


@router.post("/queue/{job_id}/{action}")
async def row_action(job_id: str, action: str, request: Request, session: SessionDep) -> Any:
    """One row's button: top, bottom, priority, hold (an optional note), release, cancel."""
    if action not in ROW_ACTIONS:
        return HTMLResponse(status_code=404)
    fields = await _form(request)
    prompt = request.headers.get("hx-prompt")
    if prompt is not None:
        fields["prompt"] = prompt
    try:
        await _act(session, action, job_id, fields)
    except ApiProblemError as exc:
        if exc.status not in RACES:
            raise
        return await _answer(request, _race(job_id, exc), lost=True)
    return await _answer(request)


@router.post("/queue/bulk")
async def bulk(request: Request, session: SessionDep) -> HTMLResponse:
    """The bulk bar: one action for every selected job. Top keeps their order (the last goes
    first); a job that lost a race is named, the others done."""
    fields = await _form(request)
    action = str(fields.get("action") or "")
    job_ids = [str(job_id) for job_id in fields.get("job_ids") or []]
    if action not in BULK_ACTIONS or not job_ids:
        return await _answer(request, _flash("error", "Nothing done", "select jobs and an action"))
    order = list(reversed(job_ids)) if action == "top" else job_ids
    lost: list[str] = []
    for job_id in order:
        try:
            await _act(session, action, job_id, fields)
        except ApiProblemError as exc:
            if exc.status not in RACES:
                raise
            lost.append(f"{job_id} ({exc.detail})")
    if lost:
        done = len(job_ids) - len(lost)
        title = f"{action}: {done} of {len(job_ids)} done; not done"
        return await _answer(request, _flash("error", title, "; ".join(lost)), lost=True)
    return await _answer(request)


@router.post("/queue/pause")
async def pause(request: Request, session: SessionDep) -> HTMLResponse:
    fields = await _form(request)
    note = str(fields.get("note") or "").strip()
    await session.api.post("/queue/pause", json={"note": note or None})
    return await _answer(request)


@router.post("/queue/resume")
async def resume(request: Request, session: SessionDep) -> HTMLResponse:
    await session.api.post("/queue/resume")
    return await _answer(request)
