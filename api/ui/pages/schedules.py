"""/ui/schedules: each schedule's expression in words, its zone, state, next fires and lint
warnings; a create/edit form whose preview (a dry run) follows the typing; enable, disable with
a note, trigger and delete."""

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from api.ui.client import ApiProblemError
from api.ui.render import NO_STORE, fragment, page, render
from api.ui.web import Session, SessionDep

router = APIRouter(prefix="/ui", include_in_schema=False)

LIST_LIMIT = 50
LIST_NEXT_RUNS = 3
# The form's inputs, in the order the API's errors are shown; their names are the API's fields.
FORM_FIELDS = (
    "name",
    "template_id",
    "expression",
    "timezone",
    "params",
    "priority",
    "overlap_policy",
    "catch_up",
    "catch_up_window_minutes",
    "start_at",
    "end_at",
    "flexible_window_minutes",
)
_NULLABLE = ("start_at", "end_at", "flexible_window_minutes")  # blank clears them on an edit
_INTEGERS = ("catch_up_window_minutes", "flexible_window_minutes")
_EXPRESSION = re.compile(r"\s*(cron|rate|at)\((.*)\)\s*", re.IGNORECASE | re.DOTALL)
_RATE_UNITS = {"minute": "minute", "minutes": "minute", "hour": "hour", "hours": "hour"}


def describe(expression: str) -> str:
    """The expression in words: cron() by cron-descriptor, rate() and at() by us."""
    match = _EXPRESSION.fullmatch(expression or "")
    if not match:
        return expression
    kind, body = match.group(1).lower(), match.group(2).strip()
    if kind == "rate":
        return _rate_words(body)
    if kind == "at":
        return f"Once, at {body.replace('T', ' ')}"
    return _cron_words(body)


def _rate_words(body: str) -> str:
    value, _, unit = body.partition(" ")
    unit = unit.strip().lower()
    if value == "1":
        return f"Every {unit.removesuffix('s')}"
    return f"Every {value} {unit}"


def _cron_words(body: str) -> str:
    # Lazy: the library loads with the first schedules page, not at the Lambda's cold start.
    from cron_descriptor import ExpressionDescriptor, Options

    fields = body.split()
    if len(fields) != 6:
        return f"cron({body})"
    options = Options()
    options.use_24hour_time_format = True
    options.day_of_week_start_index_zero = False  # EventBridge: 1-7 is SUN-SAT
    try:
        # EventBridge's six fields (minute ... year) are Quartz's seven less the seconds.
        return str(ExpressionDescriptor("0 " + body, options).get_description())
    except Exception:  # the library's own errors have no common base: words are a nicety
        return f"cron({body})"


def _without_self(warnings: list[dict[str, Any]], schedule_id: str) -> list[dict[str, Any]]:
    """POST /schedules/lint compares with every stored schedule, so also with itself."""
    return [
        w
        for w in warnings
        if not (w.get("code") == "same_minute" and f"({schedule_id})" in w.get("message", ""))
    ]


async def _warnings(session: Session, schedule: dict[str, Any]) -> list[dict[str, Any]]:
    body = {
        key: schedule[key]
        for key in (
            "name",
            "template_id",
            "expression",
            "timezone",
            "start_at",
            "end_at",
            "overlap_policy",
            "catch_up",
            "catch_up_window_minutes",
        )
        if schedule.get(key) is not None
    }
    try:
        report = await session.api.post("/schedules/lint", json=body)
    except ApiProblemError as exc:
        if exc.status in (401, 403):
            raise
        return [{"code": "lint", "message": exc.detail or exc.title}]
    return _without_self(report["warnings"], schedule["schedule_id"])


async def _list_html(session: Session, notice: str | None = None) -> str:
    listed = await session.api.get("/schedules", limit=LIST_LIMIT, next_runs=LIST_NEXT_RUNS)
    rows = [
        {"s": s, "words": describe(s["expression"]), "warnings": await _warnings(session, s)}
        for s in listed["items"]
    ]
    return render(
        "partials/schedules_list.html",
        session=session,
        rows=rows,
        notice=notice,
        more=listed["next_cursor"],
    )


@router.get("/schedules", response_class=HTMLResponse)
async def schedules_page(request: Request, session: SessionDep) -> HTMLResponse:
    return page(
        request,
        "schedules.html",
        section="schedules",
        panels=[],
        list_html=await _list_html(session),
    )


async def _list_fragment(session: Session, notice: str | None = None) -> Response:
    return HTMLResponse(await _list_html(session, notice), headers=NO_STORE)


@router.post("/schedules/{schedule_id}/enable")
async def enable(request: Request, schedule_id: str, session: SessionDep) -> Response:
    await session.api.post(f"/schedules/{schedule_id}/enable")
    return await _list_fragment(session)


@router.post("/schedules/{schedule_id}/disable")
async def disable(request: Request, schedule_id: str, session: SessionDep) -> Response:
    note = str((await request.form()).get("note") or "").strip()
    await session.api.post(f"/schedules/{schedule_id}/disable", json={"note": note or None})
    return await _list_fragment(session)


@router.post("/schedules/{schedule_id}/trigger")
async def trigger(request: Request, schedule_id: str, session: SessionDep) -> Response:
    job = await session.api.post(f"/schedules/{schedule_id}/trigger", json={})
    return await _list_fragment(session, notice=f"Triggered: job {job['job_id']} queued")


@router.post("/schedules/{schedule_id}/delete")
async def delete(request: Request, schedule_id: str, session: SessionDep) -> Response:
    await session.api.delete(f"/schedules/{schedule_id}")
    return await _list_fragment(session, notice="Schedule deleted")


# The form: what the inputs say, as the API's body; errors the page finds itself (a params box
# that is not JSON) are named as the API names its own.


def form_body(form: FormData, *, edit: bool) -> tuple[dict[str, Any], list[dict[str, str]]]:
    body: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name in FORM_FIELDS:
        raw = str(form.get(name) or "").strip()
        if not raw:
            if edit and name in _NULLABLE:
                body[name] = None
            continue
        if name == "params":
            try:
                body[name] = json.loads(raw)
            except ValueError as exc:
                errors.append({"field": "params", "message": f"is not JSON: {exc}"})
        elif name in _INTEGERS or (name == "priority" and raw.isdigit()):
            body[name] = int(raw) if raw.isdigit() else raw  # the API says why a text is wrong
        elif name in ("start_at", "end_at"):
            body[name] = raw if raw.endswith("Z") or "+" in raw else f"{raw}Z"  # the form is UTC
        else:
            body[name] = raw
    return body, errors


def errors_by_field(errors: list[dict[str, str]]) -> tuple[dict[str, list[str]], list[str]]:
    """Each form field's messages, and the rest (a field the form has no input for)."""
    fields: dict[str, list[str]] = {}
    other: list[str] = []
    for error in errors:
        field = error.get("field", "").removeprefix("body.")
        top = field.split(".", 1)[0]
        if top in FORM_FIELDS:
            fields.setdefault(top, []).append(error.get("message", ""))
        else:
            other.append(f"{field}: {error.get('message', '')}" if field else error["message"])
    return fields, other


async def _dry_run(
    session: Session, schedule_id: str | None, body: dict[str, Any]
) -> dict[str, Any]:
    if schedule_id is None:
        answer: dict[str, Any] = await session.api.post("/schedules", json=body, dry_run="true")
    else:
        answer = await session.api.patch(f"/schedules/{schedule_id}", json=body, dry_run="true")
    return answer


async def _preview(
    request: Request, session: Session, schedule_id: str | None
) -> tuple[dict[str, Any] | None, list[dict[str, str]], dict[str, Any]]:
    """The form's dry run: the schedule as it would be, or the errors that stop it."""
    body, errors = form_body(await request.form(), edit=schedule_id is not None)
    if errors:
        return None, errors, body
    try:
        return await _dry_run(session, schedule_id, body), [], body
    except ApiProblemError as exc:
        if exc.status in (401, 403):
            raise
        return None, exc.errors or [{"field": "", "message": exc.detail or exc.title}], body


def _preview_fragment(
    request: Request, planned: dict[str, Any] | None, errors: list[dict[str, str]]
) -> HTMLResponse:
    fields, other = errors_by_field(errors)
    return fragment(
        request,
        "partials/schedules_preview.html",
        planned=planned,
        words=describe(planned["expression"]) if planned else None,
        field_errors=fields,
        other_errors=other,
        fields=FORM_FIELDS,
        oob=True,
    )


@router.post("/schedules/preview")
async def preview_new(request: Request, session: SessionDep) -> Response:
    planned, errors, _ = await _preview(request, session, None)
    return _preview_fragment(request, planned, errors)


@router.post("/schedules/{schedule_id}/preview")
async def preview_edit(request: Request, schedule_id: str, session: SessionDep) -> Response:
    planned, errors, _ = await _preview(request, session, schedule_id)
    return _preview_fragment(request, planned, errors)


async def _templates(session: Session) -> list[dict[str, Any]]:
    listed = await session.api.get("/templates", limit=100)
    return [t for t in listed["items"] if not t["archived"]]


def _form_values(schedule: dict[str, Any] | None) -> dict[str, str]:
    if schedule is None:
        return {"timezone": "UTC", "params": "{}", "priority": "normal", "expression": ""}
    values = {
        name: "" if schedule.get(name) is None else str(schedule[name]) for name in FORM_FIELDS
    }
    values["params"] = json.dumps(schedule["params"], indent=1)
    for name in ("start_at", "end_at"):
        if schedule.get(name):
            values[name] = str(schedule[name])[:19]  # datetime-local: no zone (the form is UTC)
    return values


async def _form_page(
    request: Request,
    session: Session,
    schedule: dict[str, Any] | None,
    values: dict[str, str],
    planned: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    fields, other = errors_by_field(errors or [])
    return page(
        request,
        "schedule_form.html",
        status_code,
        section="schedules",
        panels=[],
        schedule=schedule,
        values=values,
        templates=await _templates(session),
        planned=planned,
        words=describe(planned["expression"]) if planned else None,
        field_errors=fields,
        other_errors=other,
        fields=FORM_FIELDS,
        oob=False,
    )


@router.get("/schedules/new", response_class=HTMLResponse)
async def new_form(request: Request, session: SessionDep) -> HTMLResponse:
    return await _form_page(request, session, None, _form_values(None))


@router.get("/schedules/{schedule_id}/edit", response_class=HTMLResponse)
async def edit_form(request: Request, schedule_id: str, session: SessionDep) -> HTMLResponse:
    schedule = await session.api.get(f"/schedules/{schedule_id}")
    planned = dict(schedule)
    planned["warnings"] = await _warnings(session, schedule)
    return await _form_page(request, session, schedule, _form_values(schedule), planned)


async def _save(request: Request, session: Session, schedule_id: str | None) -> Response:
    form = await request.form()
    body, errors = form_body(form, edit=schedule_id is not None)
    if not errors:
        try:
            if schedule_id is None:
                await session.api.post("/schedules", json=body)
            else:
                await session.api.patch(f"/schedules/{schedule_id}", json=body)
        except ApiProblemError as exc:
            if exc.status in (401, 403):
                raise
            errors = exc.errors or [{"field": "", "message": exc.detail or exc.title}]
    htmx = request.headers.get("hx-request") == "true"
    if not errors:
        if htmx:
            return Response(headers={"HX-Redirect": "/ui/schedules"})
        return RedirectResponse("/ui/schedules", status_code=303)
    if htmx:
        return _preview_fragment(request, None, errors)
    schedule = await session.api.get(f"/schedules/{schedule_id}") if schedule_id else None
    values = {name: str(form.get(name) or "") for name in FORM_FIELDS}
    return await _form_page(request, session, schedule, values, None, errors, 422)


@router.post("/schedules")
async def create(request: Request, session: SessionDep) -> Response:
    return await _save(request, session, None)


@router.post("/schedules/{schedule_id}")
async def update(request: Request, schedule_id: str, session: SessionDep) -> Response:
    return await _save(request, session, schedule_id)
