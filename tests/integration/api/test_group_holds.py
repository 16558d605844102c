"""POST /groups/{id}/hold and /release through the HTTP API, on both prefixes: the answer is
the group with its jobs' states; wrong states are 409, unknown groups 404, reads 403."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.api import V2, assert_problem, post_job, queue

SCHEDULER = "/scheduler"


def post_group(client: TestClient, mode: str = "parallel", size: int = 2) -> dict[str, Any]:
    body = {"mode": mode, "jobs": [{"template_id": "echo"}] * size}
    response = client.post(f"{V2}/groups", json=body)
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


@pytest.mark.usefixtures("echo_template")
def test_a_held_group_shows_its_hold_and_its_jobs_held_in_their_places(
    client: TestClient,
) -> None:
    group = post_group(client)
    after = post_job(client)["job_id"]
    response = client.post(
        f"{V2}/groups/{group['group_id']}/hold", json={"note": "until the prices land"}
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["status"] == "queued"
    assert shown["hold"]["note"] == "until the prices land"
    assert shown["hold"]["held_by_name"] == "test"
    assert [(job["job_id"], job["status"]) for job in shown["jobs"]] == [
        (job_id, "held") for job_id in group["job_ids"]
    ]
    assert all(job["hold"]["note"] == "until the prices land" for job in shown["jobs"])
    items = [(item["job_id"], item["held"]) for item in queue(client)["items"]]
    assert items == [*((job_id, True) for job_id in group["job_ids"]), (after, False)]
    fetched = client.get(f"{SCHEDULER}/groups/{group['group_id']}").json()
    assert fetched["hold"]["note"] == "until the prices land"


@pytest.mark.usefixtures("echo_template")
def test_release_on_the_scheduler_prefix_queues_the_group_again(client: TestClient) -> None:
    group = post_group(client, mode="sequential")
    assert client.post(f"{SCHEDULER}/groups/{group['group_id']}/hold").status_code == 200
    response = client.post(f"{SCHEDULER}/groups/{group['group_id']}/release")
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["hold"] is None
    assert [job["status"] for job in shown["jobs"]] == ["queued", "queued"]
    assert [job["hold"] for job in shown["jobs"]] == [None, None]


@pytest.mark.usefixtures("echo_template")
def test_wrong_states_are_409_problems_and_unknown_groups_404(client: TestClient) -> None:
    group_id = post_group(client)["group_id"]
    body = assert_problem(client.post(f"{V2}/groups/{group_id}/release"), 409)
    assert "has no held job to release" in body["detail"]
    assert client.post(f"{V2}/groups/{group_id}/hold").status_code == 200
    body = assert_problem(client.post(f"{V2}/groups/{group_id}/hold"), 409)
    assert "has no queued job to hold" in body["detail"]
    assert client.post(f"{V2}/groups/{group_id}/cancel").status_code == 200
    body = assert_problem(client.post(f"{V2}/groups/{group_id}/hold"), 409)
    assert "is cancelled" in body["detail"]
    assert_problem(client.post(f"{V2}/groups/grp_missing/hold"), 404)
    assert_problem(client.post(f"{V2}/groups/grp_missing/release"), 404)
    response = client.post(f"{V2}/groups/{group_id}/hold", json={"note": "x" * 501})
    assert_problem(response, 422, "note")


@pytest.mark.usefixtures("echo_template")
def test_a_job_of_a_parallel_group_is_still_held_with_its_group(client: TestClient) -> None:
    group = post_group(client)
    body = assert_problem(client.post(f"{V2}/jobs/{group['job_ids'][0]}/hold"), 409)
    assert "hold the group" in body["detail"]


@pytest.mark.usefixtures("echo_template")
def test_group_hold_and_release_need_the_write_scope(
    client: TestClient, reader: TestClient, writer: TestClient
) -> None:
    group_id = post_group(client)["group_id"]
    assert_problem(reader.post(f"{V2}/groups/{group_id}/hold"), 403)
    assert writer.post(f"{V2}/groups/{group_id}/hold").status_code == 200
    assert_problem(reader.post(f"{V2}/groups/{group_id}/release"), 403)
    assert writer.post(f"{V2}/groups/{group_id}/release").status_code == 200
