"""/openapi.json and /docs. Public only when configured (the local runtime); otherwise the
document needs a read key and there is no Swagger UI page. Settings are read at the first
request, not at import, to keep pydantic-settings out of the Lambda's cold start."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials

from api.deps import StoresDep, bearer
from jobsched.errors import NotFoundError
from jobsched.jobs.keys import authenticate, require_scope
from jobsched.models import Scope

router = APIRouter(include_in_schema=False)


def docs_are_public(request: Request) -> bool:
    public: bool | None = request.app.state.public_docs
    if public is None:
        from jobsched.settings import get_settings

        public = get_settings().public_docs
    return public


@router.get("/openapi.json")
def openapi(
    request: Request,
    stores: StoresDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> dict[str, Any]:
    if not docs_are_public(request):
        key = authenticate(stores.keys, credentials.credentials if credentials else None)
        require_scope(key, Scope.READ)
    document: dict[str, Any] = request.app.openapi()
    return document


MIGRATION_GUIDE = Path(__file__).resolve().parent.parent / "docs" / "migration.md"


@router.get("/docs/migration.md")
def migration_guide(
    request: Request,
    stores: StoresDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> PlainTextResponse:
    """The v1 -> v2 migration guide, where every legacy response's Link header points by
    default. Needs a read key unless the docs are public, as /openapi.json does."""
    if not docs_are_public(request):
        key = authenticate(stores.keys, credentials.credentials if credentials else None)
        require_scope(key, Scope.READ)
    if not MIGRATION_GUIDE.is_file():
        raise NotFoundError("the migration guide is not shipped with this deployment")
    text = MIGRATION_GUIDE.read_text(encoding="utf-8")
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    if not docs_are_public(request):
        raise NotFoundError("API docs are not public here; GET /openapi.json with a key")
    return get_swagger_ui_html(openapi_url="/openapi.json", title="jobsched API")
