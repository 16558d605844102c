"""The dashboard in process: a TestClient logged in with a key of given scopes."""

import re

from fastapi.testclient import TestClient

from jobsched.jobs.keys import mint_key
from jobsched.models import Scope
from jobsched.ports import Stores

CSRF_PATTERN = re.compile(r'"X-CSRF-Token": "([0-9a-f]{64})"')


def ui_client(stores: Stores, scopes: list[Scope], *, live: str | None = None) -> TestClient:
    """A browser-like client of /ui with a session for a new key of `scopes` (cookies kept)."""
    from api.app import create_app

    minted = mint_key(stores.keys, f"ui-{'-'.join(scopes)}", scopes)
    client = TestClient(
        create_app(stores, ui_live=live), raise_server_exceptions=False, follow_redirects=False
    )
    response = client.post("/ui/login", data={"key": minted.secret, "next": "/ui/"})
    assert response.status_code == 303, response.text
    return client


def csrf_of(html: str) -> str:
    found = CSRF_PATTERN.search(html)
    assert found, "the page carries no write token"
    return found.group(1)


def write_headers(client: TestClient, page: str = "/ui/") -> dict[str, str]:
    """What the dashboard's own script sends with a write: the token and htmx's marker."""
    token = csrf_of(client.get(page).text)
    return {"X-CSRF-Token": token, "HX-Request": "true", "Sec-Fetch-Site": "same-origin"}
