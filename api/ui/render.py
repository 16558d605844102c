"""Pages and fragments from Jinja2 templates (autoescaped), with the static files' URLs
versioned by their content so a browser may keep them for a year."""

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.ui import formats
from api.ui.live import etag_of, live_mode

if TYPE_CHECKING:
    from jinja2 import Environment

UI_DIR = Path(__file__).parent
TEMPLATES_DIR = UI_DIR / "templates"
STATIC_DIR = UI_DIR / "static"
STATIC_PREFIX = "/ui/static/"


@cache
def static_index() -> dict[str, tuple[bytes, str]]:
    """Every shipped file: its bytes and a digest, read once per process."""
    found: dict[str, tuple[bytes, str]] = {}
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file() and path.suffix in {".js", ".css", ".svg", ".png", ".ico"}:
            data = path.read_bytes()
            found[path.relative_to(STATIC_DIR).as_posix()] = (
                data,
                hashlib.sha256(data).hexdigest()[:16],
            )
    return found


def static_url(name: str) -> str:
    _, digest = static_index()[name]
    return f"{STATIC_PREFIX}{name}?v={digest}"


def panel_query(request: Request, extra: dict[str, str] | None = None) -> str:
    """What a page's panels render from: the page's own query, and what its path names (a
    group's id) given as `extra`."""
    own = [(k, v) for k, v in request.query_params.multi_items() if k != "panels"]
    return urlencode([*own, *(extra or {}).items()])


def events_query(request: Request, panels: list[str], extra: dict[str, str] | None = None) -> str:
    """The page's event stream: its panels, and the query they render from."""
    query = panel_query(request, extra)
    return urlencode([("panels", ",".join(panels))]) + (f"&{query}" if query else "")


@cache
def environment() -> "Environment":
    # Jinja loads with the first page, not at the Lambda's cold start (an API call needs none).
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a misspelt name fails the test that renders it
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    env.globals["events_query"] = events_query
    env.globals["panel_query"] = panel_query
    env.globals["etag"] = etag_of  # a polled panel's first paint: its first ask may be a 304
    env.filters.update(formats.FILTERS)
    return env


def render(template: str, **context: Any) -> str:
    """HTML, marked safe: a fragment placed in a page (a live panel's first paint) is not
    escaped again."""
    from markupsafe import Markup

    return Markup(environment().get_template(template).render(**context))  # noqa: S704 - autoescaped


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A whole page: the layout with the session's key (scopes, write token) and live mode."""
    session = getattr(request.state, "ui_session", None)
    html = render(
        template,
        request=request,
        session=session,
        live=live_mode(request),
        now=datetime.now(UTC),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=NO_STORE)


def fragment(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    session = getattr(request.state, "ui_session", None)
    html = render(template, request=request, session=session, now=datetime.now(UTC), **context)
    return HTMLResponse(html, status_code=status_code, headers=NO_STORE)


# Pages show one key's view of the queue: never kept by a shared cache, nor by the browser's
# back button after logout.
NO_STORE = {"Cache-Control": "no-store"}
