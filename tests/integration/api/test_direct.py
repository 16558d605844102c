"""The direct APIs in process (no dispatcher runs here): a short wait answers 202 with the
reservation to poll; bad input is a 422 that reserves nothing; a key is needed."""

import pytest
from fastapi.testclient import TestClient

from jobsched.jobs.seed import seed_default_templates
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem


@pytest.fixture(autouse=True)
def templates(stores: Stores) -> None:
    seed_default_templates(stores)


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_with_nothing_dispatching_a_short_wait_answers_202(client: TestClient, prefix: str) -> None:
    response = client.post(
        f"{prefix}/story/generate", json={"max_stories": 1}, headers={"Prefer": "wait=0"}
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert response.headers["location"] == f"/api/v2/reservations/{body['reservation_id']}"
    assert response.headers["retry-after"] == "5"
    assert response.headers["preference-applied"] == "wait=0"
    polled = client.get(response.headers["location"]).json()
    assert polled["template_id"] == "story_generation"
    assert polled["params"]["max_stories"] == 1
    queue = client.get(f"{V2}/queue").json()
    assert [r["reservation_id"] for r in queue["reservations"]] == [body["reservation_id"]]
    assert queue["items"] == []  # a direct call creates no job
    assert body["waiting"] is None  # nothing holds it: no slot has come free yet


def test_a_paused_queue_holds_a_direct_call_and_its_202_says_so(client: TestClient) -> None:
    client.post(f"{V2}/queue/pause", json={"note": "quota"})

    response = client.post("/story/generate", json={"max_stories": 1}, headers={"Prefer": "wait=0"})

    assert response.status_code == 202, response.text
    assert response.json()["waiting"] == "the queue is paused: quota"


def test_bad_params_are_a_422_that_reserves_nothing(client: TestClient, stores: Stores) -> None:
    for path, body, field in [
        ("/story/generate", {"max_stories": 0}, "params.max_stories"),
        ("/story/generate", {"bogus": True}, "params"),
        ("/research/run", {}, "params"),  # a topic is required
        ("/research/run", [1, 2], None),  # not an object
    ]:
        assert_problem(client.post(path, json=body, headers={"Prefer": "wait=0"}), 422, field)

    assert stores.queue.reservations() == []


def test_a_key_with_write_scope_is_needed(
    client: TestClient, reader: TestClient, stores: Stores
) -> None:
    client.headers.pop("Authorization")
    assert client.post("/story/generate", json={}).status_code == 401
    assert reader.post("/research/run", json={"topic": "kelp"}).status_code == 403
    assert stores.queue.reservations() == []
