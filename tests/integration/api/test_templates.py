"""/templates through the HTTP API: create, list, read, update (versions), archive, scopes."""

from datetime import datetime

from fastapi.testclient import TestClient

from jobsched.ports import Stores
from tests.support.api import V2, all_pages, assert_problem, post_template, queue

SCHEMA = {
    "type": "object",
    "properties": {"topic": {"type": "string"}, "max_stories": {"type": "integer", "minimum": 1}},
    "required": ["topic"],
}
FULL = {
    "template_id": "daily-story",
    "name": "Daily story",
    "description": "One story a day",
    "workload": "story_generation",
    "default_params": {"topic": "space", "max_stories": 3},
    "params_schema": SCHEMA,
    "cpu": 2048,
    "memory": 4096,
    "timeout_seconds": 900,
    "retry": {"max_attempts": 3, "backoff_seconds": 10.0, "backoff_multiplier": 1.5},
}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_create_echoes_the_fields_at_version_1(client: TestClient) -> None:
    response = client.post(f"{V2}/templates", json=FULL)

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in FULL} == FULL
    assert body["version"] == 1
    assert body["archived"] is False
    assert moment(body["created_at"]) <= moment(body["updated_at"])
    # GET adds what its budgets committed in their period (it has none).
    assert client.get(f"{V2}/templates/daily-story").json() == {**body, "budget_status": []}


def test_create_applies_defaults(client: TestClient) -> None:
    body = post_template(client, "bare")

    assert body["default_params"] == {}
    assert body["params_schema"] == {}
    assert (body["cpu"], body["memory"], body["timeout_seconds"]) == (1024, 2048, 3600)
    assert body["retry"] == {"max_attempts": 1, "backoff_seconds": 30.0, "backoff_multiplier": 2.0}


def test_duplicate_id_is_409_and_keeps_the_first(client: TestClient) -> None:
    post_template(client, "dup", name="First")

    response = client.post(
        f"{V2}/templates", json={"template_id": "dup", "name": "Second", "workload": "echo"}
    )

    assert_problem(response, 409)
    assert client.get(f"{V2}/templates/dup").json()["name"] == "First"


def test_bad_slug_is_422_on_template_id(client: TestClient) -> None:
    for slug in ["Daily Story", "-leading-dash", "", "x" * 65, "ünï"]:
        response = client.post(
            f"{V2}/templates", json={"template_id": slug, "name": "n", "workload": "echo"}
        )
        assert_problem(response, 422, field="template_id")
    assert client.get(f"{V2}/templates").json()["items"] == []


def test_invalid_params_schema_is_422_and_writes_nothing(client: TestClient) -> None:
    response = client.post(f"{V2}/templates", json={**FULL, "params_schema": {"type": "nope"}})

    body = assert_problem(response, 422, field="params_schema")
    assert "JSON Schema" in body["detail"]
    assert_problem(client.get(f"{V2}/templates/daily-story"), 404)


def test_default_params_over_64_kb_are_422(client: TestClient) -> None:
    response = client.post(
        f"{V2}/templates",
        json={**FULL, "params_schema": {}, "default_params": {"blob": "x" * 70_000}},
    )

    body = assert_problem(response, 422, field="default_params")
    assert "64 KB" in body["detail"]
    assert_problem(client.get(f"{V2}/templates/daily-story"), 404)


def test_unknown_or_mistyped_fields_are_422(client: TestClient) -> None:
    assert_problem(client.post(f"{V2}/templates", json={**FULL, "colour": "red"}), 422, "colour")
    assert_problem(client.post(f"{V2}/templates", json={**FULL, "cpu": "lots"}), 422, "cpu")
    assert_problem(client.post(f"{V2}/templates", json={**FULL, "cpu": 1}), 422, "cpu")
    missing = {key: value for key, value in FULL.items() if key != "workload"}
    assert_problem(client.post(f"{V2}/templates", json=missing), 422, "workload")
    bad_retry = {**FULL, "retry": {"max_attempts": 0}}
    assert_problem(client.post(f"{V2}/templates", json=bad_retry), 422, "retry.max_attempts")
    assert client.get(f"{V2}/templates").json()["items"] == []


def test_list_follows_the_cursor_through_every_template(client: TestClient) -> None:
    created = {post_template(client, f"t-{n}")["template_id"] for n in range(5)}

    pages = all_pages(client, f"{V2}/templates", limit=2)

    assert [len(page) for page in pages][:3] == [2, 2, 1]
    seen = [template["template_id"] for page in pages for template in page]
    assert sorted(seen) == sorted(created)  # each once


def test_list_rejects_a_bad_limit_or_cursor(reader: TestClient) -> None:
    assert_problem(reader.get(f"{V2}/templates", params={"limit": 0}), 422, "query.limit")
    assert_problem(reader.get(f"{V2}/templates", params={"limit": 201}), 422, "query.limit")
    assert_problem(reader.get(f"{V2}/templates", params={"cursor": "garbage!"}), 422, "cursor")


def test_get_one_and_unknown(client: TestClient, echo_template: str) -> None:
    response = client.get(f"{V2}/templates/{echo_template}")
    assert response.status_code == 200
    assert response.json()["name"] == "Echo"

    body = assert_problem(client.get(f"{V2}/templates/missing"), 404)
    assert "missing" in body["detail"]


def test_patch_bumps_the_version_and_changes_only_the_given_fields(client: TestClient) -> None:
    before = client.post(f"{V2}/templates", json=FULL).json()

    response = client.patch(
        f"{V2}/templates/daily-story", json={"name": "Renamed", "default_params": {"topic": "sea"}}
    )

    assert response.status_code == 200
    after = response.json()
    assert after["version"] == 2
    assert after["name"] == "Renamed"
    assert after["default_params"] == {"topic": "sea"}
    unchanged = set(FULL) - {"name", "default_params"}
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert moment(after["updated_at"]) > moment(before["updated_at"])
    assert (
        client.patch(f"{V2}/templates/daily-story", json={"cpu": 4096, "memory": 8192}).json()[
            "version"
        ]
        == 3
    )
    assert client.get(f"{V2}/templates/daily-story").json()["cpu"] == 4096


def test_patched_schema_applies_to_new_jobs(client: TestClient, echo_template: str) -> None:
    schema = {"type": "object", "properties": {"count": {"type": "integer", "maximum": 2}}}
    assert client.patch(f"{V2}/templates/echo", json={"params_schema": schema}).status_code == 200

    response = client.post(f"{V2}/jobs", json={"template_id": "echo", "params": {"count": 5}})

    assert_problem(response, 422, field="params.count")


def test_rejected_patch_changes_nothing(client: TestClient) -> None:
    client.post(f"{V2}/templates", json=FULL)

    assert_problem(
        client.patch(f"{V2}/templates/daily-story", json={"params_schema": {"type": 5}}),
        422,
        field="params_schema",
    )
    assert_problem(client.patch(f"{V2}/templates/daily-story", json={"bogus": 1}), 422, "bogus")
    assert_problem(client.patch(f"{V2}/templates/daily-story", json={"memory": 1}), 422, "memory")
    assert_problem(client.patch(f"{V2}/templates/missing", json={"name": "x"}), 404)

    current = client.get(f"{V2}/templates/daily-story").json()
    assert current["version"] == 1
    assert current["params_schema"] == SCHEMA


def test_delete_archives_and_the_template_stays_readable(client: TestClient) -> None:
    post_template(client, "old")

    response = client.delete(f"{V2}/templates/old")

    assert response.status_code == 200
    assert response.json()["archived"] is True
    again = client.get(f"{V2}/templates/old")
    assert again.status_code == 200
    assert again.json()["archived"] is True
    listed = client.get(f"{V2}/templates").json()["items"]
    assert [(t["template_id"], t["archived"]) for t in listed] == [("old", True)]
    assert_problem(client.delete(f"{V2}/templates/missing"), 404)


def test_patch_of_an_archived_template_is_409(client: TestClient) -> None:
    post_template(client, "old")
    client.delete(f"{V2}/templates/old")

    assert_problem(client.patch(f"{V2}/templates/old", json={"name": "New"}), 409)
    current = client.get(f"{V2}/templates/old").json()
    assert (current["name"], current["version"]) == ("Old", 1)


def test_no_new_jobs_from_an_archived_template(client: TestClient, echo_template: str) -> None:
    client.delete(f"{V2}/templates/echo")

    job = client.post(f"{V2}/jobs", json={"template_id": "echo"})
    group = client.post(f"{V2}/groups", json={"jobs": [{"template_id": "echo"}]})

    assert "archived" in assert_problem(job, 409)["detail"]
    assert_problem(group, 409)
    assert client.get(f"{V2}/jobs").json()["items"] == []
    assert client.get(f"{V2}/groups").json()["items"] == []
    assert queue(client)["items"] == []


def test_mutations_need_the_admin_scope(
    client: TestClient, writer: TestClient, reader: TestClient, stores: Stores
) -> None:
    post_template(client, "mine")

    for other in (writer, reader):
        body = {"template_id": "theirs", "name": "n", "workload": "echo"}
        assert "admin" in assert_problem(other.post(f"{V2}/templates", json=body), 403)["detail"]
        assert_problem(other.patch(f"{V2}/templates/mine", json={"name": "x"}), 403)
        assert_problem(other.delete(f"{V2}/templates/mine"), 403)

    assert_problem(client.get(f"{V2}/templates/theirs"), 404)
    current = stores.templates.get("mine")
    assert (current.name, current.version, current.archived) == ("Mine", 1, False)


def test_reads_need_only_the_read_scope(reader: TestClient, echo_template: str) -> None:
    assert reader.get(f"{V2}/templates").status_code == 200
    assert reader.get(f"{V2}/templates/echo").json()["template_id"] == "echo"


def test_patch_replaces_the_retry_policy(client: TestClient) -> None:
    client.post(f"{V2}/templates", json=FULL)
    retry = {"max_attempts": 5, "backoff_seconds": 1.0, "backoff_multiplier": 3.0}

    response = client.patch(f"{V2}/templates/daily-story", json={"retry": retry})

    assert response.status_code == 200
    assert response.json()["retry"] == retry
    assert client.get(f"{V2}/templates/daily-story").json()["retry"] == retry
    bad = client.patch(f"{V2}/templates/daily-story", json={"retry": {"max_attempts": 0}})
    assert_problem(bad, 422, field="retry.max_attempts")


def test_deeply_nested_json_is_422(client: TestClient) -> None:
    deep: object = {}
    for _ in range(100):
        deep = [deep]
    for field in ("default_params", "params_schema"):
        response = client.post(f"{V2}/templates", json={**FULL, field: {"a": deep}})
        assert "levels" in assert_problem(response, 422, field=field)["detail"]
    client.post(f"{V2}/templates", json=FULL)
    patch = client.patch(f"{V2}/templates/daily-story", json={"default_params": {"a": deep}})
    assert_problem(patch, 422, field="default_params")
    assert client.get(f"{V2}/templates/daily-story").json()["version"] == 1
