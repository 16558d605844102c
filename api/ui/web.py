"""The dashboard's own routes (login, logout, static files, live panels) and the session every
page depends on. Pages live in api/ui/pages/, one module each."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.guard import KEY_STATE
from api.ui import session as cookies
from api.ui.client import Api, ApiProblemError
from api.ui.live import PANELS, etag_of, live_mode, stream_panels
from api.ui.render import fragment, page, static_index
from jobsched.errors import AuthenticationError, PermissionDeniedError
from jobsched.jobs.keys import authenticate
from jobsched.models import ApiKey, Scope
from jobsched.ports import Stores

router = APIRouter(prefix="/ui", include_in_schema=False)


class LoginRequiredError(Exception):
    """No valid key in the session: the login page, then back here."""


class RefusedError(Exception):
    """The dashboard refuses a request itself (a cross-site write, a stale write token)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        self.status, self.title, self.detail = status, title, detail
        super().__init__(detail)


@dataclass
class Session:
    key: ApiKey
    token: str  # the key itself: for the API calls, never rendered
    csrf: str
    api: Api

    def can(self, scope: str) -> bool:
        return self.key.allows(Scope(scope))


async def current_session(request: Request) -> AsyncIterator[Session]:
    key: ApiKey | None = getattr(request.state, KEY_STATE, None)  # set by api.guard
    token = cookies.token_of(request.headers)
    if key is None or token is None:
        raise LoginRequiredError
    csrf = cookies.csrf_token(token)
    if request.method not in cookies.SAFE_METHODS:
        sent = request.headers.get(cookies.CSRF_HEADER)
        if sent is None and "form" in request.headers.get("content-type", ""):
            field = (await request.form()).get(cookies.CSRF_FIELD)
            sent = field if isinstance(field, str) else None
        try:
            cookies.check_csrf(request, token, sent)
        except PermissionDeniedError as exc:
            raise RefusedError(403, "Refused", str(exc)) from exc
    api = Api(request, token)
    session = Session(key=key, token=token, csrf=csrf, api=api)
    request.state.ui_session = session
    try:
        yield session
    finally:
        await api.aclose()


SessionDep = Annotated[Session, Depends(current_session)]

EVENT_STREAM = "text/event-stream"


def streamed(
    request: Request,
    session: Session,
    produce: Callable[[Api], AsyncIterator[str]],
    media_type: str = EVENT_STREAM,
    headers: dict[str, str] | None = None,
) -> StreamingResponse:
    """A response that outlives the route's dependencies (an event stream, a download): it
    holds an API client of its own, closed when the stream ends or the client goes away."""

    async def chunks() -> AsyncIterator[str]:
        api = Api(request, session.token)
        try:
            async for chunk in produce(api):
                yield chunk
        finally:
            await api.aclose()

    sent = {"Cache-Control": "no-store", "X-Accel-Buffering": "no", **(headers or {})}
    return StreamingResponse(chunks(), media_type=media_type, headers=sent)


def session_of(request: Request) -> Session:
    """The session of the request a panel renders for (set by `current_session`)."""
    session: Session = request.state.ui_session
    return session


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/ui/login?next={quote(target, safe='')}"


async def on_login_required(request: Request, _: Exception) -> Response:
    if _is_htmx(request) or request.url.path.startswith("/ui/events"):
        return Response(status_code=401, headers={"HX-Redirect": _login_url(request)})
    return RedirectResponse(_login_url(request), status_code=303)


async def on_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RefusedError | ApiProblemError)
    status = exc.status
    if isinstance(exc, ApiProblemError) and status == 401:
        return await on_login_required(request, exc)
    errors = exc.errors if isinstance(exc, ApiProblemError) else []
    context: dict[str, Any] = {"title": exc.title, "detail": exc.detail, "errors": errors}
    if _is_htmx(request):
        # An action's refusal goes to the page's message area, not into the panel it targeted.
        # It answers 200 (the refusal's own status in X-Refused): a browser logs every 4xx of a
        # script's request as a console error, and this one is handled, not an error of the page.
        response = fragment(request, "partials/flash.html", level="error", **context)
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        response.headers[REFUSED_HEADER] = str(status)
        return response
    return page(request, "error.html", status, **context)


REFUSED_HEADER = "X-Refused"


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequiredError, on_login_required)
    app.add_exception_handler(RefusedError, on_refused)
    app.add_exception_handler(ApiProblemError, on_refused)


def _safe_next(target: str | None) -> str:
    """Only a dashboard path: a login never sends the browser to another site."""
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return page(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """A valid key becomes the session; a wrong one says so without saying why (as the API).
    The form is read here, not by Form() parameters: those load the form parser at import."""
    form = await request.form()
    key, next = (str(form.get(name) or "") for name in ("key", "next"))
    try:
        cookies.check_same_origin(request)
    except PermissionDeniedError as exc:
        return page(request, "login.html", next=_safe_next(next), error=str(exc))
    stores: Stores = request.app.state.stores()
    try:
        await run_in_threadpool(authenticate, stores.keys, key.strip() or None)
    except AuthenticationError:
        # 200, as a form shown again: the browser would log a 401 as an error of the page.
        error = "That key is not valid (or was revoked)."
        return page(request, "login.html", next=_safe_next(next), error=error)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        cookies.COOKIE,
        key.strip(),
        max_age=cookies.SESSION_SECONDS,
        path=cookies.COOKIE_PATH,
        secure=cookies.is_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(
        cookies.COOKIE,
        path=cookies.COOKIE_PATH,
        secure=cookies.is_secure(request),
        httponly=True,
        samesite="strict",
    )
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@router.get("/static/{name:path}")
def static(name: str, request: Request) -> Response:
    found = static_index().get(name)
    if found is None:
        return Response(status_code=404)
    data, digest = found
    etag = f'"{digest}"'
    versioned = request.query_params.get("v") == digest
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "no-cache",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    media = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    suffix = name[name.rfind(".") :]
    return Response(data, media_type=media.get(suffix, "application/octet-stream"), headers=headers)


@router.get("/panels/{name}")
async def live_panel(name: str, request: Request, session: SessionDep) -> Response:
    """A panel as it is now, or 304 when the page has it already (the ETag it sent)."""
    renderer = PANELS.get(name)
    if renderer is None:
        return Response(status_code=404)
    html = await renderer(request)
    etag = etag_of(html)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return HTMLResponse(html, headers=headers)


@router.get("/events")
async def live_events(request: Request, session: SessionDep, panels: str = "") -> Response:
    """The page's panels as server-sent events (the local runtime); 404 where pages poll."""
    names = [name for name in panels.split(",") if name]
    if live_mode(request) != "sse" or not names or any(n not in PANELS for n in names):
        return Response(status_code=404)

    def push(api: Api) -> AsyncIterator[str]:
        request.state.ui_session = replace(session, api=api)
        return stream_panels(request, names)

    return streamed(request, session, push)
