"""One error body for every failure: RFC 9457 problem details (application/problem+json).

    {"type": "about:blank", "title": "Validation failed", "status": 422,
     "detail": "params.max_stories: 0 is less than the minimum of 1",
     "errors": [{"field": "params.max_stories", "message": "..."}]}

Domain errors map to statuses here and nowhere else.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from jobsched.errors import (
    AuthenticationError,
    ConflictError,
    ContentTooLargeError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationFailedError,
)

logger = logging.getLogger("jobsched.api")

PROBLEM_JSON = "application/problem+json"
STATUS_OF: dict[type[DomainError], int] = {
    ValidationFailedError: 422,
    ContentTooLargeError: 413,
    NotFoundError: 404,
    ConflictError: 409,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    UnavailableError: 503,
}


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def _field(loc: tuple[int | str, ...]) -> str:
    # FastAPI prefixes the source ("body", "query", "path", "header"); a body field reads better
    # without it, the others keep it so the client knows where to look.
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


async def on_domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    errors = None
    if isinstance(exc, ValidationFailedError):
        errors = [{"field": p.field, "message": p.message} for p in exc.problems]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "2"}
    return problem(status, exc.title, exc.detail, errors, headers)


def media_type(headers: Headers) -> str:
    """The Content-Type without its parameters, lower-cased ("" when there is none)."""
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json_media(media: str) -> bool:
    """application/json or a +json type (RFC 6839), as a lower-cased media type."""
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _unread_body(request: Request, exc: RequestValidationError) -> str | None:
    """Why a route that takes a body got none it could read: it was empty, or not sent as JSON
    (FastAPI hands such a body to the model as bytes). None when the body was read."""
    whole_body = [error for error in exc.errors() if tuple(error.get("loc", ())) == ("body",)]
    if not whole_body:
        return None
    if whole_body[0].get("type") == "missing":
        return "is empty; this endpoint takes a JSON body"
    media = media_type(request.headers)
    if is_json_media(media):
        return None  # JSON of the wrong shape (an array for an object): a field problem
    sent = f"Content-Type {media}" if media else "no Content-Type"
    return f"was sent with {sent}; send JSON with Content-Type: application/json"


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    unread = _unread_body(request, exc)
    if unread is not None:  # the one shape of an unreadable body (api.guard makes the others)
        return problem(
            422, "Malformed body", f"body: {unread}", [{"field": "body", "message": unread}]
        )
    errors = [
        {"field": _field(tuple(error.get("loc", ()))), "message": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Validation failed", detail, errors)


def allowed_methods(app: Any, path: str) -> str:
    """Every method some route of `path` takes (Starlette's 405 names only the first route's)."""
    try:  # FastAPI >= 0.16x keeps included routers nested: iterate them with their prefixes
        from fastapi.routing import iter_route_contexts

        found = [(c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:
        found = [(getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes]
    matching = [
        (route_path, route_methods)
        for route_path, route_methods in found
        if route_path and route_methods and compile_path(route_path)[0].match(path)
    ]
    # A path some route names literally (/jobs/monitor) is that resource, not an id of a
    # templated one (/jobs/{job_id}): its Allow is what the OpenAPI lists for it.
    literal = [(p, m) for p, m in matching if p == path]
    methods = {"OPTIONS"}
    for _, route_methods in literal or matching:
        methods |= set(route_methods)
    return ", ".join(sorted(methods))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request.app, request.url.path)
        if request.method == "OPTIONS":  # no route takes OPTIONS: the answer is the Allow list
            return Response(status_code=204, headers=headers)
    return problem(exc.status_code, title, str(exc.detail), headers=headers or None)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Log the cause for operators; the client gets no internals.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "the server failed; the error was logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


# For the OpenAPI document: every route may answer with this body.
PROBLEM_SCHEMA = {
    "description": "Problem details (RFC 9457)",
    "content": {
        PROBLEM_JSON: {
            "schema": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
                "required": ["type", "title", "status", "detail"],
            }
        }
    },
}

WHEN: dict[int, str] = {
    401: "Unauthorized: no valid API key",
    403: "Forbidden: the key lacks the scope",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Content too large: the body passes the limit (1 MiB by default), or what it would "
    "store passes 400 KB",
    422: "Validation failed: `errors[].field` names each failing field (a cursor not given by "
    "this list is `cursor`); a body that cannot be read (empty, not sent as "
    "`application/json`, not UTF-8, not JSON, nested too deeply) is titled `Malformed body`, "
    "its field `body`, with the error's line and column where it has one",
    503: "Service unavailable: the store throttled or failed; retry after Retry-After",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of these problem statuses, each with what it means here."""
    return {status: {**PROBLEM_SCHEMA, "description": WHEN[status]} for status in statuses}
