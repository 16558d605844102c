"""A corpus of client mistakes: each is a 4xx problem body, never a 5xx, and writes nothing.

Every case runs on both stores (the `stores` fixture).
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from jobsched.errors import UnavailableError
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem, post_template
from tests.support.content_samples import card_data

JSON = {"content-type": "application/json"}

# (raw body of POST /jobs, the field the 422 names)
UNSTORABLE_JOBS: list[tuple[bytes, str]] = [
    (b'{"template_id":"echo","params":{"message":"\\ud800"}}', "params.message"),
    (b'{"template_id":"echo","params":{"message":"a\\udfffb"}}', "params.message"),
    (b'{"template_id":"echo","params":{"\\ud800":"x"}}', "params.\\ud800"),
    (b'{"template_id":"echo\\ud800"}', "template_id"),
    (b'{"template_id":"echo","params":{"list":["ok","\\udc00"]}}', "params.list.1"),
    (b'{"template_id":"echo","params":{"message":NaN}}', "params.message"),
    (b'{"template_id":"echo","params":{"count":Infinity}}', "params.count"),
    (b'{"template_id":"echo","params":{"count":-Infinity}}', "params.count"),
    (b'{"template_id":"echo","params":{"count":1e-200}}', "params.count"),
    (b'{"template_id":"echo","params":{"count":1e999}}', "params.count"),
    (b'{"template_id":"echo","params":{"count":1e126}}', "params.count"),
    (b'{"template_id":"echo","params":{"count":' + b"9" * 39 + b"}}", "params.count"),
    (b'{"template_id":"echo","params":{"count":1' + b"0" * 200 + b"}}", "params.count"),
    (b'{"template_id":"echo","params":{"count":' + b"7" * 5000 + b"}}", "params.count"),
]


def post_raw(client: TestClient, path: str, raw: bytes, method: str = "POST") -> Any:
    return client.request(method, path, content=raw, headers=JSON)


def assert_nothing_written(client: TestClient) -> None:
    listed = client.get(f"{V2}/jobs")
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == []


@pytest.mark.parametrize(("raw", "field"), UNSTORABLE_JOBS)
def test_unstorable_values_are_422_naming_the_field(
    client: TestClient, echo_template: str, raw: bytes, field: str
) -> None:
    body = assert_problem(post_raw(client, f"{V2}/jobs", raw), 422, field=field)

    assert body["title"] == "Validation failed"
    assert_nothing_written(client)


def test_numbers_at_the_stored_bounds_are_kept(client: TestClient) -> None:
    post_template(client, "bounds", default_params={"tiny": 1e-130, "big": 9.99e125})
    raw = b'{"template_id":"edge","name":"E","workload":"echo","default_params":{"n":' + (
        b"9" * 38 + b"}}"
    )
    assert post_raw(client, f"{V2}/templates", raw).status_code == 201
    assert client.get(f"{V2}/templates/edge").json()["default_params"] == {"n": int("9" * 38)}
    assert client.get(f"{V2}/templates/bounds").json()["default_params"]["tiny"] == 1e-130


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("backoff", [b"1e-200", b"1e200", b"NaN"])
def test_a_retry_policy_takes_only_storable_numbers(
    client: TestClient, method: str, backoff: bytes
) -> None:
    post_template(client, "kept")
    retry = b'"retry":{"max_attempts":2,"backoff_seconds":' + backoff + b"}"
    if method == "POST":
        raw = b'{"template_id":"new","name":"N","workload":"echo",' + retry + b"}"
        path = f"{V2}/templates"
    else:
        raw = b"{" + retry + b"}"
        path = f"{V2}/templates/kept"

    assert_problem(post_raw(client, path, raw, method), 422, field="retry.backoff_seconds")

    templates = client.get(f"{V2}/templates").json()["items"]
    assert [(t["template_id"], t["version"]) for t in templates] == [("kept", 1)]


# --- bodies that cannot be read -----------------------------------------------------------------

MALFORMED: list[tuple[bytes, str]] = [
    (b'{"template_id": "echo",}', "line 1 column 24 (char 23)"),
    (b'{\n  "template_id": "echo"\n  "params": {}}', "line 3 column 3 (char 28)"),
    (b"{not json", "line 1 column 2 (char 1)"),
    (b"nul", "line 1 column 1 (char 0)"),
    (b'{"template_id": "\xff\xfe"}', "line 1 column 18 (byte 17)"),
    (b'\n{"template_id": "ech\xc3"}', "line 2 column 21 (byte 21)"),
    (b"[" * 100_000 + b"]" * 100_000, "line 1 column 65 (char 64)"),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, "line 1 column 321 (char 320)"),
]


@pytest.mark.parametrize(("raw", "where"), MALFORMED)
def test_an_unreadable_body_is_one_documented_422(
    client: TestClient, echo_template: str, raw: bytes, where: str
) -> None:
    body = assert_problem(post_raw(client, f"{V2}/jobs", raw), 422)

    assert body["title"] == "Malformed body"
    assert [e["field"] for e in body["errors"]] == ["body"]
    assert where in body["detail"], body
    assert_nothing_written(client)


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({}, "no Content-Type"),
        ({"content-type": "text/plain"}, "Content-Type text/plain"),
        (
            {"content-type": "application/x-www-form-urlencoded"},
            "application/x-www-form-urlencoded",
        ),
    ],
)
def test_json_sent_as_another_media_type_is_a_malformed_body(
    client: TestClient, echo_template: str, headers: dict[str, str], said: str
) -> None:
    raw = b'{"template_id":"echo","params":{"message":"\\ud800"}}'
    body = assert_problem(client.post(f"{V2}/jobs", content=raw, headers=headers), 422)

    assert body["title"] == "Malformed body"
    assert [e["field"] for e in body["errors"]] == ["body"]
    assert said in body["detail"], body
    assert "send JSON with Content-Type: application/json" in body["detail"]
    assert_nothing_written(client)


def test_an_empty_body_is_a_malformed_body(client: TestClient, echo_template: str) -> None:
    body = assert_problem(post_raw(client, f"{V2}/jobs", b""), 422)

    assert body["title"] == "Malformed body"
    assert body["errors"] == [
        {"field": "body", "message": "is empty; this endpoint takes a JSON body"}
    ]


def test_json_of_the_wrong_shape_is_still_a_field_problem(client: TestClient) -> None:
    body = assert_problem(post_raw(client, f"{V2}/jobs", b'["echo"]'), 422, "body")

    assert body["title"] == "Validation failed"


# --- the body limit, and authentication first ---------------------------------------------------


def test_a_body_over_the_limit_is_413(stores: Stores, client: TestClient) -> None:
    small = TestClient(create_app(stores, max_body_bytes=2048), raise_server_exceptions=False)
    small.headers["Authorization"] = client.headers["Authorization"]
    raw = b'{"template_id":"echo","params":{"message":"' + b"x" * 4096 + b'"}}'

    declared = post_raw(small, f"{V2}/jobs", raw)

    def chunks() -> Any:  # no Content-Length: counted as it streams
        yield raw[:1000]
        yield raw[1000:]

    streamed = small.post(f"{V2}/jobs", content=chunks(), headers=JSON)
    for response in (declared, streamed):
        body = assert_problem(response, 413)
        assert body["title"] == "Content too large"
    assert small.post(f"{V2}/jobs", content=iter([raw[:100]]), headers=JSON).status_code == 422
    assert_nothing_written(client)


def test_the_default_limit_is_one_mebibyte(client: TestClient, echo_template: str) -> None:
    raw = b'{"template_id":"echo","params":{"message":"' + b"x" * (1024 * 1024) + b'"}}'
    assert_problem(post_raw(client, f"{V2}/jobs", raw), 413)


@pytest.mark.parametrize("raw", [b"{not json", b'{"template_id":"\\ud800"}', b"x" * 2_000_000])
def test_no_key_is_401_whatever_the_body(stores: Stores, raw: bytes) -> None:
    anonymous = TestClient(create_app(stores), raise_server_exceptions=False)
    for method, path in [
        ("POST", f"{V2}/jobs"),
        ("POST", "/jobs/story/trigger"),
        ("PATCH", f"{V2}/templates/x"),
    ]:
        response = anonymous.request(method, path, content=iter([raw]), headers=JSON)
        body = assert_problem(response, 401)
        assert "errors" not in body


# --- strict types: no coercion in request bodies ------------------------------------------------

BASE_TEMPLATE = {"template_id": "t", "name": "T", "workload": "echo"}
WRONG_TYPES: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "POST",
        "/templates",
        {**BASE_TEMPLATE, "retry": {"backoff_seconds": False}},
        "retry.backoff_seconds",
    ),
    ("POST", "/templates", {**BASE_TEMPLATE, "retry": {"max_attempts": "2"}}, "retry.max_attempts"),
    ("POST", "/templates", {**BASE_TEMPLATE, "retry": {"max_attempts": 2.0}}, "retry.max_attempts"),
    ("POST", "/templates", {**BASE_TEMPLATE, "cpu": "1024"}, "cpu"),
    ("POST", "/templates", {**BASE_TEMPLATE, "name": 5}, "name"),
    ("PATCH", "/templates/echo", {"retry": {"backoff_seconds": True}}, "retry.backoff_seconds"),
    ("PATCH", "/templates/echo", {"timeout_seconds": "60"}, "timeout_seconds"),
    ("POST", "/jobs", {"template_id": "echo", "position": "1"}, "position"),
    ("POST", "/jobs", {"template_id": 5}, "template_id"),
    ("POST", "/groups", {"jobs": [{"template_id": "echo"}], "max_parallel": True}, "max_parallel"),
    ("POST", "/groups", {"jobs": [{"template_id": "echo"}], "webhook_url": 1}, "webhook_url"),
    (
        "POST",
        "/schedules",
        {"name": "s", "template_id": "echo", "expression": "rate(5 minutes)", "enabled": "no"},
        "enabled",
    ),
    ("POST", "/jobs/story/trigger", {"_scheduler": {"template_id": 5}}, "_scheduler.template_id"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_422(
    client: TestClient, echo_template: str, method: str, path: str, body: Any, field: str
) -> None:
    prefix = "" if path.startswith("/jobs/") else V2
    response = client.request(method, f"{prefix}{path}", json=body)

    assert_problem(response, 422, field=field)
    assert_nothing_written(client)
    assert client.get(f"{V2}/templates/echo").json()["version"] == 1


def test_json_strings_still_stand_for_enums_and_times(
    client: TestClient, echo_template: str
) -> None:
    group = {"mode": "sequential", "on_failure": "stop", "jobs": [{"template_id": "echo"}]}
    assert client.post(f"{V2}/groups", json=group).status_code == 201
    schedule = {
        "name": "s",
        "template_id": "echo",
        "expression": "rate(5 minutes)",
        "start_at": "2030-01-01T00:00:00Z",
        "overlap_policy": "skip",
    }
    assert client.post(f"{V2}/schedules", json=schedule).status_code == 201
    retry = {"retry": {"max_attempts": 3, "backoff_seconds": 5}}  # an int is a number
    assert client.patch(f"{V2}/templates/echo", json=retry).status_code == 200


@pytest.mark.parametrize("moment", [0, 1767225600, 0.5, "0", "1767225600", True])
def test_a_time_is_rfc3339_text_never_unix_seconds(
    client: TestClient, echo_template: str, moment: Any
) -> None:
    schedule = {"name": "s", "template_id": "echo", "expression": "rate(5 minutes)"}
    created = client.post(f"{V2}/schedules", json={**schedule, "start_at": moment})
    assert_problem(created, 422, "start_at")
    runs = client.get(f"{V2}/runs", params={"until": str(moment)})
    assert_problem(runs, 422, "query.until")
    dedup = client.post("/research/dedup", json={"cards": [card_data(indexed_at=moment)]})
    assert_problem(dedup, 422, "cards.0.indexed_at")
    assert client.get(f"{V2}/schedules").json()["items"] == []


# --- methods and the OpenAPI document -----------------------------------------------------------


def test_a_405_lists_every_method_of_the_path(client: TestClient) -> None:
    for path, methods in [
        (f"{V2}/jobs", {"GET", "POST"}),
        (f"{V2}/templates/echo", {"GET", "PATCH", "DELETE"}),
        ("/jobs/story/trigger", {"POST"}),
    ]:
        response = client.put(path, json={})
        assert_problem(response, 405)
        assert set(response.headers["allow"].split(", ")) == methods | {"OPTIONS"}

        options = client.options(path)
        assert options.status_code == 204
        assert options.headers["allow"] == response.headers["allow"]
        assert not options.content


def test_an_undeclared_method_is_405_whatever_its_body(client: TestClient) -> None:
    # TRACE was read as a body first: 422 for a number no store holds, not 405.
    response = post_raw(client, f"{V2}/runs/0/dedup-check", b'{"threshold": 5e-324}', "TRACE")

    assert_problem(response, 405)
    assert set(response.headers["allow"].split(", ")) == {"POST", "OPTIONS"}


def test_a_literal_path_lists_only_its_own_methods(client: TestClient) -> None:
    # /jobs/monitor matches /jobs/{job_id} too, whose GET is no method of the monitor.
    for path in ("/jobs/monitor", "/api/v1/jobs/monitor"):
        assert client.options(path).headers["allow"] == "OPTIONS, POST"


def test_the_openapi_states_the_body_rules_it_can(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    assert schemas["ReorderRequest"]["properties"]["job_ids"]["uniqueItems"] is True
    assert [b["required"] for b in schemas["MoveRequest"]["oneOf"]] == [
        ["position"],
        ["before"],
        ["after"],
    ]
    assert [b["required"] for b in schemas["MatchingBody"]["oneOf"]] == [["card"], ["card_id"]]
    for model in ("DedupBody", "DedupCheckBody"):
        threshold = schemas[model]["properties"]["threshold"]["anyOf"][0]
        assert threshold["minimum"] == 1e-130, model  # 5e-324 is over 0 but no store holds it


def test_the_openapi_document_describes_the_bad_input_answers(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path != "/health"
        for method, operation in item.items()
    ]
    assert len(operations) > 40
    for path, method, operation in operations:
        responses = operation["responses"]
        assert {"401", "422", "503"} <= responses.keys(), (method, path)
        if "requestBody" in operation:
            assert "413" in responses, (method, path)
        if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
            assert "cursor" in responses["422"]["description"], (method, path)
    assert (
        "Malformed body"
        in document["paths"]["/api/v2/jobs"]["post"]["responses"]["422"]["description"]
    )
    schemas = document["components"]["schemas"]
    for model in (
        "JobCreate",
        "JobOut",
        "PriorityRequest",
        "GroupCreate",
        "ScheduleOut",
        "LegacyJobOut",
    ):
        numeric = [
            s for s in schemas[model]["properties"]["priority"]["anyOf"] if s["type"] == "integer"
        ]
        assert numeric == [{"type": "integer", "minimum": 0, "maximum": 100}], model


# --- what would not fit in one stored item ------------------------------------------------------

BIG_SCHEMA = {"type": "object", "description": "x" * 500_000}  # under the body limit


def test_a_template_over_the_item_size_is_413(client: TestClient) -> None:
    create = {"template_id": "big", "name": "Big", "workload": "echo", "params_schema": BIG_SCHEMA}
    body = assert_problem(client.post(f"{V2}/templates", json=create), 413)
    assert body["title"] == "Content too large"
    assert "400 KB" in body["detail"]

    post_template(client, "kept")
    patch = client.patch(f"{V2}/templates/kept", json={"params_schema": BIG_SCHEMA})
    assert_problem(patch, 413)

    templates = client.get(f"{V2}/templates").json()["items"]
    assert [(t["template_id"], t["version"]) for t in templates] == [("kept", 1)]


def test_keys_that_cannot_be_read_are_503_not_a_body_error(
    client: TestClient, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(key_id: str) -> None:
        raise UnavailableError("the store is busy; retry shortly")

    monkeypatch.setattr(stores.keys, "get", busy)
    response = client.post(f"{V2}/jobs", json={"template_id": "echo"})

    assert_problem(response, 503)
    assert response.headers["retry-after"]


@pytest.mark.parametrize("path", ["/api/v2/jobs", "/scheduler/jobs", "/jobs", "/api/v2/queue"])
def test_a_repeated_query_parameter_is_refused_not_one_of_its_values_dropped(
    client: TestClient, path: str
) -> None:
    answer = client.get(f"{path}?limit=5&limit=50")

    assert_problem(answer, 422, "query.limit")
