"""Idempotency-Key on the creates besides POST /jobs: groups, schedules, a schedule's trigger
and the direct calls. A retry with the key makes nothing new and answers what the first made;
the key with another body, or on another endpoint, is a 409 that writes nothing."""

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group_once
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.reservations import reserve_once
from jobsched.jobs.seed import seed_default_templates
from jobsched.ports import IdempotencyClaim, NewJobs, Stores
from jobsched.schedules.fire import FireResult, fire, fire_key
from tests.support.api import V2, assert_problem, job_ids, queue_ids

GROUP = {"name": "pair", "jobs": [{"template_id": "echo"}, {"template_id": "echo"}]}
SCHEDULE = {"name": "hourly", "template_id": "echo", "expression": "rate(1 hour)"}
KEY = {"Idempotency-Key": "retry-7"}
OLD_KEY = {"Idempotency-Key": "old-key"}


def group_ids(client: TestClient) -> list[str]:
    return [group["group_id"] for group in client.get(f"{V2}/groups").json()["items"]]


def schedule_ids(client: TestClient) -> list[str]:
    return [item["schedule_id"] for item in client.get(f"{V2}/schedules").json()["items"]]


def reservation_ids(client: TestClient) -> list[str]:
    return [r["reservation_id"] for r in client.get(f"{V2}/queue").json()["reservations"]]


def assert_replay(first: Any, again: Any, id_field: str) -> None:
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()[id_field] == first.json()[id_field]


# --- groups -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [V2, "/scheduler"])
def test_a_retried_group_is_one_group(client: TestClient, echo_template: str, prefix: str) -> None:
    first = client.post(f"{prefix}/groups", json=GROUP, headers=KEY)
    again = client.post(f"{prefix}/groups", json=GROUP, headers=KEY)

    assert_replay(first, again, "group_id")
    assert again.json()["idempotent_replay"] is True
    assert [job["job_id"] for job in again.json()["jobs"]] == first.json()["job_ids"]
    assert group_ids(client) == [first.json()["group_id"]]
    assert sorted(queue_ids(client)) == sorted(first.json()["job_ids"])


def test_a_group_key_with_another_body_is_409_and_writes_nothing(
    client: TestClient, echo_template: str
) -> None:
    first = client.post(f"{V2}/groups", json=GROUP, headers=KEY).json()

    other = client.post(f"{V2}/groups", json={**GROUP, "name": "other"}, headers=KEY)

    assert "Idempotency-Key" in assert_problem(other, 409)["detail"]
    assert group_ids(client) == [first["group_id"]]
    assert sorted(job_ids(client)) == sorted(first["job_ids"])


def test_a_key_used_on_jobs_is_409_on_groups(client: TestClient, echo_template: str) -> None:
    job = client.post(f"{V2}/jobs", json={"template_id": "echo"}, headers=KEY).json()

    assert_problem(client.post(f"{V2}/groups", json=GROUP, headers=KEY), 409)
    assert_problem(client.post(f"{V2}/schedules", json=SCHEDULE, headers=KEY), 409)

    assert group_ids(client) == []
    assert schedule_ids(client) == []
    assert job_ids(client) == [job["job_id"]]


def test_a_key_used_on_groups_is_409_on_jobs(client: TestClient, echo_template: str) -> None:
    group = client.post(f"{V2}/groups", json=GROUP, headers=KEY).json()

    assert_problem(client.post(f"{V2}/jobs", json={"template_id": "echo"}, headers=KEY), 409)
    assert sorted(job_ids(client)) == sorted(group["job_ids"])


@pytest.mark.usefixtures("atomic_store")
def test_concurrent_groups_with_one_key_make_one_group(stores: Stores, echo_template: str) -> None:
    request = GroupCreate(jobs=[GroupJobSpec(template_id="echo")] * 3)
    start = threading.Barrier(4)

    def create() -> tuple[str, bool]:
        start.wait()
        group, _, created = create_group_once(stores, request, "same-click")
        return group.group_id, created

    with ThreadPoolExecutor(4) as pool:
        results = [f.result() for f in [pool.submit(create) for _ in range(4)]]

    assert len({group_id for group_id, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert len(stores.groups.list_page(10, None).items) == 1
    assert len(stores.queue.head(20)) == 3


def test_a_jobs_key_recorded_before_the_hash_named_its_endpoint_still_replays(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    body = JobCreate(template_id="echo")
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    job, _ = enqueue(stores, body)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    older = IdempotencyClaim("old-key", digest, job.job_id)
    stores.jobs.insert(NewJobs(jobs=[], templates={}, idempotency=older))  # the key alone

    again = client.post(f"{V2}/jobs", json={"template_id": "echo"}, headers=OLD_KEY)

    assert again.status_code == 200, again.text
    assert again.json()["job_id"] == job.job_id
    assert job_ids(client) == [job.job_id]
    assert_problem(client.post(f"{V2}/groups", json=GROUP, headers=OLD_KEY), 409)


# --- schedules ----------------------------------------------------------------------------------


def test_a_retried_schedule_is_one_schedule(client: TestClient, echo_template: str) -> None:
    first = client.post(f"{V2}/schedules", json=SCHEDULE, headers=KEY)
    again = client.post(f"{V2}/schedules", json=SCHEDULE, headers=KEY)

    assert_replay(first, again, "schedule_id")
    assert schedule_ids(client) == [first.json()["schedule_id"]]


def test_a_schedule_key_with_another_body_is_409_and_writes_nothing(
    client: TestClient, echo_template: str
) -> None:
    first = client.post(f"{V2}/schedules", json=SCHEDULE, headers=KEY).json()

    other = client.post(f"{V2}/schedules", json={**SCHEDULE, "name": "other"}, headers=KEY)

    assert_problem(other, 409)
    assert schedule_ids(client) == [first["schedule_id"]]


def test_a_retry_of_a_deleted_schedule_is_409(client: TestClient, echo_template: str) -> None:
    first = client.post(f"{V2}/schedules", json=SCHEDULE, headers=KEY).json()
    client.delete(f"{V2}/schedules/{first['schedule_id']}")

    again = client.post(f"{V2}/schedules", json=SCHEDULE, headers=KEY)

    assert "deleted" in assert_problem(again, 409)["detail"]
    assert schedule_ids(client) == []


# --- a schedule's trigger -----------------------------------------------------------------------


def post_schedule(client: TestClient, **fields: Any) -> str:
    response = client.post(f"{V2}/schedules", json={**SCHEDULE, **fields})
    assert response.status_code == 201, response.text
    schedule_id: str = response.json()["schedule_id"]
    return schedule_id


def trigger(client: TestClient, schedule_id: str, **body: Any) -> Any:
    return client.post(f"{V2}/schedules/{schedule_id}/trigger", json=body, headers=KEY)


def test_a_retried_trigger_answers_its_job_even_under_skip(
    client: TestClient, echo_template: str
) -> None:
    # Under `skip`, the first trigger's own queued job would make a new trigger a 409.
    schedule_id = post_schedule(client, overlap_policy="skip")

    first = trigger(client, schedule_id)
    again = trigger(client, schedule_id)

    assert_replay(first, again, "job_id")
    assert job_ids(client, schedule_id=schedule_id) == [first.json()["job_id"]]


def test_a_trigger_key_with_another_body_or_schedule_is_409(
    client: TestClient, echo_template: str
) -> None:
    schedule_id = post_schedule(client, overlap_policy="allow")
    other_id = post_schedule(client, overlap_policy="allow", name="other")
    first = trigger(client, schedule_id).json()

    assert_problem(trigger(client, schedule_id, force=True), 409)
    assert_problem(trigger(client, other_id), 409)

    assert job_ids(client) == [first["job_id"]]


# --- the direct calls ---------------------------------------------------------------------------


@pytest.fixture
def templates(stores: Stores) -> None:
    seed_default_templates(stores)


DIRECT_HEADERS = {**KEY, "Prefer": "wait=0"}


@pytest.mark.usefixtures("templates")
@pytest.mark.parametrize(
    ("path", "params"),
    [("/story/generate", {"max_stories": 1}), ("/api/v1/research/run", {"topic": "tides"})],
)
def test_a_retried_direct_call_waits_on_its_one_reservation(
    client: TestClient, path: str, params: dict[str, Any]
) -> None:
    first = client.post(path, json=params, headers=DIRECT_HEADERS)
    again = client.post(path, json=params, headers=DIRECT_HEADERS)

    assert first.status_code == again.status_code == 202  # nothing dispatches here
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["reservation_id"] == first.json()["reservation_id"]
    assert again.headers["location"] == first.headers["location"]
    assert reservation_ids(client) == [first.json()["reservation_id"]]


@pytest.mark.usefixtures("templates")
def test_a_direct_key_with_another_body_or_api_is_409(client: TestClient) -> None:
    first = client.post("/story/generate", json={"max_stories": 1}, headers=DIRECT_HEADERS)

    other = client.post("/story/generate", json={"max_stories": 2}, headers=DIRECT_HEADERS)
    research = client.post("/research/run", json={"topic": "tides"}, headers=DIRECT_HEADERS)
    job = client.post(
        f"{V2}/jobs", json={"template_id": "research", "params": {"topic": "tides"}}, headers=KEY
    )

    for refused in (other, research, job):
        assert_problem(refused, 409)
    assert reservation_ids(client) == [first.json()["reservation_id"]]
    assert job_ids(client) == []


@pytest.mark.usefixtures("templates", "atomic_store")
def test_concurrent_direct_calls_with_one_key_make_one_reservation(stores: Stores) -> None:
    start = threading.Barrier(4)

    def call() -> str:
        start.wait()
        reservation, _ = reserve_once(stores, "story_generation", {"max_stories": 1}, "k")
        return reservation.reservation_id

    with ThreadPoolExecutor(4) as pool:
        made = {f.result() for f in [pool.submit(call) for _ in range(4)]}

    assert len(made) == 1
    assert [r.job_id for r in stores.queue.reservations()] == list(made)


# --- the scheduler's own keys -------------------------------------------------------------------


def test_a_client_key_cannot_take_a_schedule_fires_place(
    stores: Stores, client: TestClient, echo_template: str
) -> None:
    schedule_id = client.post(f"{V2}/schedules", json=SCHEDULE).json()["schedule_id"]
    due = datetime(2030, 1, 1, tzinfo=UTC)
    taken = {"Idempotency-Key": fire_key(schedule_id, due)}

    for path, body in [(f"{V2}/jobs", {"template_id": "echo"}), (f"{V2}/groups", GROUP)]:
        assert_problem(client.post(path, json=body, headers=taken), 422, "header.idempotency-key")
    assert queue_ids(client) == []
    assert fire(stores, schedule_id, due).result == FireResult.ENQUEUED
