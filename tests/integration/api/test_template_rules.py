"""What a template must hold to be saved (issue 12): a workload the image runs, a Fargate task
size, defaults its own schema accepts, and regexes a linear-time engine can run."""

from typing import Any

from fastapi.testclient import TestClient

from tests.support.api import V2, assert_problem, post_template

SCHEMA = {
    "type": "object",
    "properties": {"topic": {"type": "string"}, "max_stories": {"type": "integer", "minimum": 1}},
    "required": ["topic"],
    "additionalProperties": False,
}
# Python's `re` backtracks on this pair for far longer than any test run (2^40 steps).
CATASTROPHIC = "^(a+)+$"
EVIL_INPUT = "a" * 40 + "!"


def _template(**fields: Any) -> dict[str, Any]:
    return {"template_id": "t", "name": "T", "workload": "echo", **fields}


def test_an_unknown_workload_is_422_on_create_and_patch(client: TestClient) -> None:
    created = client.post(f"{V2}/templates", json=_template(workload="nope"))

    body = assert_problem(created, 422, field="workload")
    assert "'nope'" in body["detail"]
    assert "story_generation" in body["detail"]
    post_template(client, "ok")
    assert_problem(client.patch(f"{V2}/templates/ok", json={"workload": "nope"}), 422, "workload")
    assert client.get(f"{V2}/templates/ok").json()["version"] == 1


def test_every_workload_of_the_image_is_accepted(client: TestClient) -> None:
    for workload in ("echo", "story_generation", "research"):
        post_template(client, f"w-{workload.replace('_', '-')}", workload=workload)


def test_defaults_that_break_the_schema_are_422_naming_the_field(client: TestClient) -> None:
    bad = {"topic": "space", "max_stories": 0}

    created = client.post(
        f"{V2}/templates", json=_template(params_schema=SCHEMA, default_params=bad)
    )

    assert_problem(created, 422, field="default_params.max_stories")
    unknown = _template(params_schema=SCHEMA, default_params={"colour": "red"})
    assert_problem(client.post(f"{V2}/templates", json=unknown), 422, field="default_params")
    assert_problem(client.get(f"{V2}/templates/t"), 404)


def test_defaults_may_leave_required_keys_to_the_jobs(client: TestClient) -> None:
    post_template(client, "t", params_schema=SCHEMA, default_params={"max_stories": 2})

    job = client.post(f"{V2}/jobs", json={"template_id": "t", "params": {"topic": "sea"}})

    assert job.status_code == 201, job.text
    assert job.json()["params"] == {"topic": "sea", "max_stories": 2}


def test_a_patch_is_checked_against_the_schema_it_leaves(client: TestClient) -> None:
    post_template(client, "t", params_schema=SCHEMA, default_params={"max_stories": 2})

    defaults = client.patch(f"{V2}/templates/t", json={"default_params": {"max_stories": "x"}})
    schema = client.patch(
        f"{V2}/templates/t",
        json={"params_schema": {**SCHEMA, "properties": {"topic": {"type": "string"}}}},
    )

    assert_problem(defaults, 422, field="default_params.max_stories")
    assert_problem(schema, 422, field="default_params")  # max_stories is no longer allowed
    assert client.get(f"{V2}/templates/t").json()["version"] == 1


def test_a_task_size_fargate_refuses_is_422_naming_cpu_and_memory(client: TestClient) -> None:
    response = client.post(f"{V2}/templates", json=_template(cpu=256, memory=4096))

    body = assert_problem(response, 422, field="cpu")
    assert_problem(response, 422, field="memory")
    assert "512, 1024, 2048" in body["detail"]
    post_template(client, "t", cpu=4096, memory=8192)
    assert_problem(client.patch(f"{V2}/templates/t", json={"cpu": 256}), 422, field="memory")
    assert_problem(client.patch(f"{V2}/templates/t", json={"cpu": 3000}), 422, field="cpu")
    assert client.patch(f"{V2}/templates/t", json={"cpu": 256, "memory": 512}).status_code == 200


def test_a_catastrophic_pattern_is_evaluated_in_linear_time(client: TestClient) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string", "pattern": CATASTROPHIC}}}
    post_template(client, "t", params_schema=schema)

    refused = client.post(f"{V2}/jobs", json={"template_id": "t", "params": {"name": EVIL_INPUT}})
    accepted = client.post(f"{V2}/jobs", json={"template_id": "t", "params": {"name": "aaaa"}})

    assert "does not match" in assert_problem(refused, 422, field="params.name")["detail"]
    assert accepted.status_code == 201, accepted.text


def test_pattern_properties_are_evaluated_in_linear_time(client: TestClient) -> None:
    schema = {
        "type": "object",
        "patternProperties": {CATASTROPHIC: {"type": "integer"}},
        "additionalProperties": False,
    }
    post_template(client, "t", params_schema=schema)

    refused = client.post(f"{V2}/jobs", json={"template_id": "t", "params": {EVIL_INPUT: 1}})
    typed = client.post(f"{V2}/jobs", json={"template_id": "t", "params": {"aaa": "x"}})
    accepted = client.post(f"{V2}/jobs", json={"template_id": "t", "params": {"aaa": 1}})

    assert "does not match any of the regexes" in assert_problem(refused, 422)["detail"]
    assert_problem(typed, 422, field="params.aaa")
    assert accepted.status_code == 201, accepted.text


def test_a_pattern_re2_cannot_run_is_422_at_save_saying_why(client: TestClient) -> None:
    cases = {
        "params_schema.properties.x.pattern": {"properties": {"x": {"pattern": r"^(a)\1$"}}},
        "params_schema.patternProperties.(?=a)": {"patternProperties": {"(?=a)": {}}},
    }
    for field, schema in cases.items():
        response = client.post(f"{V2}/templates", json=_template(params_schema=schema))
        detail = assert_problem(response, 422, field=field)["detail"]
        assert "backreferences and lookarounds" in detail
    mixed = {"patternProperties": {"^a": {}}, "unevaluatedProperties": False}
    response = client.post(f"{V2}/templates", json=_template(params_schema=mixed))
    assert "unevaluatedProperties" in assert_problem(response, 422, "params_schema")["detail"]
    assert client.get(f"{V2}/templates").json()["items"] == []


def test_a_pattern_in_data_keywords_is_not_a_regex(client: TestClient) -> None:
    schema = {"type": "object", "examples": [{"pattern": r"(a)\1"}]}

    post_template(client, "t", params_schema=schema)
