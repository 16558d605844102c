"""The app factory: the scheduler API under /api/v2 and /scheduler, /health open to all."""

from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import APIRouter, FastAPI

from api import problems
from api.deps import CanRead
from api.routers import groups, jobs, queue, runs, templates
from jobsched.ports import Stores
from jobsched.settings import get_settings

PREFIXES = ("/api/v2", "/scheduler")  # spec: Option A path versioning, and the phase-1 prefix

DESCRIPTION = """\
Queue, order, schedule, observe and cancel long container jobs.

Every route but `/health` needs `Authorization: Bearer <API key>`. Errors are
`application/problem+json` (RFC 9457) with `errors[].field` naming each failing field.
"""


@cache
def _default_stores() -> Stores:
    from jobsched.adapters.dynamodb import build_stores

    return build_stores(get_settings())


def scheduler_router() -> APIRouter:
    router = APIRouter(
        responses={code: problems.PROBLEM_SCHEMA for code in (401, 403, 404, 409, 422)}
    )
    for module in (templates, jobs, queue, runs, groups):
        router.include_router(module.router)
    return router


def create_app(stores: Stores | None = None, public_docs: bool | None = None) -> FastAPI:
    """`stores` is built from the settings on first use when not given (the Lambda case).

    The OpenAPI document needs a read key unless docs are public (JOBSCHED_PUBLIC_DOCS, set by
    the local runtime), in which case /docs serves Swagger UI too.
    """
    public = get_settings().public_docs if public_docs is None else public_docs
    app = FastAPI(
        title="jobsched",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_url="/openapi.json" if public else None,
        docs_url="/docs" if public else None,
        redoc_url=None,
    )
    if not public:

        @app.get("/openapi.json", include_in_schema=False, dependencies=[CanRead])
        def openapi() -> dict[str, Any]:
            return app.openapi()

    provider: Callable[[], Stores] = (lambda: stores) if stores is not None else _default_stores
    app.state.stores = provider
    problems.install(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness, without authentication; touches no store."""
        return {"status": "ok"}

    router = scheduler_router()
    for prefix in PREFIXES:
        app.include_router(router, prefix=prefix)
    return app
