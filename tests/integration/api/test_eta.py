"""ETAs (issue 14, point 1) in GET /queue, GET /jobs/{id} (v2, /scheduler and legacy) and
GET /reservations/{id}, from the templates' recent completed runs."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.reservations import reserve
from jobsched.ports import Stores
from tests.support.api import V2, post_job, post_template, queue
from tests.support.eta import MINUTE, assert_near


def test_each_queued_job_starts_after_the_work_ahead_of_it(client: TestClient, timed: str) -> None:
    ids = [post_job(client, timed)["job_id"] for _ in range(3)]

    items = queue(client)["items"]

    assert [item["job_id"] for item in items] == ids
    for index, item in enumerate(items):
        eta = item["eta"]
        assert eta["state"] == "estimated"
        assert eta["basis"] == "history"
        assert eta["unread_ahead"] == 0
        assert_near(eta["start_p50"], index * MINUTE)
        assert_near(eta["finish_p90"], (index + 1) * MINUTE)


def test_a_later_page_counts_the_jobs_ahead_without_reading_them(
    client: TestClient, timed: str
) -> None:
    for _ in range(3):
        post_job(client, timed)
    first = queue(client, limit=2)

    second = queue(client, limit=2, cursor=first["next_cursor"])

    [item] = second["items"]
    assert item["eta"]["unread_ahead"] == 2
    assert_near(item["eta"]["start_p50"], 2 * MINUTE)


def test_a_template_without_history_draws_from_all_templates(
    client: TestClient, timed: str
) -> None:
    post_template(client, "fresh")
    post_job(client, timed)
    fresh = post_job(client, "fresh")["job_id"]

    eta = client.get(f"{V2}/jobs/{fresh}").json()["eta"]

    assert eta["basis"] == "pooled"
    assert_near(eta["start_p50"], MINUTE)


def test_with_no_history_at_all_an_assumed_duration_is_said(client: TestClient) -> None:
    post_template(client, "fresh")
    post_job(client, "fresh")
    second = post_job(client, "fresh")["job_id"]

    eta = client.get(f"{V2}/jobs/{second}").json()["eta"]

    assert eta["basis"] == "default"
    assert_near(eta["start_p50"], 300.0)


@pytest.mark.parametrize("prefix", [V2, "/scheduler", ""])
def test_a_jobs_eta_is_in_its_status_on_every_prefix(
    client: TestClient, timed: str, prefix: str
) -> None:
    for _ in range(2):
        post_job(client, timed)
    third = post_job(client, timed)["job_id"]

    answer = client.get(f"{prefix}/jobs/{third}")

    assert answer.status_code == 200, answer.text
    assert answer.json()["eta"]["state"] == "estimated"
    assert_near(answer.json()["eta"]["start_p50"], 2 * MINUTE)


def test_a_paused_queue_gives_no_eta_and_says_why(client: TestClient, timed: str) -> None:
    job_id = post_job(client, timed)["job_id"]
    assert client.post(f"{V2}/queue/pause", json={"note": "provider outage"}).status_code == 200

    [item] = queue(client)["items"]
    single = client.get(f"{V2}/jobs/{job_id}").json()["eta"]

    for eta in (item["eta"], single):
        assert eta["state"] == "paused"
        assert eta["start_p50"] is None
        assert eta["reason"] == "the queue is paused: provider outage"


def test_a_running_job_shows_its_finish_and_delays_the_queue(
    client: TestClient, stores: Stores, timed: str
) -> None:
    running = post_job(client, timed)["job_id"]
    waiting = post_job(client, timed)["job_id"]
    claim = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1)).claim()
    assert claim is not None

    now_running = client.get(f"{V2}/jobs/{running}").json()["eta"]
    queued = client.get(f"{V2}/jobs/{waiting}").json()["eta"]

    assert now_running["state"] == "running"
    assert_near(now_running["finish_p50"], MINUTE)
    assert_near(queued["start_p50"], MINUTE)


def test_a_finished_job_has_no_eta(client: TestClient, stores: Stores, timed: str) -> None:
    job_id = post_job(client, timed)["job_id"]
    client.post(f"{V2}/jobs/{job_id}/cancel")

    assert client.get(f"{V2}/jobs/{job_id}").json()["eta"] is None


def test_reservations_go_first_and_have_their_own_eta(
    client: TestClient, stores: Stores, timed: str
) -> None:
    job_id = post_job(client, timed)["job_id"]
    reservation = reserve(stores, timed, {})

    page: dict[str, Any] = queue(client)
    own = client.get(f"{V2}/reservations/{reservation.reservation_id}").json()["eta"]

    [shown] = page["reservations"]
    assert_near(shown["eta"]["start_p50"], 0.0)
    assert_near(own["start_p50"], 0.0)
    [item] = page["items"]
    assert item["job_id"] == job_id
    assert_near(item["eta"]["start_p50"], MINUTE)  # behind the reservation


def test_a_held_job_says_held_and_the_next_one_goes_first(client: TestClient, timed: str) -> None:
    held = post_job(client, timed)["job_id"]
    after = post_job(client, timed)["job_id"]
    answer = client.post(f"{V2}/jobs/{held}/hold", json={"note": "prompt under review"})
    assert answer.status_code == 200, answer.text

    items = {item["job_id"]: item["eta"] for item in queue(client)["items"]}
    single = client.get(f"{V2}/jobs/{held}").json()["eta"]

    for eta in (items[held], single):
        assert eta["state"] == "held"
        assert eta["start_p50"] is None
        assert "prompt under review" in eta["reason"]
    assert_near(items[after]["start_p50"], 0.0)


def test_a_held_groups_jobs_say_held_and_the_job_behind_it_goes_first(
    client: TestClient, timed: str
) -> None:
    for mode in ("parallel", "sequential"):
        body = {"mode": mode, "jobs": [{"template_id": timed}] * 2}
        group = client.post(f"{V2}/groups", json=body).json()
        answer = client.post(f"{V2}/groups/{group['group_id']}/hold", json={"note": "audit"})
        assert answer.status_code == 200, answer.text
    after = post_job(client, timed)["job_id"]

    items = {item["job_id"]: item["eta"] for item in queue(client)["items"]}

    held = [eta for job_id, eta in items.items() if job_id != after]
    assert len(held) == 4
    for eta in held:
        assert eta["state"] == "held"
        assert eta["start_p50"] is None
        assert "audit" in eta["reason"]
    assert_near(items[after]["start_p50"], 0.0)


def test_a_full_concurrency_key_holds_a_job_back_while_another_slot_runs_others(
    client: TestClient, stores: Stores, timed: str
) -> None:
    from api.app import create_app

    two_slots = TestClient(create_app(stores, slots=2), raise_server_exceptions=False)
    two_slots.headers["Authorization"] = client.headers["Authorization"]
    limit = {"concurrency": [{"key": "template", "limit": 1}]}
    assert client.patch(f"{V2}/templates/{timed}", json=limit).status_code == 200
    first, second = (post_job(client, timed)["job_id"] for _ in range(2))
    post_template(client, "other")
    other = post_job(client, "other")["job_id"]

    items = {item["job_id"]: item["eta"] for item in queue(two_slots)["items"]}

    assert_near(items[first]["start_p50"], 0.0)
    assert_near(items[second]["start_p50"], MINUTE)  # its key is full until the first ends
    assert_near(items[other]["start_p50"], 0.0)  # the second slot runs it meanwhile
