"""Quality gates over the API (issue 17, point 4): a template's checks created, changed and kept
by version; bad checks refused with their fields; a rejected run shown with its failed checks."""

from typing import Any

from fastapi.testclient import TestClient

from jobsched.models import JobRun, RunStatus
from jobsched.models.gates import MAX_CHECKS, FailedCheck
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem, error_fields, post_template

STORY_SCHEMA = {
    "type": "object",
    "required": ["title", "text"],
    "properties": {"title": {"type": "string"}, "text": {"type": "string", "minLength": 1}},
}
CHECKS: list[dict[str, Any]] = [
    {"kind": "json_schema", "files": "stories/*.json", "schema": STORY_SCHEMA},
    {"kind": "count", "name": "some stories", "files": "stories/*.json", "min": 1, "max": 10},
    {"kind": "length", "files": "stories/*.json", "field": "text", "unit": "words", "min": 100},
    {"kind": "near_duplicate", "files": "stories/*.json", "threshold": 0.8},
]
# Each as the API answers it: the defaults of the fields not sent filled in.
SHOWN: list[dict[str, Any]] = [
    {"name": None, **CHECKS[0]},
    {**CHECKS[1]},
    {"name": None, "max": None, **CHECKS[2]},
    {"name": None, "field": None, "against": None, **CHECKS[3]},
]


def create(client: TestClient, checks: list[dict[str, Any]], template_id: str = "gated") -> Any:
    return client.post(
        f"{V2}/templates",
        json={"template_id": template_id, "name": "Gated", "workload": "echo", "checks": checks},
    )


def test_a_template_takes_checks_of_every_kind_and_shows_them(client: TestClient) -> None:
    response = create(client, CHECKS)

    assert response.status_code == 201, response.text
    assert response.json()["checks"] == SHOWN
    assert client.get(f"{V2}/templates/gated").json()["checks"] == SHOWN
    assert client.get(f"{V2}/templates/gated/versions/1").json()["checks"] == SHOWN
    assert post_template(client, "plain")["checks"] == []


def test_a_patch_replaces_the_checks_in_a_new_version_and_the_old_one_keeps_its_own(
    client: TestClient,
) -> None:
    create(client, CHECKS)

    changed = client.patch(f"{V2}/templates/gated", json={"checks": CHECKS[1:2]})
    renamed = client.patch(f"{V2}/templates/gated", json={"name": "Renamed"})
    removed = client.patch(f"{V2}/templates/gated", json={"checks": []})

    assert (changed.json()["version"], changed.json()["checks"]) == (2, SHOWN[1:2])
    assert renamed.json()["checks"] == SHOWN[1:2]  # a patch without checks keeps them
    assert removed.json()["checks"] == []
    versions = [
        client.get(f"{V2}/templates/gated/versions/{n}").json()["checks"] for n in (1, 2, 3, 4)
    ]
    assert versions == [SHOWN, SHOWN[1:2], SHOWN[1:2], []]


def test_bad_checks_are_422_with_each_field_and_write_nothing(client: TestClient) -> None:
    checks = [
        {"kind": "count", "files": "stories/[a.json", "min": 1},
        {"kind": "count", "files": "stories/*.json", "min": 5, "max": 2},
        {"kind": "near_duplicate", "files": "*.json", "threshold": 1.2},
        {"kind": "length", "files": "*.txt"},
        {"kind": "spell_check", "files": "*.txt"},
    ]

    body = assert_problem(create(client, checks), 422)

    assert error_fields_of(body) == {
        "checks.0.files",
        "checks.1.max",
        "checks.2.threshold",
        "checks.3",
        "checks.4",
    }
    messages = {error["field"]: error["message"] for error in body["errors"]}
    assert "never closed" in messages["checks.0.files"]
    assert "below min 5" in messages["checks.1.max"]
    assert "needs min, max or both" in messages["checks.3"]
    assert_problem(client.get(f"{V2}/templates/gated"), 404)


def error_fields_of(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


def test_an_invalid_json_schema_is_422_on_its_check(client: TestClient) -> None:
    checks = [
        {"kind": "count", "files": "*", "min": 0},
        {"kind": "json_schema", "files": "*.json", "schema": {"type": "nope"}},
    ]

    body = assert_problem(create(client, checks), 422, field="checks.1.schema")

    assert "is not valid JSON Schema" in body["detail"]
    assert_problem(client.get(f"{V2}/templates/gated"), 404)


def test_a_schema_pattern_re2_cannot_run_is_422_where_it_is(client: TestClient) -> None:
    schema = {"properties": {"id": {"type": "string", "pattern": "^(a)\\1$"}}}

    response = create(client, [{"kind": "json_schema", "files": "*.json", "schema": schema}])

    assert_problem(response, 422, field="checks.0.schema.properties.id.pattern")


def test_more_than_the_bound_of_checks_is_422(client: TestClient) -> None:
    check = {"kind": "count", "files": "*", "max": 100}

    assert_problem(create(client, [check] * (MAX_CHECKS + 1)), 422, field="checks")
    assert create(client, [check] * MAX_CHECKS).status_code == 201


def test_a_rejected_patch_of_the_checks_changes_nothing(client: TestClient) -> None:
    create(client, CHECKS)

    bad_glob = [{"kind": "count", "files": "../up.json", "min": 1}]
    bad_schema = [{"kind": "json_schema", "files": "*.json", "schema": {"minimum": "one"}}]
    assert_problem(
        client.patch(f"{V2}/templates/gated", json={"checks": bad_glob}), 422, "checks.0.files"
    )
    assert_problem(
        client.patch(f"{V2}/templates/gated", json={"checks": bad_schema}),
        422,
        "checks.0.schema",
    )

    current = client.get(f"{V2}/templates/gated").json()
    assert (current["version"], current["checks"]) == (1, SHOWN)


def test_a_schema_nested_deeper_than_a_dynamodb_map_is_kept_as_sent(client: TestClient) -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(40):
        deep = {"type": "object", "properties": {"a": deep}}
    checks = [{"kind": "json_schema", "files": "*.json", "schema": deep}]

    response = create(client, checks)

    assert response.status_code == 201, response.text
    assert client.get(f"{V2}/templates/gated").json()["checks"][0]["schema"] == deep


def test_a_rejected_run_shows_its_status_and_failed_checks(
    client: TestClient, stores: Stores
) -> None:
    failed = FailedCheck(
        index=2,
        kind="length",
        file="stories/sty_1.json",
        reason="text of stories/sty_1.json is 12 words long; at least 100 expected",
        measured=12,
        bound=">= 100 words",
    )
    stores.runs.put(
        JobRun(
            run_id="run_rejected",
            job_id="job_1",
            template_id="gated",
            status=RunStatus.REJECTED,
            failed_checks=[failed],
        )
    )
    stores.runs.put(JobRun(run_id="run_ok", job_id="job_2", template_id="gated"))

    run = client.get(f"{V2}/runs/run_rejected").json()
    listed = client.get(f"{V2}/runs", params={"status": "rejected"}).json()["items"]

    assert run["status"] == "rejected"
    assert run["failed_checks"] == [failed.model_dump()]
    assert [item["run_id"] for item in listed] == ["run_rejected"]
    assert client.get(f"{V2}/runs/run_ok").json()["failed_checks"] is None
    assert error_fields(client.get(f"{V2}/runs", params={"status": "refused"})) == ["query.status"]
