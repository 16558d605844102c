"""POST /jobs/{id}/rerun and GET /jobs/{id}/lineage (issue 17, point 3), on both stores."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs import reruns
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem, post_job, post_template


def rerun(client: TestClient, job_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{V2}/jobs/{job_id}/rerun", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def lineage(client: TestClient, job_id: str) -> dict[str, Any]:
    response = client.get(f"{V2}/jobs/{job_id}/lineage")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def run_next(stores: Stores, exit_code: int, artifacts: list[str]) -> str:
    """Claim the head of the queue and end its run with `exit_code`; the run's id."""
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.run is not None
    dispatcher.finish(claim, Outcome(exit_code=exit_code, artifacts=artifacts), claim_next=False)
    return claim.run.run_id


def test_a_rerun_without_edits_copies_the_job(client: TestClient, echo_template: str) -> None:
    original = post_job(client, params={"count": 3}, priority="high")

    again = rerun(client, original["job_id"])

    assert again["job_id"] != original["job_id"]
    assert again["rerun_of"] == original["job_id"]
    assert again["status"] == "queued"
    assert again["params"] == original["params"] == {"message": "hi", "count": 3}
    assert again["priority"] == "high"
    assert again["template_version"] == original["template_version"]
    assert again["idempotent_replay"] is False
    assert original["rerun_of"] is None
    assert client.get(f"{V2}/jobs/{again['job_id']}").json()["rerun_of"] == original["job_id"]


def test_an_immediate_job_reruns_immediate(client: TestClient, echo_template: str) -> None:
    original = post_job(client, priority="immediate")

    assert rerun(client, original["job_id"])["priority"] == "immediate"
    assert rerun(client, original["job_id"], priority=7)["priority"] == 7


def test_an_empty_body_is_a_rerun_without_edits(client: TestClient, echo_template: str) -> None:
    original = post_job(client)

    response = client.post(f"{V2}/jobs/{original['job_id']}/rerun")

    assert response.status_code == 201, response.text
    assert response.json()["params"] == original["params"]


def test_overrides_replace_params_and_priority(client: TestClient, echo_template: str) -> None:
    original = post_job(client, params={"message": "first", "count": 2})

    again = rerun(client, original["job_id"], params={"count": 9}, priority="low")

    assert again["params"] == {"message": "first", "count": 9}
    assert again["priority"] == "low"


def test_a_rerun_can_take_a_place_in_the_queue(client: TestClient, echo_template: str) -> None:
    first = post_job(client)
    post_job(client)

    again = rerun(client, first["job_id"], position=1)

    assert again["queue_position"] == 1


def test_overrides_are_checked_and_a_bad_one_is_422(client: TestClient, echo_template: str) -> None:
    original = post_job(client)

    assert_problem(
        client.post(f"{V2}/jobs/{original['job_id']}/rerun", json={"params": {"count": 11}}),
        422,
        "params.count",
    )
    assert_problem(
        client.post(f"{V2}/jobs/{original['job_id']}/rerun", json={"params": {"colour": "red"}}),
        422,
    )
    assert_problem(
        client.post(f"{V2}/jobs/{original['job_id']}/rerun", json={"unknown": 1}), 422, "unknown"
    )
    assert [j["job_id"] for j in client.get(f"{V2}/jobs").json()["items"]] == [original["job_id"]]


def test_a_rerun_runs_with_the_original_version_after_the_template_changed(
    client: TestClient,
) -> None:
    """The template's schema changed after the original was made: the rerun is checked against
    (and runs with) the version the original ran with, not the current one."""
    v1_schema = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 5}}}
    post_template(client, "t", params_schema=v1_schema, default_params={"n": 1})
    original = post_job(client, "t")
    v2_schema = {"type": "object", "properties": {"n": {"type": "string"}}}
    changed = client.patch(
        f"{V2}/templates/t", json={"params_schema": v2_schema, "default_params": {"n": "x"}}
    )
    assert changed.status_code == 200, changed.text
    assert_problem(post_job_response(client, "t", {"n": 4}), 422, "params.n")  # v2 wants text

    again = rerun(client, original["job_id"], params={"n": 4})

    assert again["template_version"] == original["template_version"] == 1
    assert again["params"] == {"n": 4}
    refused = client.post(f"{V2}/jobs/{original['job_id']}/rerun", json={"params": {"n": 6}})
    assert_problem(refused, 422, "params.n")  # v1's maximum
    assert_problem(
        client.post(f"{V2}/jobs/{original['job_id']}/rerun", json={"params": {"n": "x"}}),
        422,
        "params.n",
    )


def post_job_response(client: TestClient, template_id: str, params: dict[str, Any]) -> Any:
    return client.post(f"{V2}/jobs", json={"template_id": template_id, "params": params})


def test_an_archived_template_takes_no_rerun(client: TestClient, echo_template: str) -> None:
    original = post_job(client)
    client.delete(f"{V2}/templates/echo")

    assert_problem(client.post(f"{V2}/jobs/{original['job_id']}/rerun"), 409)


def test_the_same_key_returns_the_same_rerun(client: TestClient, echo_template: str) -> None:
    original = post_job(client)
    url = f"{V2}/jobs/{original['job_id']}/rerun"
    headers = {"Idempotency-Key": "rerun-1"}

    first = client.post(url, json={"params": {"count": 2}}, headers=headers)
    second = client.post(url, json={"params": {"count": 2}}, headers=headers)
    other_body = client.post(url, json={"params": {"count": 3}}, headers=headers)
    other_job = client.post(
        f"{V2}/jobs/{post_job(client)['job_id']}/rerun",
        json={"params": {"count": 2}},
        headers=headers,
    )
    as_a_create = client.post(f"{V2}/jobs", json={"template_id": "echo"}, headers=headers)

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["job_id"] == first.json()["job_id"]
    assert second.json()["idempotent_replay"] is True
    for refused in (other_body, other_job, as_a_create):
        assert_problem(refused, 409)
    reruns = [j for j in client.get(f"{V2}/jobs").json()["items"] if j["rerun_of"]]
    assert [j["job_id"] for j in reruns] == [first.json()["job_id"]]


def test_the_alias_tree_serves_reruns(client: TestClient, echo_template: str) -> None:
    original = post_job(client)

    response = client.post(f"/scheduler/jobs/{original['job_id']}/rerun")

    assert response.status_code == 201, response.text
    assert response.json()["rerun_of"] == original["job_id"]
    assert client.get(f"/scheduler/jobs/{original['job_id']}/lineage").status_code == 200


def test_lineage_of_a_chain_of_three(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    first = post_job(client, params={"count": 1})
    first_run = run_next(stores, 1, [])
    second = rerun(client, first["job_id"], params={"count": 2})
    second_run = run_next(stores, 0, ["out/story.json"])
    third = rerun(client, second["job_id"], params={"count": 3})
    ids = [first["job_id"], second["job_id"], third["job_id"]]

    for job_id in ids:  # the same tree, whichever job is asked about
        found = lineage(client, job_id)
        assert found["job_id"] == job_id
        assert found["root_id"] == first["job_id"]
        assert [j["job_id"] for j in found["jobs"]] == ids
        assert found["truncated"] is False
        assert found["limit"] == 100

    jobs = lineage(client, third["job_id"])["jobs"]
    assert [j["rerun_of"] for j in jobs] == [None, first["job_id"], second["job_id"]]
    assert [j["params"]["count"] for j in jobs] == [1, 2, 3]
    assert [j["status"] for j in jobs] == ["finished", "finished", "queued"]  # ended, either way
    assert jobs[0]["run"]["run_id"] == first_run
    assert (jobs[0]["run"]["status"], jobs[0]["run"]["exit_code"]) == ("failed", 1)
    assert jobs[1]["run"]["run_id"] == second_run
    assert (jobs[1]["run"]["status"], jobs[1]["run"]["exit_code"]) == ("completed", 0)
    assert jobs[1]["run"]["artifacts"] == ["out/story.json"]
    assert jobs[2]["run"] is None


def test_lineage_is_the_whole_tree_with_branches(client: TestClient, echo_template: str) -> None:
    root = post_job(client)
    left = rerun(client, root["job_id"], params={"count": 2})
    right = rerun(client, root["job_id"], params={"count": 3})
    under_left = rerun(client, left["job_id"], params={"count": 4})
    unrelated = post_job(client)

    found = lineage(client, right["job_id"])

    ids = [root["job_id"], left["job_id"], right["job_id"], under_left["job_id"]]
    assert [j["job_id"] for j in found["jobs"]] == ids
    assert lineage(client, unrelated["job_id"])["jobs"][0]["job_id"] == unrelated["job_id"]
    assert len(lineage(client, unrelated["job_id"])["jobs"]) == 1


def test_unknown_jobs_are_404s(client: TestClient, echo_template: str) -> None:
    assert_problem(client.post(f"{V2}/jobs/job_nope/rerun"), 404)
    assert_problem(client.post(f"{V2}/jobs/job_nope/rerun", headers={"Idempotency-Key": "k"}), 404)
    assert_problem(client.get(f"{V2}/jobs/job_nope/lineage"), 404)


def test_a_read_only_key_may_read_a_lineage_but_not_rerun(
    client: TestClient, reader: TestClient, echo_template: str
) -> None:
    original = post_job(client)

    assert_problem(reader.post(f"{V2}/jobs/{original['job_id']}/rerun"), 403)
    assert lineage(reader, original["job_id"])["root_id"] == original["job_id"]
    assert [j["job_id"] for j in client.get(f"{V2}/jobs").json()["items"]] == [original["job_id"]]


def test_a_lineage_over_the_bound_is_cut_and_says_so(
    client: TestClient, echo_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reruns, "MAX_LINEAGE", 3)
    root = post_job(client)
    chain = [root["job_id"]]
    for _ in range(3):
        chain.append(rerun(client, chain[-1])["job_id"])

    found = lineage(client, chain[-1])

    assert [j["job_id"] for j in found["jobs"]] == chain[:3]  # the oldest three
    assert (found["truncated"], found["limit"]) == (True, 3)
    assert lineage(client, chain[1])["truncated"] is True
