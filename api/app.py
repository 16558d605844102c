"""The app factory: the scheduler API under /api/v2 and /scheduler, the legacy job API (v1)
unprefixed and under /api/v1, /health open to all."""

from collections.abc import Callable
from functools import cache

from fastapi import APIRouter, FastAPI

from api import docs, legacy, problems
from api.guard import RequestGuard
from api.routers import (
    content,
    direct,
    groups,
    jobs,
    queue,
    reservations,
    runs,
    schedules,
    templates,
)
from jobsched.ports import Stores

PREFIXES = ("/api/v2", "/scheduler")  # spec: Option A path versioning, and the phase-1 prefix

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
    for module in (templates, jobs, queue, runs, groups, reservations, schedules):
        router.include_router(module.router)
    return router


def create_app(
    stores: Stores | None = None,
    public_docs: bool | None = None,
    max_body_bytes: int | None = None,
) -> FastAPI:
    """`stores` is built from the settings on first use when not given (the Lambda case), as
    are `public_docs` and `max_body_bytes` (JOBSCHED_MAX_BODY_BYTES) when None.

    The OpenAPI document needs a read key unless docs are public (JOBSCHED_PUBLIC_DOCS, set by
    the local runtime), in which case /docs serves Swagger UI too.
    """
    app = FastAPI(
        title="jobsched",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_url=None,  # served by api.docs, behind a key unless docs are public
        docs_url=None,
        redoc_url=None,
    )
    app.state.public_docs = public_docs  # None: the settings decide, at the first request
    app.state.max_body_bytes = max_body_bytes
    provider: Callable[[], Stores] = (lambda: stores) if stores is not None else _default_stores
    app.state.stores = provider
    app.include_router(docs.router)
    problems.install(app)
    app.add_middleware(RequestGuard)  # the key, then the body, before any route

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness, without authentication; touches no store."""
        return {"status": "ok"}

    router = scheduler_router()
    for prefix in PREFIXES:
        app.include_router(router, prefix=prefix)
    for prefix in legacy.PREFIXES:
        app.include_router(legacy.router, prefix=prefix)
        app.include_router(content.router, prefix=prefix)  # the direct reads: not deprecated
        app.include_router(direct.router, prefix=prefix)  # next-slot calls: not deprecated
    return app
