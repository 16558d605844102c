"""The app factory: the scheduler API under /api/v2 and /scheduler, the legacy job API (v1)
unprefixed and under /api/v1, /health open to all. Each router is included once, under the
first of its prefixes; the others are aliases resolved before routing (api.aliases)."""

from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import APIRouter, FastAPI

from api import docs, legacy, problems
from api.aliases import Alias, ResolveAliases, served_segments, with_aliases
from api.guard import RequestGuard
from api.routers import (
    content,
    direct,
    groups,
    jobs,
    keys,
    queue,
    reservations,
    runs,
    schedules,
    templates,
    usage,
)
from jobsched.ports import Stores

PREFIXES = ("/api/v2", "/scheduler")  # spec: Option A path versioning, and the phase-1 prefix
SCHEDULER_MODULES = (templates, jobs, queue, runs, groups, reservations, schedules, keys, usage)
# The legacy job API, the direct reads and the next-slot calls (these two not deprecated).
LEGACY_ROUTERS = (legacy.router, content.router, direct.router)

DESCRIPTION = """\
Queue, order, schedule, observe and cancel long container jobs.

The legacy job API (`/jobs/*`, also under `/api/v1`) is deprecated: see the migration guide.

Every route but `/health` needs `Authorization: Bearer <API key>`. Errors are
`application/problem+json` (RFC 9457) with `errors[].field` naming each failing field.

Bodies are JSON (UTF-8) of at most 1 MiB (413 beyond), with values of the declared types (no
coercion: `false` is not a number). A body that cannot be read is 422 `Malformed body`, field
`body`, with the error's line and column; strings must be UTF-8 text (no lone surrogates) and
numbers ones DynamoDB holds (38 significant digits, magnitude 1E-130 to 9.99E+125; no NaN).
"""


@cache
def _default_stores() -> Stores:
    """Built once per process by the AWS composition root (jobsched/adapters/aws/wiring.py)."""
    from jobsched.adapters.aws.wiring import api_stores
    from jobsched.settings import get_settings

    return api_stores(get_settings())


def scheduler_router() -> APIRouter:
    router = APIRouter(responses=problems.responses(401, 403, 404, 409, 413, 422, 503))
    for module in SCHEDULER_MODULES:
        router.include_router(module.router)
    return router


def aliases() -> tuple[Alias, ...]:
    """Every prefix but the first of each API, served by the first's routes."""
    v2 = served_segments(module.router for module in SCHEDULER_MODULES)
    v1 = served_segments(LEGACY_ROUTERS)
    return (
        *(Alias(prefix, PREFIXES[0], v2) for prefix in PREFIXES[1:]),
        *(Alias(prefix, legacy.PREFIXES[0], v1) for prefix in legacy.PREFIXES[1:]),
    )


class SchedulerApp(FastAPI):
    """The app whose OpenAPI document lists the alias paths too, built at the first request
    for it (not at import: the cold start) and kept."""

    aliases: tuple[Alias, ...] = ()

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = with_aliases(super().openapi(), self.aliases)
        return self.openapi_schema


def create_app(
    stores: Stores | None = None,
    public_docs: bool | None = None,
    max_body_bytes: int | None = None,
    slots: int | None = None,
    ui_live: str | None = None,
) -> SchedulerApp:
    """`stores` is built from the settings on first use when not given (the Lambda case), as
    are `public_docs` and `max_body_bytes` (JOBSCHED_MAX_BODY_BYTES) when None.

    The OpenAPI document needs a read key unless docs are public (JOBSCHED_PUBLIC_DOCS, set by
    the local runtime), in which case /docs serves Swagger UI too.

    `ui_live` is how the dashboard's pages hear of changes: "sse" (a server that streams, the
    local runtime) or None, polling with ETags (Lambda, whose responses are buffered).
    """
    app = SchedulerApp(
        title="jobsched",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_url=None,  # served by api.docs, behind a key unless docs are public
        docs_url=None,
        redoc_url=None,
    )
    app.state.public_docs = public_docs  # None: the settings decide, at the first request
    app.state.max_body_bytes = max_body_bytes
    app.state.slots = slots  # None: JOBSCHED_SLOTS, read at the first ETA
    app.state.ui_live = ui_live
    provider: Callable[[], Stores] = (lambda: stores) if stores is not None else _default_stores
    app.state.stores = provider
    app.include_router(docs.router)
    problems.install(app)
    app.add_middleware(RequestGuard)  # the key, then the body, before any route

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness, without authentication; touches no store."""
        return {"status": "ok"}

    app.include_router(scheduler_router(), prefix=PREFIXES[0])
    from api.ui import web
    from api.ui.pages import ui_router

    app.include_router(ui_router())
    web.install(app)
    for router in LEGACY_ROUTERS:
        app.include_router(router, prefix=legacy.PREFIXES[0])
    app.aliases = aliases()
    app.add_middleware(ResolveAliases, aliases=app.aliases)  # outside the guard: it sees them
    return app
