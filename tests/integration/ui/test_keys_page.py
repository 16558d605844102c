"""The keys page in process, on both stores: an admin lists, creates (the secret shown once)
and revokes keys; the API's refusals (self-revocation, a non-admin) are shown."""

import re

from fastapi.testclient import TestClient

from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.api import V2
from tests.support.ui import ui_client, write_headers

SECRET = re.compile(r'data-testid="key-secret">(jsk_[^<]+)</code>')


def keys(client: TestClient) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = client.get(f"{V2}/keys").json()["items"]
    return listed


def test_an_admin_lists_every_key(admin_ui: TestClient, client: TestClient) -> None:
    html = admin_ui.get("/ui/keys").text
    assert 'aria-current="page">Keys' in html
    for key in keys(client):
        assert f'data-key-id="{key["key_id"]}"' in html
        assert str(key["name"]) in html
    assert "jsk_" not in html  # ids, never a secret


def test_a_new_keys_secret_is_shown_once_and_never_again(
    admin_ui: TestClient, client: TestClient
) -> None:
    response = admin_ui.post(
        "/ui/keys",
        data={"name": "ci", "scope": "write"},
        headers=write_headers(admin_ui, "/ui/keys"),
    )
    assert response.status_code == 200, response.text
    assert "X-Refused" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    found = SECRET.search(response.text)
    assert found
    secret = found.group(1)
    created = next(k for k in keys(client) if k["name"] == "ci")
    assert created["scopes"] == ["write"]
    assert f'data-key-id="{created["key_id"]}"' in response.text  # the list, with it
    assert secret.startswith(f"jsk_{created['key_id']}_")
    # The secret works, and is nowhere once the page is loaded again.
    assert (
        client.get(f"{V2}/keys/me", headers={"Authorization": f"Bearer {secret}"}).json()["name"]
        == "ci"
    )
    again = admin_ui.get("/ui/keys").text
    assert secret not in again
    assert f'data-key-id="{created["key_id"]}"' in again


def test_a_bad_key_request_is_the_apis_422(admin_ui: TestClient) -> None:
    response = admin_ui.post(
        "/ui/keys", data={"name": "", "scope": "root"}, headers=write_headers(admin_ui, "/ui/keys")
    )
    assert response.headers["X-Refused"] == "422"
    assert "jsk_" not in response.text


def test_an_admin_revokes_a_key_but_not_its_own(
    admin_ui: TestClient, client: TestClient, stores: Stores
) -> None:
    other = client.post(f"{V2}/keys", json={"name": "old", "scopes": ["read"]}).json()
    headers = write_headers(admin_ui, "/ui/keys")
    response = admin_ui.post(f"/ui/keys/{other['key_id']}/revoke", headers=headers)
    assert response.status_code == 200, response.text
    assert "Key old revoked." in response.text
    revoked = next(k for k in keys(client) if k["key_id"] == other["key_id"])
    assert revoked["revoked_at"] is not None
    assert (
        client.get(
            f"{V2}/keys/me", headers={"Authorization": f"Bearer {other['secret']}"}
        ).status_code
        == 401
    )
    own = next(k for k in keys(client) if k["name"] == "ui-admin")
    refused = admin_ui.post(f"/ui/keys/{own['key_id']}/revoke", headers=headers)
    assert refused.headers["X-Refused"] == "409"
    assert "cannot revoke itself" in refused.text
    assert next(k for k in keys(client) if k["key_id"] == own["key_id"])["revoked_at"] is None


def test_a_write_key_gets_the_apis_403_and_no_keys_link(stores: Stores) -> None:
    writer = ui_client(stores, [Scope.WRITE])
    assert 'href="/ui/keys"' not in writer.get("/ui/").text
    page = writer.get("/ui/keys")
    assert page.status_code == 403
    assert "Keys" not in re.sub(r"<title>.*?</title>", "", page.text.split("<main", 1)[0])
    headers = write_headers(writer)
    created = writer.post("/ui/keys", data={"name": "x", "scope": "admin"}, headers=headers)
    assert created.headers["X-Refused"] == "403"


def test_a_reader_sees_no_keys_link(reader_ui: TestClient) -> None:
    assert 'href="/ui/keys"' not in reader_ui.get("/ui/").text
    assert reader_ui.get("/ui/keys").status_code == 403
