"""API keys over HTTP (/keys): who am I, list, create (the secret shown once) and revoke, on
both stores and under both prefixes."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from jobsched.constants import MAX_KEY_NAME_LENGTH
from jobsched.jobs.keys import hash_secret, mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem

RECORD_FIELDS = {"key_id", "name", "scopes", "created_at", "revoked_at"}


@pytest.fixture
def anonymous(stores: Stores) -> TestClient:
    return TestClient(create_app(stores), raise_server_exceptions=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(client: TestClient) -> str:
    return str(client.headers["Authorization"]).removeprefix("Bearer ")


def create(client: TestClient, name: str = "ci", scopes: list[str] | None = None) -> Any:
    body = {"name": name, "scopes": scopes or ["read"]}
    response = client.post(f"{V2}/keys", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def me(client: TestClient) -> Any:
    response = client.get(f"{V2}/keys/me")
    assert response.status_code == 200, response.text
    return response.json()


# --- GET /keys/me -------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", list(Scope))
def test_any_key_may_ask_who_it_is(stores: Stores, anonymous: TestClient, scope: Scope) -> None:
    minted = mint_key(stores.keys, f"only-{scope.value}", [scope])

    response = anonymous.get(f"{V2}/keys/me", headers=bearer(minted.secret))

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == RECORD_FIELDS
    assert body["key_id"] == minted.record.key_id
    assert body["name"] == f"only-{scope.value}"
    assert body["scopes"] == [scope.value]
    assert body["created_at"].endswith("Z")
    assert body["revoked_at"] is None


def test_who_am_i_needs_a_key_and_takes_no_query(anonymous: TestClient, reader: TestClient) -> None:
    assert_problem(anonymous.get(f"{V2}/keys/me"), 401)
    assert_problem(reader.get(f"{V2}/keys/me", params={"verbose": "1"}), 422, "query.verbose")


# --- scopes -------------------------------------------------------------------------------------


def test_only_admin_keys_list_create_and_revoke(
    client: TestClient, reader: TestClient, writer: TestClient, anonymous: TestClient
) -> None:
    target = create(client, "target")["key_id"]
    calls = [
        ("GET", f"{V2}/keys", None),
        ("POST", f"{V2}/keys", {"name": "x", "scopes": ["read"]}),
        ("POST", f"{V2}/keys/{target}/revoke", None),
    ]
    for method, path, body in calls:
        for lesser in (reader, writer):
            forbidden = assert_problem(lesser.request(method, path, json=body), 403)
            assert "'admin'" in forbidden["detail"]
        assert_problem(anonymous.request(method, path, json=body), 401)
    # nothing of that was done: no key made, none revoked
    items = client.get(f"{V2}/keys").json()["items"]
    assert [key["name"] for key in items] == ["target", "test", "test", "test"]  # + fixtures'
    assert all(key["revoked_at"] is None for key in items)


# --- POST /keys ---------------------------------------------------------------------------------


def test_a_created_key_shows_its_secret_once_and_works_for_its_scopes(
    client: TestClient, anonymous: TestClient, stores: Stores
) -> None:
    response = client.post(f"{V2}/keys", json={"name": "dashboard", "scopes": ["read"]})

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert set(created) == RECORD_FIELDS | {"secret"}
    assert created["name"] == "dashboard"
    assert created["scopes"] == ["read"]
    assert created["revoked_at"] is None
    secret = created["secret"]
    assert secret.startswith(f"jsk_{created['key_id']}_")
    # stored as its hash only
    record = stores.keys.get(created["key_id"])
    assert record is not None
    assert record.key_hash == hash_secret(secret)
    # a bearer token for its scopes: reads, but no writes
    assert anonymous.get(f"{V2}/jobs", headers=bearer(secret)).status_code == 200
    assert me(TestClient(client.app, headers=bearer(secret)))["key_id"] == created["key_id"]
    denied = anonymous.post(f"{V2}/queue/pause", headers=bearer(secret))
    assert_problem(denied, 403)
    # never shown again: not in the list, not to the key itself
    listing = client.get(f"{V2}/keys")
    whoami = anonymous.get(f"{V2}/keys/me", headers=bearer(secret))
    for later in (listing, whoami):
        assert secret not in later.text
        assert secret.split("_", 2)[2] not in later.text
        assert record.key_hash not in later.text


def test_an_admin_key_made_over_http_can_make_and_revoke_keys(
    client: TestClient, anonymous: TestClient
) -> None:
    admin = create(client, "second admin", ["admin"])["secret"]
    other = TestClient(client.app, headers=bearer(admin), raise_server_exceptions=False)

    made = create(other, "made by the second", ["write", "read"])

    assert made["scopes"] == ["write", "read"]
    revoked = other.post(f"{V2}/keys/{made['key_id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert_problem(anonymous.get(f"{V2}/jobs", headers=bearer(made["secret"])), 401)


def test_a_create_is_not_idempotent(client: TestClient) -> None:
    """No Idempotency-Key: a replay would have to show the secret again (docs/decisions.md)."""
    headers = {"Idempotency-Key": "same-key-twice"}
    body = {"name": "retried", "scopes": ["read"]}

    first = client.post(f"{V2}/keys", json=body, headers=headers)
    second = client.post(f"{V2}/keys", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json()["key_id"] != second.json()["key_id"]
    assert "idempotent-replayed" not in second.headers
    operation = client.get("/openapi.json").json()["paths"][f"{V2}/keys"]["post"]
    assert "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", [])}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["root"]}, "scopes.0"),
        ({"name": "x", "scopes": ["read", "read"]}, "scopes"),
        ({"name": "x", "scopes": ["read", "write", "admin", "read"]}, "scopes"),
        ({"name": "x", "scopes": "read"}, "scopes"),
        ({"name": "x", "scopes": [1]}, "scopes.0"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "n" * (MAX_KEY_NAME_LENGTH + 1), "scopes": ["read"]}, "name"),
        ({"name": 5, "scopes": ["read"]}, "name"),
        ({"scopes": ["read"]}, "name"),
        ({"name": "x"}, "scopes"),
        ({"name": "x", "scopes": ["read"], "secret": "jsk_mine_chosen"}, "secret"),
        ({"name": "x", "scopes": ["read"], "key_id": "mine"}, "key_id"),
    ],
)
def test_bad_bodies_are_422_and_make_no_key(
    client: TestClient, stores: Stores, body: dict[str, Any], field: str
) -> None:
    before = len(stores.keys.list_all())

    assert_problem(client.post(f"{V2}/keys", json=body), 422, field)

    assert len(stores.keys.list_all()) == before


def test_a_name_of_the_longest_length_is_taken(client: TestClient) -> None:
    assert create(client, "n" * MAX_KEY_NAME_LENGTH)["name"] == "n" * MAX_KEY_NAME_LENGTH


def test_an_empty_body_is_malformed(client: TestClient) -> None:
    response = client.post(f"{V2}/keys", content=b"", headers={"content-type": "application/json"})
    assert assert_problem(response, 422, "body")["title"] == "Malformed body"


# --- GET /keys ----------------------------------------------------------------------------------


def test_the_list_is_every_key_newest_first_without_secrets(
    client: TestClient, stores: Stores
) -> None:
    first = create(client, "first")
    second = create(client, "second", ["write"])
    client.post(f"{V2}/keys/{first['key_id']}/revoke")

    response = client.get(f"{V2}/keys")

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    items = page["items"]
    assert [item["key_id"] for item in items] == [
        second["key_id"],
        first["key_id"],
        me(client)["key_id"],  # the fixture's, made before them
    ]
    for item in items:
        assert set(item) == RECORD_FIELDS
    assert items[0]["scopes"] == ["write"]
    assert items[0]["revoked_at"] is None
    assert items[1]["revoked_at"] is not None
    stored = {key.key_hash for key in stores.keys.list_all()}
    for text in (first["secret"], second["secret"], *stored):
        assert text not in response.text


def test_the_list_takes_no_query(client: TestClient) -> None:
    assert_problem(client.get(f"{V2}/keys", params={"limit": "5"}), 422, "query.limit")


# --- POST /keys/{key_id}/revoke -----------------------------------------------------------------


def test_a_revoked_key_is_refused_at_once(client: TestClient, anonymous: TestClient) -> None:
    made = create(client, "soon gone", ["write"])
    headers = bearer(made["secret"])
    assert anonymous.get(f"{V2}/keys/me", headers=headers).status_code == 200

    response = client.post(f"{V2}/keys/{made['key_id']}/revoke")

    assert response.status_code == 200, response.text
    revoked = response.json()
    assert set(revoked) == RECORD_FIELDS
    assert revoked["key_id"] == made["key_id"]
    assert revoked["name"] == "soon gone"
    assert revoked["revoked_at"] is not None
    for path in ("/keys/me", "/jobs"):
        refused = assert_problem(anonymous.get(f"{V2}{path}", headers=headers), 401)
        assert refused["title"] == "Unauthorized"


def test_revoking_twice_answers_the_same_record(client: TestClient) -> None:
    key_id = create(client, "twice")["key_id"]

    first = client.post(f"{V2}/keys/{key_id}/revoke")
    second = client.post(f"{V2}/keys/{key_id}/revoke")

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()  # the first revocation's time is kept


def test_an_unknown_key_is_404(client: TestClient) -> None:
    body = assert_problem(client.post(f"{V2}/keys/nosuchkey/revoke"), 404)
    assert "nosuchkey" in body["detail"]
    assert_problem(client.post(f"{V2}/keys/{'k' * 129}/revoke"), 422, "path.key_id")


def test_a_key_cannot_revoke_itself(client: TestClient) -> None:
    own = me(client)["key_id"]

    body = assert_problem(client.post(f"{V2}/keys/{own}/revoke"), 409)

    assert "cannot revoke itself" in body["detail"]
    assert me(client)["revoked_at"] is None  # still works
    # another admin key may revoke it
    other = create(client, "rescue", ["admin"])["secret"]
    rescuer = TestClient(client.app, headers=bearer(other), raise_server_exceptions=False)
    assert rescuer.post(f"{V2}/keys/{own}/revoke").status_code == 200
    assert_problem(client.get(f"{V2}/keys/me"), 401)


# --- the alias ----------------------------------------------------------------------------------


def test_the_scheduler_prefix_serves_the_same_keys(
    client: TestClient, reader: TestClient, anonymous: TestClient
) -> None:
    made = client.post("/scheduler/keys", json={"name": "aliased", "scopes": ["read"]})
    assert made.status_code == 201, made.text
    key_id = made.json()["key_id"]

    assert key_id in [k["key_id"] for k in client.get(f"{V2}/keys").json()["items"]]
    assert client.get("/scheduler/keys").json() == client.get(f"{V2}/keys").json()
    assert reader.get("/scheduler/keys/me").json() == me(reader)
    assert_problem(reader.get("/scheduler/keys"), 403)
    assert_problem(anonymous.get("/scheduler/keys/me"), 401)
    assert client.post(f"/scheduler/keys/{key_id}/revoke").status_code == 200
    assert_problem(anonymous.get("/scheduler/keys/me", headers=bearer(made.json()["secret"])), 401)
    assert token_of(client) not in client.get("/scheduler/keys").text
