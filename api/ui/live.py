"""Live panels: a part of a page that changes by itself (the queue, the counts, a log).

One decision, `live_mode`, says how a page learns of a change:
- `sse`: the local runtime streams server-sent events, one connection per page, a panel's new
  HTML sent when it differs from what was last sent;
- `poll`: behind API Gateway a Lambda response is buffered whole, so a stream never arrives;
  the page asks again every few seconds with the panel's ETag and gets a 304 (nothing to swap)
  while nothing changed.

Both modes render a panel with the same function, so what a user sees does not depend on it.
"""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

from starlette.requests import Request

LiveMode = Literal["sse", "poll"]
POLL_SECONDS = 2.0  # how often a polling page asks
PUSH_SECONDS = 2.0  # how often a stream renders its panels again (as often as pages poll)
STREAM_SECONDS = 300.0  # a stream ends after this (the browser reconnects) so none is forever

PanelRenderer = Callable[[Request], Awaitable[str]]
PANELS: dict[str, PanelRenderer] = {}


def live_mode(request: Request) -> LiveMode:
    """The app's mode: the local runtime asks for `sse`; anything else (Lambda) polls."""
    mode: LiveMode = getattr(request.app.state, "ui_live", None) or "poll"
    return mode


def panel(name: str) -> Callable[[PanelRenderer], PanelRenderer]:
    """Register a panel's renderer: it reads its parameters from the request's query."""

    def register(renderer: PanelRenderer) -> PanelRenderer:
        PANELS[name] = renderer
        return renderer

    return register


def etag_of(html: str) -> str:
    return '"' + hashlib.sha256(html.encode()).hexdigest()[:32] + '"'


def sse_event(name: str, html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {name}\n{data}\n\n"


async def stream_panels(
    request: Request,
    names: list[str],
    push_seconds: float = PUSH_SECONDS,
    stream_seconds: float = STREAM_SECONDS,
) -> AsyncIterator[str]:
    """Each panel once at the start, then again whenever it changed."""
    sent: dict[str, str] = {}
    deadline = time.monotonic() + stream_seconds
    yield f"retry: {int(POLL_SECONDS * 1000)}\n\n"
    while time.monotonic() < deadline:
        for name in names:
            html = await PANELS[name](request)
            digest = etag_of(html)
            if sent.get(name) != digest:
                sent[name] = digest
                yield sse_event(name, html)
        yield ": keep-alive\n\n"  # a comment: a proxy does not close an idle stream
        await asyncio.sleep(push_seconds)
