"""The request guard, an ASGI middleware in front of every route, in this order:

1. a Content-Length over the body limit is 413 at once;
2. the API key is checked before any body is read: without a valid key the route gets no body
   and answers 401 from its dependency, so such a caller learns nothing about its body; routes
   check the key's scope (403) after reading the body;
3. the body is read, counted as it streams (413 past the limit), and a JSON body is read
   strictly (api.strict_json): 422 before any route runs, so nothing is written;
4. the route gets the body as it was sent.

The open paths answer without a key here: /health, and the docs, which check keys themselves
when they are not public.
"""

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.strict_json import MalformedBodyError, parse_body, unstorable_values
from api.ui.session import token_of as session_token
from jobsched.errors import AuthenticationError, DomainError, ValidationFailedError
from jobsched.jobs.keys import authenticate
from jobsched.models import ApiKey
from jobsched.ports import Stores

OPEN_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/docs/migration.md", "/ui/login"})
# The dashboard's scripts and styles need no key; its pages read the key from their session
# cookie (api.ui.session), not from an Authorization header.
OPEN_PREFIXES = ("/ui/static/",)
UI_PREFIX = "/ui"
# The methods whose body a route reads; any other (TRACE, a GET's body) reaches the router
# unread, which answers it as it would without one (405 with Allow for an undeclared method).
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Gone:
    """What _read returns when the client disconnected before its body ended."""


GONE = _Gone()
KEY_STATE = "api_key"  # scope["state"][KEY_STATE]: the caller's ApiKey, for api.deps


def _bearer(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _token(path: str, headers: Headers) -> str | None:
    if path == UI_PREFIX or path.startswith(f"{UI_PREFIX}/"):
        return session_token(headers)
    return _bearer(headers)


def _is_json(headers: Headers) -> bool:
    return problems.is_json_media(problems.media_type(headers))


def _max_body_bytes(scope: Scope) -> int:
    limit: int | None = scope["app"].state.max_body_bytes
    if limit is None:  # read at the first request, not at import (cold start)
        from jobsched.settings import get_settings

        limit = get_settings().max_body_bytes
    return limit


def _too_large(limit: int) -> JSONResponse:
    return problems.problem(
        413, "Content too large", f"the request body is over the limit of {limit} bytes"
    )


def _unreadable(exc: MalformedBodyError) -> JSONResponse:
    return problems.problem(
        422, "Malformed body", f"body: {exc}", [{"field": "body", "message": str(exc)}]
    )


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = _max_body_bytes(scope)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        if path not in OPEN_PATHS and not path.startswith(OPEN_PREFIXES):
            try:
                key = await _key_of(scope, _token(path, headers))
            except DomainError as exc:  # the keys cannot be read now (503): not the client's fault
                await (await problems.on_domain_error(Request(scope), exc))(scope, receive, send)
                return
            if key is None:
                # Unread, the body cannot fail: the route answers as it does without a key
                # (401, or 404 on no route), with its own headers (the legacy Deprecation).
                await self.app(scope, _replay(b"", receive), send)
                return
            scope.setdefault("state", {})[KEY_STATE] = key
        body = await self._read(receive, limit)
        if isinstance(body, _Gone):
            return  # the client went away: no one to answer
        if body is None:
            await _too_large(limit)(scope, receive, send)
            return
        if body and scope["method"] in BODY_METHODS and _is_json(headers):
            refusal = _refusal(body)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes | _Gone | None:
        """The whole body, or None once it passes the limit (the rest is not read)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return GONE
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _key_of(scope: Scope, token: str | None) -> ApiKey | None:
    """The caller's key, or None when it has no valid one."""
    if token is None:
        return None

    def lookup() -> ApiKey:
        stores: Stores = scope["app"].state.stores()
        return authenticate(stores.keys, token)

    try:
        return await run_in_threadpool(lookup)  # a store read: off the event loop
    except AuthenticationError:
        return None


def _refusal(body: bytes) -> JSONResponse | None:
    try:
        found = unstorable_values(parse_body(body))
    except MalformedBodyError as exc:
        return _unreadable(exc)
    if not found:
        return None
    error = ValidationFailedError("; ".join(f"{p.field}: {p.message}" for p in found), found)
    errors = [{"field": p.field, "message": p.message} for p in error.problems]
    return problems.problem(422, error.title, error.detail, errors)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # after the body: the disconnect, when it comes
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
