"""/ui/keys: the admin's API keys: list, create (the secret shown once), revoke.

Reads and writes go through the API's /keys routes, which are admin-only: a key without the
admin scope gets the API's own 403 here too."""

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.ui.render import fragment, page
from api.ui.web import SessionDep

router = APIRouter(prefix="/ui", include_in_schema=False)

SCOPES = ("read", "write", "admin")


@router.get("/keys", response_class=HTMLResponse)
async def keys_page(request: Request, session: SessionDep) -> HTMLResponse:
    keys = (await session.api.get("/keys"))["items"]
    return page(request, "keys.html", section="keys", keys=keys, scopes=SCOPES)


@router.post("/keys", response_class=HTMLResponse)
async def create_key(request: Request, session: SessionDep) -> HTMLResponse:
    """The new key's secret, in this answer only (no-store), and the list with it."""
    form = await request.form()
    name = str(form.get("name") or "").strip()
    # One scope chosen implies the lesser ones (admin > write > read); the API checks it.
    scope = str(form.get("scope") or "")
    created = await session.api.post("/keys", json={"name": name, "scopes": [scope]})
    keys = (await session.api.get("/keys"))["items"]
    return fragment(request, "partials/keys_created.html", created=created, keys=keys)


@router.post("/keys/{key_id}/revoke", response_class=HTMLResponse)
async def revoke_key(key_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    revoked = await session.api.post(f"/keys/{quote(key_id, safe='')}/revoke")
    keys = (await session.api.get("/keys"))["items"]
    return fragment(request, "partials/keys_revoked.html", revoked=revoked, keys=keys)
