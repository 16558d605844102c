"""/ui/templates: the templates (archived ones apart), one template's versions and params schema,
and a "run with these params" form generated from that schema; archive and restore."""

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from api.ui.client import ApiProblemError
from api.ui.render import fragment, page
from api.ui.web import SessionDep

router = APIRouter(prefix="/ui", include_in_schema=False)

LIST_LIMIT = 100
RAW_FIELD = "params_json"  # the fallback: a JSON object for what the inputs do not cover
PRIORITIES = ("normal", "low", "high", "immediate")
# JSON Schema keywords the browser can check, as HTML attributes, by the input's kind.
_STRING_ATTRS = {"minLength": "minlength", "maxLength": "maxlength", "pattern": "pattern"}
_NUMBER_ATTRS = {"minimum": "min", "maximum": "max"}


@dataclass
class ParamField:
    """One generated input: `kind` is string, integer, number, boolean, enum or strings."""

    name: str
    index: int  # ids come from it: a param's name need not be a valid HTML id
    kind: str
    required: bool
    attrs: dict[str, str] = field(default_factory=dict)
    options: list[Any] = field(default_factory=list)
    description: str = ""
    default: Any = None


def _kind(prop: dict[str, Any]) -> str | None:
    if "enum" in prop and isinstance(prop["enum"], list) and prop["enum"]:
        return "enum"
    kind = prop.get("type")
    if kind in ("string", "integer", "number", "boolean"):
        return str(kind)
    items = prop.get("items")
    if kind == "array" and isinstance(items, dict) and items.get("type") == "string":
        return "strings"
    return None  # anything else is the JSON box's


def _attrs(kind: str, prop: dict[str, Any]) -> dict[str, str]:
    keywords = _STRING_ATTRS if kind == "string" else _NUMBER_ATTRS
    attrs = {html: str(prop[key]) for key, html in keywords.items() if key in prop}
    if kind == "integer":
        attrs["step"] = "1"
    elif kind == "number":
        attrs["step"] = "any"
    return attrs


def param_fields(
    schema: dict[str, Any], defaults: dict[str, Any]
) -> tuple[list[ParamField], list[str]]:
    """The inputs the schema's top-level properties make, and the names left to the JSON box.
    A required param is required in the form only when the template has no default for it."""
    properties = schema.get("properties") if schema.get("type", "object") == "object" else None
    if not isinstance(properties, dict):
        return [], []
    required = set(schema.get("required") or [])
    fields: list[ParamField] = []
    left: list[str] = []
    for name, prop in properties.items():
        kind = _kind(prop) if isinstance(prop, dict) else None
        if kind is None:
            left.append(name)
            continue
        fields.append(
            ParamField(
                name=name,
                index=len(fields),
                kind=kind,
                required=name in required and name not in defaults,
                attrs=_attrs(kind, prop) if kind in ("string", "integer", "number") else {},
                options=list(prop.get("enum", [])),
                description=str(prop.get("description", "")),
                default=defaults.get(name),
            )
        )
    return fields, left


def _number(raw: str, kind: str) -> Any:
    try:
        return int(raw) if kind == "integer" else float(raw)
    except ValueError:
        return raw  # sent as typed: the API's 422 names the param


def _value(param: ParamField, raw: str) -> Any:
    if param.kind in ("integer", "number"):
        number = _number(raw, param.kind)
        return int(number) if isinstance(number, float) and number.is_integer() else number
    if param.kind == "boolean":
        return raw == "true"
    if param.kind == "enum":
        return next((option for option in param.options if json.dumps(option) == raw), raw)
    if param.kind == "strings":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    return raw


def params_of(
    form: FormData, fields: list[ParamField]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The job's params: the JSON box, then each filled input over it (a blank one is left to
    the template's default)."""
    params: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    raw_json = str(form.get(RAW_FIELD) or "").strip()
    if raw_json:
        try:
            loaded = json.loads(raw_json)
        except ValueError as exc:
            loaded, problem = None, f"is not JSON: {exc}"
        else:
            problem = "" if isinstance(loaded, dict) else "must be a JSON object"
        if problem:
            errors.append({"field": RAW_FIELD, "message": problem})
        else:
            params.update(loaded)
    for param in fields:
        raw = str(form.get(f"param-{param.index}") or "")
        if param.kind != "string":
            raw = raw.strip()
        if raw != "":
            params[param.name] = _value(param, raw)
    return params, errors


def place_errors(
    errors: list[dict[str, str]], fields: list[ParamField]
) -> tuple[dict[str, list[str]], list[str]]:
    """Each error by the id of its input's message (err-param-N, err-priority, ...), or left
    over for the form's summary."""
    index = {param.name: param.index for param in fields}
    placed: dict[str, list[str]] = {}
    other: list[str] = []
    for error in errors:
        name, message = error.get("field", ""), error.get("message", "")
        head, _, rest = name.partition(".")
        param = rest.split(".", 1)[0] if head == "params" else None
        if param in index:
            placed.setdefault(f"param-{index[param]}", []).append(message)
        elif name in ("priority", RAW_FIELD):
            placed.setdefault(name, []).append(message)
        else:
            other.append(f"{name}: {message}" if name else message)
    return placed, other


def _spans(fields: list[ParamField]) -> list[str]:
    return [f"param-{param.index}" for param in fields] + ["priority", RAW_FIELD]


@router.get("/templates", response_class=HTMLResponse)
async def templates_page(
    request: Request, session: SessionDep, archived: bool = False
) -> HTMLResponse:
    listed = await session.api.get("/templates", limit=LIST_LIMIT)
    items = listed["items"]
    return page(
        request,
        "tpl_list.html",
        section="templates",
        panels=[],
        active=[t for t in items if not t["archived"]],
        archived=[t for t in items if t["archived"]],
        show_archived=archived,
        more=listed["next_cursor"],
    )


@router.get("/templates/{template_id}", response_class=HTMLResponse)
async def template_page(request: Request, template_id: str, session: SessionDep) -> HTMLResponse:
    template = await session.api.get(f"/templates/{template_id}")
    versions = await session.api.get(f"/templates/{template_id}/versions", limit=LIST_LIMIT)
    fields, left = param_fields(template["params_schema"], template["default_params"])
    return page(
        request,
        "tpl_detail.html",
        section="templates",
        panels=[],
        tpl=template,
        versions=versions["items"],
        fields=fields,
        left=left,
        priorities=PRIORITIES,
        schema_json=json.dumps(template["params_schema"], indent=2),
        defaults_json=json.dumps(template["default_params"], indent=2),
        raw_field=RAW_FIELD,
        errors={},
    )


@router.post("/templates/{template_id}/run")
async def run(request: Request, template_id: str, session: SessionDep) -> Response:
    """POST /jobs with the form's params: the job made, or the API's 422 by input."""
    template = await session.api.get(f"/templates/{template_id}")
    fields, _ = param_fields(template["params_schema"], template["default_params"])
    form = await request.form()
    params, errors = params_of(form, fields)
    job = None
    if not errors:
        body = {
            "template_id": template_id,
            "params": params,
            "priority": str(form.get("priority") or "normal"),
        }
        try:
            job = await session.api.post("/jobs", json=body)
        except ApiProblemError as exc:
            if exc.status != 422:
                raise
            errors = exc.errors or [{"field": "", "message": exc.detail or exc.title}]
    placed, other = place_errors(errors, fields)
    return fragment(
        request,
        "partials/tpl_run_result.html",
        job=job,
        errors=placed,
        other_errors=other,
        spans=_spans(fields),
    )


@router.post("/templates/{template_id}/archive")
async def archive(template_id: str, session: SessionDep) -> Response:
    await session.api.delete(f"/templates/{template_id}")
    return Response(headers={"HX-Redirect": f"/ui/templates/{template_id}"})


@router.post("/templates/{template_id}/restore")
async def restore(template_id: str, session: SessionDep) -> Response:
    await session.api.post(f"/templates/{template_id}/restore")
    return Response(headers={"HX-Redirect": f"/ui/templates/{template_id}"})
