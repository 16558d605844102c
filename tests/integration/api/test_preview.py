"""POST /queue/preview (issue 14, point 2): the order and ETAs a change would give, beside
today's, with nothing written."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.adapters.dynamodb import Dynamo
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem, post_job, post_template, queue_ids
from tests.support.aws_calls import CallMeter
from tests.support.eta import MINUTE, assert_near

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def preview(client: TestClient, **change: Any) -> dict[str, Any]:
    answer = client.post(f"{V2}/queue/preview", json=change)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["job_id"]: item for item in body["items"]}


@pytest.fixture
def three(client: TestClient, timed: str) -> list[str]:
    return [post_job(client, timed)["job_id"] for _ in range(3)]


def test_a_move_to_the_top_shows_the_new_order_and_etas_beside_todays(
    client: TestClient, three: list[str]
) -> None:
    a, b, c = three

    body = preview(client, move={"job_id": c, "position": 1})

    assert [item["job_id"] for item in body["items"]] == [c, a, b]
    shown = rows(body)
    assert (shown[c]["position_now"], shown[c]["position"]) == (3, 1)
    assert_near(shown[c]["eta_now"]["start_p50"], 2 * MINUTE)
    assert_near(shown[c]["eta"]["start_p50"], 0.0)
    assert_near(shown[b]["eta"]["start_p50"], 2 * MINUTE)
    assert sorted(body["affected"]) == sorted(three)
    assert queue_ids(client) == three  # nothing moved


def test_jobs_ahead_of_a_change_are_not_affected(client: TestClient, three: list[str]) -> None:
    a, b, c = three

    body = preview(client, move={"job_id": c, "before": b})

    assert body["affected"] == [c, b]
    assert rows(body)[a]["eta"] == rows(body)[a]["eta_now"]


def test_a_new_job_at_a_position_delays_those_behind_it(
    client: TestClient,
    three: list[str],
    timed: str,
) -> None:
    a, b, c = three

    body = preview(client, new_job={"template_id": timed, "position": 2})

    assert [item["job_id"] for item in body["items"]] == [a, "new", b, c]
    assert rows(body)["new"]["position_now"] is None
    assert_near(rows(body)[c]["eta"]["start_p50"], 3 * MINUTE)
    assert "new" in body["affected"]
    assert a not in body["affected"]
    assert queue_ids(client) == three


def test_a_cancel_moves_the_rest_up_and_lists_the_job_with_no_place(
    client: TestClient, three: list[str]
) -> None:
    a, b, c = three

    body = preview(client, cancel={"job_id": a})

    assert [item["job_id"] for item in body["items"]] == [b, c, a]
    assert rows(body)[a]["position"] is None
    assert rows(body)[a]["eta"] is None
    assert_near(rows(body)[c]["eta"]["start_p50"], MINUTE)
    assert client.get(f"{V2}/jobs/{a}").json()["status"] == "queued"


def test_a_hold_passes_the_job_over(client: TestClient, three: list[str]) -> None:
    a, b, _ = three

    body = preview(client, hold={"job_id": a})

    assert rows(body)[a]["eta"]["state"] == "held"
    assert rows(body)[a]["position"] == 1  # it keeps its place
    assert_near(rows(body)[b]["eta"]["start_p50"], 0.0)
    assert client.get(f"{V2}/jobs/{a}").json()["status"] == "queued"


def test_a_priority_and_a_reorder_are_previewed_as_they_would_be_done(
    client: TestClient, three: list[str]
) -> None:
    a, b, c = three

    raised = preview(client, priority={"job_id": c, "priority": "high"})
    reordered = preview(client, reorder={"job_ids": [c, b, a]})

    assert [item["job_id"] for item in raised["items"]] == [c, a, b]
    assert rows(raised)[c]["priority"] == "high"
    assert [item["job_id"] for item in reordered["items"]] == [c, b, a]
    assert queue_ids(client) == three


def test_a_preview_is_refused_as_the_change_would_be(client: TestClient, three: list[str]) -> None:
    assert_problem(client.post(f"{V2}/queue/preview", json={}), 422)
    both = {"cancel": {"job_id": three[0]}, "hold": {"job_id": three[1]}}
    assert_problem(client.post(f"{V2}/queue/preview", json=both), 422)
    missing = {"move": {"job_id": "job_missing", "position": 1}}
    assert_problem(client.post(f"{V2}/queue/preview", json=missing), 404)
    client.post(f"{V2}/jobs/{three[0]}/cancel")
    gone = {"cancel": {"job_id": three[0]}}
    assert_problem(client.post(f"{V2}/queue/preview", json=gone), 409)
    unknown = {"new_job": {"template_id": "nope"}}
    assert_problem(client.post(f"{V2}/queue/preview", json=unknown), 404)


def test_the_scheduler_prefix_serves_it(client: TestClient, three: list[str]) -> None:
    answer = client.post("/scheduler/queue/preview", json={"cancel": {"job_id": three[0]}})
    assert answer.status_code == 200, answer.text


@pytest.mark.dynamodb_only
def test_a_preview_writes_nothing(
    client: TestClient,
    stores: Stores,
    dynamo: Dynamo,
    three: list[str],
    timed: str,
) -> None:
    post_template(client, "other")
    changes: list[dict[str, Any]] = [
        {"move": {"job_id": three[2], "position": 1}},
        {"priority": {"job_id": three[2], "priority": "low"}},
        {"reorder": {"job_ids": list(reversed(three))}},
        {"new_job": {"template_id": "other", "position": 1}},
        {"cancel": {"job_id": three[0]}},
        {"hold": {"job_id": three[1]}},
    ]
    with CallMeter(dynamo.client) as meter:
        for change in changes:
            preview(client, **change)

    writes = {name: n for name, n in meter.by_operation.items() if name in WRITES}
    assert writes == {}
    assert meter.by_operation  # it did read
