"""Concurrency keys through the HTTP API: a template declares them (checked, with a 422 that
names the key), its jobs show the keys they are held to, a PATCH changes them."""

from fastapi.testclient import TestClient

from tests.support.api import V2, assert_problem

KEYED = {
    "template_id": "per-customer",
    "name": "Per customer",
    "workload": "echo",
    "params_schema": {"type": "object", "properties": {"customer": {"type": "string"}}},
    "concurrency": [{"key": "template", "limit": 3}, {"key": "params.customer", "limit": 1}],
}


def test_a_template_keeps_its_limits_and_a_job_shows_its_keys(client: TestClient) -> None:
    created = client.post(f"{V2}/templates", json=KEYED)
    assert created.status_code == 201, created.text
    assert created.json()["concurrency"] == KEYED["concurrency"]
    job = client.post(
        f"{V2}/jobs", json={"template_id": "per-customer", "params": {"customer": "acme"}}
    )
    assert job.status_code == 201, job.text
    keys = [(k["key"], k["value"], k["limit"]) for k in job.json()["concurrency_keys"]]
    assert keys == [("template", "per-customer", 3), ("params.customer", "acme", 1)]
    assert (
        client.get(f"{V2}/jobs/{job.json()['job_id']}").json()["concurrency_keys"]
        == (job.json()["concurrency_keys"])
    )


def test_an_undeclared_param_or_a_repeated_key_is_422_naming_it(client: TestClient) -> None:
    undeclared = {**KEYED, "concurrency": [{"key": "params.tenant", "limit": 1}]}
    body = assert_problem(client.post(f"{V2}/templates", json=undeclared), 422)
    assert "params.tenant" in body["detail"]
    assert "concurrency.0.key" in [e["field"] for e in body["errors"]]
    twice = {**KEYED, "concurrency": [{"key": "template", "limit": 1}] * 2}
    assert_problem(client.post(f"{V2}/templates", json=twice), 422, "concurrency.1.key")
    zero = {**KEYED, "concurrency": [{"key": "template", "limit": 0}]}
    assert_problem(client.post(f"{V2}/templates", json=zero), 422)
    assert_problem(client.get(f"{V2}/templates/per-customer"), 404)


def test_a_patch_changes_the_limits_in_a_new_version(client: TestClient) -> None:
    assert client.post(f"{V2}/templates", json=KEYED).status_code == 201
    patched = client.patch(f"{V2}/templates/per-customer", json={"concurrency": []})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["version"], patched.json()["concurrency"]) == (2, [])
    first = client.get(f"{V2}/templates/per-customer/versions/1").json()
    assert first["concurrency"] == KEYED["concurrency"]
    bad = {"concurrency": [{"key": "params.nobody", "limit": 1}]}
    assert_problem(client.patch(f"{V2}/templates/per-customer", json=bad), 422)
