"""Authentication on every route, the one error body, and no 5xx whatever a client sends."""

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response

from api import legacy
from api.app import PREFIXES, create_app
from jobsched.jobs.keys import hash_secret, mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.api import (
    PROBLEM_JSON,
    V2,
    assert_problem,
    post_job,
)
from tests.support.content_samples import card_data

PARAM = re.compile(r"{(\w+)}")
V1 = "/api/v1"
# The junk sweeps cover the scheduler API and the legacy one; the same routes also answer
# under /scheduler and unprefixed.
SWEPT = (V2, V1)


def api_routes() -> list[tuple[str, str]]:
    """(method, path) of every API route but /health and /docs (a 404 unless docs are
    public), read from the app itself: its routes, each under its canonical prefix, and their
    paths under each alias prefix resolved to it before routing (api.aliases)."""
    app = create_app()  # builds no store until a request needs one
    try:  # FastAPI >= 0.16x keeps included routers nested; this flattens them with their prefix
        from fastapi.routing import iter_route_contexts

        found = [(c.original_route, c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:
        found = [(route, getattr(route, "path", ""), None) for route in app.routes]
    routes = [
        (method, path)
        for route, path, methods in found
        if isinstance(route, APIRoute)
        and path not in ("/health", "/docs")
        and not path.startswith("/ui")  # the dashboard's session (tests/integration/ui)
        for method in sorted(methods or route.methods)
    ]
    aliased = [
        (method, alias.client_path(path)) for alias in app.aliases for method, path in routes
    ]
    routes += [(method, path) for method, path in aliased if path is not None]
    assert len(routes) > 40
    return routes


ROUTES = api_routes()


def fill(path: str, ids: dict[str, str] | None = None) -> str:
    return PARAM.sub(lambda m: (ids or {}).get(m.group(1), f"dummy_{m.group(1)}"), path)


def call(client: TestClient, method: str, path: str, **kwargs: Any) -> Response:
    if method in {"POST", "PATCH", "PUT"} and "json" not in kwargs and "content" not in kwargs:
        kwargs["json"] = {}
    return client.request(method, path, **kwargs)


def assert_401(response: Response) -> None:
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["title"] == "Unauthorized"


@pytest.fixture
def anonymous(stores: Stores) -> TestClient:
    return TestClient(create_app(stores), raise_server_exceptions=False)


def bad_tokens(stores: Stores) -> Iterator[tuple[str, str]]:
    """(why, Authorization header) pairs that must all be refused."""
    real = mint_key(stores.keys, "real", [Scope.ADMIN])
    revoked = mint_key(stores.keys, "gone", [Scope.ADMIN])
    stores.keys.revoke(revoked.record.key_id)
    yield "empty bearer", "Bearer "
    yield "no scheme", real.secret
    yield "basic", "Basic dXNlcjpwYXNz"
    yield "garbage", "Bearer garbage"
    yield "bad shape", "Bearer jsk_"
    yield "bad id", "Bearer jsk_ab!cd_secret"
    yield "unknown key", "Bearer jsk_0123456789ab_thisKeyWasNeverMinted"
    yield "wrong secret", f"Bearer jsk_{real.record.key_id}_notTheSecret"
    yield "the hash", f"Bearer {real.record.key_hash}"
    yield "revoked", f"Bearer {revoked.secret}"


# --- authentication -----------------------------------------------------------------------------


def test_every_route_needs_a_key(anonymous: TestClient) -> None:
    for method, path in ROUTES:
        assert_401(call(anonymous, method, fill(path)))


def sweep_cases(
    store_backend: str, number: int, kinds: int, variants: int
) -> list[tuple[int, int]]:
    """The cases (kind, variant) a sweep sends to its `number`th route on this store. The
    embedded store takes them all. The API refuses junk before the store, and alike
    over either, so DynamoDB takes a diagonal, shifted by the route's number: on every route,
    each kind and each variant still meet DynamoDB (a store-level 5xx there is still seen), but
    not each pair of them (docs/decisions.md)."""
    if store_backend == "sqlite":
        return [(kind, variant) for variant in range(variants) for kind in range(kinds)]
    return [(at % kinds, (at + number) % variants) for at in range(max(kinds, variants))]


def test_every_route_refuses_bad_keys(
    anonymous: TestClient, stores: Stores, store_backend: str
) -> None:
    tokens = list(bad_tokens(stores))
    checked = set()
    for number, (method, path) in enumerate(ROUTES):
        for turn, (why, header) in enumerate(tokens):
            # DynamoDB: one token per route, turning, so that each token meets many routes
            if store_backend != "sqlite" and turn != number % len(tokens):
                continue
            response = call(anonymous, method, fill(path), headers={"Authorization": header})
            assert response.status_code == 401, (why, method, path, response.text)
            assert_401(response)
            checked.add(why)
    assert checked == {why for why, _ in tokens}


def test_a_revoked_key_stops_working(stores: Stores, anonymous: TestClient) -> None:
    minted = mint_key(stores.keys, "soon-gone", [Scope.READ])
    headers = {"Authorization": f"Bearer {minted.secret}"}
    assert anonymous.get(f"{V2}/jobs", headers=headers).status_code == 200

    stores.keys.revoke(minted.record.key_id)

    assert_401(anonymous.get(f"{V2}/jobs", headers=headers))


def test_health_needs_no_key(anonymous: TestClient) -> None:
    response = anonymous.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_no_key_is_401_before_the_body_is_validated(anonymous: TestClient) -> None:
    """Field errors are for authenticated callers only."""
    response = anonymous.post(f"{V2}/jobs", json={"template_id": 5, "priority": "urgent"})
    assert_401(response)
    assert "errors" not in response.json()


def test_secrets_never_appear_in_responses(
    client: TestClient, reader: TestClient, stores: Stores, echo_template: str
) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    secret = token.split("_", 2)[2]  # the secret itself may hold "_"
    reader_token = reader.headers["Authorization"].removeprefix("Bearer ")
    forbidden = {
        token,
        secret,
        hash_secret(token),
        reader_token,
        reader_token.split("_", 2)[2],
        hash_secret(reader_token),
    }
    job_id = post_job(client)["job_id"]
    group_id = client.post(f"{V2}/groups", json={"jobs": [{"template_id": "echo"}]}).json()[
        "group_id"
    ]
    ids = {"job_id": job_id, "template_id": "echo", "group_id": group_id, "run_id": "run_x"}
    responses = [
        call(who, method, fill(path, ids)) for who in (reader, client) for method, path in ROUTES
    ]
    responses += [client.get("/openapi.json"), client.get("/health")]
    assert {r.status_code for r in responses} >= {200, 403, 404}
    for response in responses:
        text = response.text + json.dumps(dict(response.headers))
        leaked = [value for value in forbidden if value in text]
        assert not leaked, (response.request.method, response.request.url)


# --- prefixes and docs --------------------------------------------------------------------------


def test_the_same_routes_under_both_prefixes() -> None:
    by_prefix = {
        prefix: {
            (method, path.removeprefix(prefix))
            for method, path in ROUTES
            if path.startswith(prefix)
        }
        for prefix in PREFIXES
    }
    assert set(PREFIXES) == {"/api/v2", "/scheduler"}
    assert by_prefix["/api/v2"] == by_prefix["/scheduler"]
    # The legacy API (v1): the same routes unprefixed and under /api/v1.
    v1 = {(method, path.removeprefix("/api/v1")) for method, path in ROUTES if path.startswith(V1)}
    rest = [(m, path) for m, path in ROUTES if not path.startswith((*PREFIXES, V1))]
    assert legacy.PREFIXES == ("", V1)
    docs = {("GET", "/openapi.json"), ("GET", "/docs/migration.md")}
    assert {route for route in rest if route not in docs} == v1
    assert docs <= set(rest)  # each needs a key unless docs are public
    # the legacy job API and the direct story/research reads
    assert all(path.startswith(("/jobs", "/story", "/research")) for _, path in v1)
    assert len(by_prefix["/api/v2"]) * 2 + len(v1) * 2 == len(ROUTES) - len(docs)
    assert ("POST", "/jobs") in by_prefix["/api/v2"]


def test_both_prefixes_serve_the_same_data(client: TestClient, echo_template: str) -> None:
    created = client.post("/scheduler/jobs", json={"template_id": "echo"})
    assert created.status_code == 201

    job = client.get(f"{V2}/jobs/{created.json()['job_id']}")

    assert job.status_code == 200
    assert client.get("/scheduler/queue").json()["items"][0]["job_id"] == job.json()["job_id"]


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    for path in ("/health", "/api/v2/jobs", "/scheduler/jobs", "/api/v2/queue/{job_id}/move"):
        assert path in document["paths"]
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    create_job = document["paths"]["/api/v2/jobs"]["post"]
    assert PROBLEM_JSON in create_job["responses"]["422"]["content"]
    body_ref = create_job["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert "schedule_id" not in body_schema["properties"]  # set by schedules only

    # By default (the Lambda) the document needs a key and there is no Swagger UI page.
    anonymous = TestClient(client.app, raise_server_exceptions=False)
    assert anonymous.get("/openapi.json").status_code == 401
    assert client.get("/docs").status_code == 404


def test_public_docs_serve_swagger_ui_without_a_key(stores: Stores) -> None:
    anonymous = TestClient(create_app(stores, public_docs=True))
    assert anonymous.get("/openapi.json").status_code == 200
    docs = anonymous.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]
    assert "/openapi.json" in docs.text


def test_the_migration_guide_is_served_where_the_link_header_points(
    client: TestClient, stores: Stores
) -> None:
    link = client.get("/jobs").headers["link"]  # the default: </docs/migration.md>
    path = link.split(">", 1)[0].removeprefix("<")
    anonymous = TestClient(client.app, raise_server_exceptions=False)

    guide = client.get(path)

    assert guide.status_code == 200
    assert guide.headers["content-type"].startswith("text/markdown")
    assert guide.text.startswith("# Migrating from the legacy job API (v1)")
    assert anonymous.get(path).status_code == 401  # a key, as for /openapi.json
    assert TestClient(create_app(stores, public_docs=True)).get(path).status_code == 200


def test_the_lambda_asset_ships_the_migration_guide() -> None:
    from infra.packaging import REPO_ROOT, source_files

    assert Path("docs/migration.md") in source_files(REPO_ROOT)


# --- the error body -----------------------------------------------------------------------------


def test_unknown_route_is_a_404_problem(client: TestClient) -> None:
    for path in ("/nope", f"{V2}/nope", "/api/v3/jobs", f"{V2}/jobs/a/b/c"):
        body = assert_problem(client.get(path), 404)
        assert body["title"] == "Not found"


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.delete(f"{V2}/jobs")
    body = assert_problem(response, 405)
    assert body["title"] == "Method not allowed"
    assert response.headers["allow"]
    assert_problem(client.put(f"{V2}/queue/stats"), 405)
    assert_problem(client.get(f"{V2}/queue/pause"), 405)


def test_every_client_error_is_a_problem_body(
    client: TestClient, anonymous: TestClient, echo_template: str
) -> None:
    job_id = post_job(client)["job_id"]
    client.post(f"{V2}/jobs/{job_id}/cancel")
    errors = {
        401: anonymous.get(f"{V2}/jobs"),
        404: client.get(f"{V2}/jobs/job_missing"),
        409: client.post(f"{V2}/jobs/{job_id}/cancel"),
        422: client.post(f"{V2}/jobs", json={"template_id": "echo", "priority": "urgent"}),
    }
    for status, response in errors.items():
        body = assert_problem(response, status)
        assert body["type"] == "about:blank"
        assert isinstance(body["title"], str)
        assert body["title"]
    problem = errors[422].json()
    assert [error["field"] for error in problem["errors"]] == ["priority"]
    assert "urgent" in problem["errors"][0]["message"]


def test_forbidden_is_a_403_problem(reader: TestClient) -> None:
    body = assert_problem(reader.post(f"{V2}/queue/pause"), 403)
    assert body["title"] == "Forbidden"


def test_malformed_json_is_422(client: TestClient, echo_template: str) -> None:
    for raw in (b"{not json", b'{"template_id": "echo",}', b"", b"\xff\xfe", b"nul"):
        response = client.post(
            f"{V2}/jobs", content=raw, headers={"content-type": "application/json"}
        )
        assert_problem(response, 422)
    assert client.get(f"{V2}/jobs").json()["items"] == []


def test_a_non_json_body_is_4xx(client: TestClient, echo_template: str) -> None:
    response = client.post(
        f"{V2}/jobs", content=b"template_id=echo", headers={"content-type": "text/plain"}
    )
    assert_problem(response, 422)
    deep = b"[" * 100_000 + b"]" * 100_000
    response = client.post(f"{V2}/jobs", content=deep, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM_JSON


def cursor(key: Any, offset: Any = 0) -> str:
    raw = json.dumps({"k": key, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED_CURSORS = [
    "!!!",
    "e30",  # {}
    cursor([]),
    cursor({"pk": "x"}),
    cursor({"pk": {"S": "x"}}),
    cursor({"template_id": {"N": "5"}, "kind": {"S": "TEMPLATE"}}),
    cursor({"a": {"Q": 1}}),
    cursor({"pk": {"S": "x"}}, offset=-1),
    cursor({"pk": {"S": "x"}}, offset="many"),
]


def test_forged_cursors_are_422_never_5xx(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    post_job(client)
    post_job(client)
    lists = [
        f"{V2}/jobs",
        f"{V2}/queue",
        f"{V2}/templates",
        f"{V2}/runs",
        f"{V2}/groups",
        f"{V2}/jobs/{post_job(client)['job_id']}/runs",
    ]
    for path in lists:
        for forged in FORGED_CURSORS:
            response = client.get(path, params={"cursor": forged, "limit": 1})
            assert_problem(response, 422, field="cursor")
    # a real cursor of the queue is followed by the queue and refused by the other lists
    queue_cursor = client.get(f"{V2}/queue", params={"limit": 1}).json()["next_cursor"]
    assert queue_cursor
    assert client.get(f"{V2}/queue", params={"cursor": queue_cursor}).status_code == 200
    for path in lists[2:]:
        assert_problem(client.get(path, params={"cursor": queue_cursor}), 422, field="cursor")
    # a real cursor of one list is refused by another
    jobs_cursor = client.get(f"{V2}/jobs", params={"limit": 1}).json()["next_cursor"]
    assert jobs_cursor
    for path in (f"{V2}/templates", f"{V2}/queue", f"{V2}/runs"):
        assert_problem(client.get(path, params={"cursor": jobs_cursor}), 422, field="cursor")


# --- the junk sweep -----------------------------------------------------------------------------

JUNK: list[Any] = [
    None,
    True,
    -1,
    0,
    2**64,
    1.5e308,
    "",
    "x" * 100_000,
    "\u0000\ud7ff💥",
    [],
    [None, {"a": []}],
    {},
    {"a": {"b": [1, {"c": None}]}, "": 0},
    json.loads("[" * 70 + "]" * 70),
    {"$ref": "#/definitions/nope"},
]

# A plausible body per route, so that junk in one field reaches deeper validation.
BASES: dict[str, dict[str, Any]] = {
    "POST /templates": {"template_id": "junk", "name": "n", "workload": "echo"},
    "POST /jobs": {"template_id": "echo"},
    "POST /groups": {"jobs": [{"template_id": "echo"}]},
    "POST /queue/{job_id}/move": {"position": 1},
    "POST /queue/{job_id}/priority": {"priority": "high"},
    "POST /queue/reorder": {"job_ids": ["{job_id}"]},
    "POST /schedules": {"name": "n", "template_id": "echo", "expression": "rate(5 minutes)"},
    "POST /schedules/lint": {"name": "n", "template_id": "echo", "expression": "rate(5 minutes)"},
    "POST /keys": {"name": "junk", "scopes": ["read"]},
    "POST /jobs/story/trigger": {"job_type": "echo"},
    "POST /jobs/research/trigger": {"job_type": "echo"},
    "POST /jobs/batch/trigger": {"jobs": [{"job_type": "echo"}]},
    "POST /research/dedup": {"cards": [card_data()]},
    "POST /research/matching-templates": {"card": card_data()},
}


def body_fields(document: dict[str, Any], method: str, path: str) -> list[str]:
    operation = document["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return []
    schema = content["schema"]  # an optional body is anyOf [the model, null]
    ref = schema.get("$ref") or next(
        (s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s), None
    )
    if ref is None:  # a free-form object (POST /research/validate): junk whole bodies only
        return []
    ref = ref.rsplit("/", 1)[1]
    return list(document["components"]["schemas"][ref]["properties"])


def test_junk_bodies_never_cause_a_5xx(
    client: TestClient, echo_template: str, store_backend: str
) -> None:
    job_id = post_job(client)["job_id"]
    other_id = post_job(client)["job_id"]
    document = client.get("/openapi.json").json()
    # cancel routes get dummy ids so the sweep keeps its queued jobs
    ids = {"job_id": job_id, "template_id": "echo", "group_id": "grp_dummy"}
    sweep = [
        (method, path)
        for method, path in ROUTES
        if method in {"POST", "PATCH"} and path.startswith(SWEPT) and not path.endswith("/cancel")
    ]
    failures = []
    for number, (method, path) in enumerate(sweep):
        url = fill(path, ids)
        name = f"{method} {path.removeprefix(V2).removeprefix(V1)}"
        base = json.loads(json.dumps(BASES.get(name, {})).replace("{job_id}", other_id))
        fields = body_fields(document, method, path)
        variants: list[str | None] = [None, *fields]  # the junk as the body, or in one field
        bodies = [
            JUNK[kind] if variants[at] is None else {**base, str(variants[at]): JUNK[kind]}
            for kind, at in sweep_cases(store_backend, number, len(JUNK), len(variants))
        ]
        for body in bodies:
            response = client.request(method, url, json=body)
            if response.status_code >= 500:
                failures.append((name, json.dumps(body)[:200], response.status_code))
            elif response.status_code >= 400:
                assert response.headers["content-type"] == PROBLEM_JSON
    assert not failures


def test_junk_queries_never_cause_a_5xx(client: TestClient, store_backend: str) -> None:
    junk = ["", "-1", "0", "x" * 5000, "1e9", "\u0000", "99999999999999999999999", "null"]
    gets = [path for method, path in ROUTES if method == "GET" and path.startswith(SWEPT)]
    names = ["limit", "cursor", "status", "template_id", "group_id", "job_id", "since", "until"]
    for number, path in enumerate(gets):
        for kind, at in sweep_cases(store_backend, number, len(junk), len(names)):
            name, value = names[at], junk[kind]
            response = client.get(fill(path), params={name: value})
            assert response.status_code < 500, (path, name, value, response.text)


def test_unknown_query_parameters_401_first_then_422_on_v2_and_pass_on_legacy(
    client: TestClient, stores: Stores
) -> None:
    anonymous = TestClient(create_app(stores))
    assert_problem(anonymous.get(f"{V2}/jobs", params={"bogus": "1"}), 401)
    assert_problem(client.get(f"{V2}/jobs", params={"bogus": "1"}), 422, "query.bogus")
    assert client.get(f"{V2}/jobs", params={"limit": 1}).status_code == 200
    assert client.get("/jobs", params={"bogus": "1"}).status_code == 200  # old clients' extras
