"""A schedule's fire: one job per (schedule, scheduled time) whatever the deliveries, each
overlap policy, skipped fires as SKIPPED runs (GET /runs, GET /queue/stats), disabled and
deleted schedules, manual triggers, and the Lambda handler with EventBridge's own input."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

import functions.schedule_fire
from jobsched.adapters.dynamodb import Dynamo
from jobsched.models import FireOutcome, JobStatus, RunStatus
from jobsched.ports import Stores
from jobsched.schedules.fire import FireResult, fire, fire_key, skip_run_id
from jobsched.settings import Settings
from tests.support.api import V2, assert_problem, job_ids, seed_job
from tests.support.eventbridge import World, fire_input, make_world, post_schedule
from tests.support.waiting import BOUND_SECONDS

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


class CountingKicker:
    def __init__(self) -> None:
        self.kicks = 0

    def kick(self) -> None:
        self.kicks += 1


@pytest.fixture
def world(settings: Settings, dynamo: Dynamo, echo_template: str) -> World:
    return make_world(settings, dynamo)


@pytest.fixture
def api(world: World) -> TestClient:
    return world.api


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def runs_of(api: TestClient, schedule_id: str, **query: Any) -> list[dict[str, Any]]:
    response = api.get(f"{V2}/runs", params={"schedule_id": schedule_id, **query})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_fire_enqueues_a_job_of_the_schedule(world: World) -> None:
    kicker = CountingKicker()
    stores = world.stores.with_edges(kicker, world.stores.tasks)
    created = post_schedule(world.api, params={"message": "tick"}, priority="high")

    fired = fire(stores, created["schedule_id"], T0)

    assert fired.result == FireResult.ENQUEUED
    assert fired.job_id is not None
    job = world.api.get(f"{V2}/jobs/{fired.job_id}").json()
    assert job["schedule_id"] == created["schedule_id"]
    assert job["params"] == {"message": "tick", "count": 1}
    assert job["priority"] == "high"
    assert job["status"] == "queued"
    assert kicker.kicks == 1  # the dispatcher is woken
    last_run = world.api.get(f"{V2}/schedules/{created['schedule_id']}").json()["last_run"]
    assert last_run["job_id"] == fired.job_id
    assert last_run["outcome"] == "enqueued"
    assert datetime.fromisoformat(last_run["scheduled_time"]) == T0
    assert last_run["manual"] is False


def test_duplicate_delivery_of_one_fire_creates_one_job(world: World) -> None:
    schedule_id = post_schedule(world.api, overlap_policy="allow")["schedule_id"]

    first = fire(world.stores, schedule_id, T0)
    # the same instant in another notation, as a retry might carry it
    again = fire(world.stores, schedule_id, T0.astimezone(timezone(timedelta(hours=2))))

    assert first.result == FireResult.ENQUEUED
    assert again.result == FireResult.DUPLICATE
    assert again.job_id == first.job_id
    assert job_ids(world.api, schedule_id=schedule_id) == [first.job_id]
    # another time is another job (the policy allows overlap)
    other = fire(world.stores, schedule_id, at(60))
    assert other.result == FireResult.ENQUEUED
    assert len(job_ids(world.api, schedule_id=schedule_id)) == 2


def test_a_duplicate_after_the_schedule_changed_is_still_one_job(world: World) -> None:
    schedule_id = post_schedule(world.api, overlap_policy="allow")["schedule_id"]
    first = fire(world.stores, schedule_id, T0)
    world.api.patch(f"{V2}/schedules/{schedule_id}", json={"params": {"count": 5}})

    again = fire(world.stores, schedule_id, T0)

    assert again.result == FireResult.DUPLICATE
    assert again.job_id == first.job_id
    assert len(job_ids(world.api, schedule_id=schedule_id)) == 1
    # the PATCH (a versioned write) kept the fire's last_run
    body = world.api.get(f"{V2}/schedules/{schedule_id}").json()
    assert body["params"]["count"] == 5
    assert body["last_run"]["job_id"] == first.job_id


def test_skip_records_a_skipped_run_visible_in_runs_and_stats(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]  # overlap_policy: skip (default)
    first = fire(world.stores, schedule_id, T0)

    skipped = fire(world.stores, schedule_id, at(60))

    assert skipped.result == FireResult.SKIPPED
    assert skipped.reason == f"overlap: previous job {first.job_id} is queued"
    assert job_ids(world.api, schedule_id=schedule_id) == [first.job_id]
    [run] = runs_of(world.api, schedule_id)
    assert run["status"] == "skipped"
    assert run["error"] == skipped.reason
    assert run["run_id"] == skipped.run_id
    assert runs_of(world.api, schedule_id, status="skipped") == [run]
    stats = world.api.get(f"{V2}/queue/stats").json()
    assert stats["skipped_fires"] == 1
    last_run = world.api.get(f"{V2}/schedules/{schedule_id}").json()["last_run"]
    assert last_run["outcome"] == "skipped"
    assert last_run["run_id"] == skipped.run_id
    assert last_run["reason"] == skipped.reason

    # a repeat delivery of the skipped fire records nothing more, even once the way is clear
    world.api.post(f"{V2}/jobs/{first.job_id}/cancel")
    again = fire(world.stores, schedule_id, at(60))
    assert again.result == FireResult.DUPLICATE
    assert again.run_id == skipped.run_id
    assert len(runs_of(world.api, schedule_id)) == 1
    assert world.api.get(f"{V2}/queue/stats").json()["skipped_fires"] == 1
    assert job_ids(world.api, schedule_id=schedule_id) == [first.job_id]


def test_skip_also_waits_for_a_running_job(world: World, dynamo: Dynamo) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    seed_job(dynamo, "job_running", JobStatus.RUNNING, schedule_id=schedule_id)

    skipped = fire(world.stores, schedule_id, T0)

    assert skipped.result == FireResult.SKIPPED
    assert skipped.reason == "overlap: previous job job_running is running"


def test_skip_enqueues_once_the_previous_job_ended(world: World, dynamo: Dynamo) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    seed_job(dynamo, "job_done", JobStatus.FINISHED, schedule_id=schedule_id)
    seed_job(dynamo, "job_gone", JobStatus.CANCELLED, schedule_id=schedule_id)

    assert fire(world.stores, schedule_id, T0).result == FireResult.ENQUEUED


def test_allow_enqueues_whatever_runs(world: World, dynamo: Dynamo) -> None:
    schedule_id = post_schedule(world.api, overlap_policy="allow")["schedule_id"]
    seed_job(dynamo, "job_running", JobStatus.RUNNING, schedule_id=schedule_id)

    results = [fire(world.stores, schedule_id, at(n)).result for n in range(3)]

    assert results == [FireResult.ENQUEUED] * 3
    assert len(job_ids(world.api, schedule_id=schedule_id, status="queued")) == 3


def test_buffer_one_queues_one_job_behind_a_running_one(world: World, dynamo: Dynamo) -> None:
    schedule_id = post_schedule(world.api, overlap_policy="buffer_one")["schedule_id"]
    seed_job(dynamo, "job_running", JobStatus.RUNNING, schedule_id=schedule_id)

    buffered = fire(world.stores, schedule_id, at(0))
    skipped = fire(world.stores, schedule_id, at(1))

    assert buffered.result == FireResult.ENQUEUED
    assert skipped.result == FireResult.SKIPPED
    assert skipped.reason == f"overlap: previous job {buffered.job_id} is queued"
    assert job_ids(world.api, schedule_id=schedule_id, status="queued") == [buffered.job_id]


def test_buffer_one_without_a_running_job_enqueues_then_skips(world: World) -> None:
    schedule_id = post_schedule(world.api, overlap_policy="buffer_one")["schedule_id"]
    first = fire(world.stores, schedule_id, at(0))
    second = fire(world.stores, schedule_id, at(1))
    assert first.result == FireResult.ENQUEUED
    assert second.result == FireResult.SKIPPED  # the first still waits: it is the buffer


def test_a_disabled_or_deleted_schedule_does_not_fire(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    world.api.post(f"{V2}/schedules/{schedule_id}/disable", json={"note": "maintenance"})

    assert fire(world.stores, schedule_id, T0).result == FireResult.IGNORED
    assert job_ids(world.api, schedule_id=schedule_id) == []
    assert runs_of(world.api, schedule_id) == []
    assert world.api.get(f"{V2}/schedules/{schedule_id}").json()["last_run"] is None

    world.api.delete(f"{V2}/schedules/{schedule_id}")
    ignored = fire(world.stores, schedule_id, T0)
    assert ignored.result == FireResult.IGNORED
    assert ignored.reason == "no such schedule"


def test_a_fire_from_a_leftover_eventbridge_schedule_deletes_it(world: World) -> None:
    """An EventBridge schedule without a record (a rollback whose delete failed) removes
    itself at its first fire."""
    leftover = post_schedule(world.api)["schedule_id"]
    world.stores.schedules.delete(leftover, 1)  # the record only
    assert world.eventbridge(leftover) is not None

    assert fire(world.stores, leftover, T0).result == FireResult.IGNORED
    assert world.eventbridge(leftover) is None


def test_an_archived_template_skips_with_the_reason(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    world.api.delete(f"{V2}/templates/echo")

    skipped = fire(world.stores, schedule_id, T0)

    assert skipped.result == FireResult.SKIPPED
    assert skipped.reason is not None
    assert "archived" in skipped.reason
    assert runs_of(world.api, schedule_id)[0]["error"] == skipped.reason


def test_params_that_no_longer_match_the_schema_skip_with_the_reason(world: World) -> None:
    schedule_id = post_schedule(world.api, params={"count": 5})["schedule_id"]
    world.api.patch(
        f"{V2}/templates/echo",
        json={"params_schema": {"type": "object", "properties": {"count": {"maximum": 2}}}},
    )

    skipped = fire(world.stores, schedule_id, T0)

    assert skipped.result == FireResult.SKIPPED
    assert skipped.reason is not None
    assert "params.count" in skipped.reason


def test_skipped_run_ids_are_one_per_fire() -> None:
    key = fire_key("sch_1", T0)
    assert key == "schedule:sch_1:2026-05-01T09:00:00Z"
    assert fire_key("sch_1", T0.astimezone(timezone(timedelta(hours=-5)))) == key
    assert skip_run_id(key) == skip_run_id(fire_key("sch_1", T0))
    assert skip_run_id(key) != skip_run_id(fire_key("sch_1", at(1)))
    assert skip_run_id(key) != skip_run_id(fire_key("sch_2", T0))


# --- trigger -------------------------------------------------------------------------------------


def test_trigger_enqueues_now_even_when_disabled(api: TestClient) -> None:
    schedule_id = post_schedule(api, enabled=False)["schedule_id"]

    response = api.post(f"{V2}/schedules/{schedule_id}/trigger")

    assert response.status_code == 201, response.text
    job = response.json()
    assert job["schedule_id"] == schedule_id
    assert job["status"] == "queued"
    last_run = api.get(f"{V2}/schedules/{schedule_id}").json()["last_run"]
    assert last_run["manual"] is True
    assert last_run["job_id"] == job["job_id"]
    assert last_run["scheduled_time"] is None


def test_trigger_honours_the_overlap_policy_unless_forced(api: TestClient) -> None:
    schedule_id = post_schedule(api)["schedule_id"]
    first = api.post(f"{V2}/schedules/{schedule_id}/trigger").json()

    refused = api.post(f"{V2}/schedules/{schedule_id}/trigger", json={"force": False})

    body = assert_problem(refused, 409)
    assert first["job_id"] in body["detail"]
    forced = api.post(f"{V2}/schedules/{schedule_id}/trigger", json={"force": True})
    assert forced.status_code == 201
    assert len(job_ids(api, schedule_id=schedule_id)) == 2
    assert runs_of(api, schedule_id) == []  # a refused trigger is an answer, not a run


def test_trigger_takes_an_idempotency_key(api: TestClient) -> None:
    schedule_id = post_schedule(api, overlap_policy="allow")["schedule_id"]
    headers = {"Idempotency-Key": "click-1"}

    first = api.post(f"{V2}/schedules/{schedule_id}/trigger", headers=headers)
    again = api.post(f"{V2}/schedules/{schedule_id}/trigger", headers=headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["job_id"] == first.json()["job_id"]


def test_trigger_of_an_archived_template_is_a_conflict(api: TestClient) -> None:
    schedule_id = post_schedule(api)["schedule_id"]
    api.delete(f"{V2}/templates/echo")
    assert_problem(api.post(f"{V2}/schedules/{schedule_id}/trigger"), 409)


# --- the Lambda handler ------------------------------------------------------------------------


def test_the_handler_fires_from_eventbridges_own_input(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(functions.schedule_fire, "stores", lambda: world.stores)
    schedule_id = post_schedule(world.api)["schedule_id"]
    found = world.eventbridge(schedule_id)
    assert found is not None
    event = fire_input(found, T0)

    first = functions.schedule_fire.handler(event, None)
    again = functions.schedule_fire.handler(event, None)

    assert first["result"] == "enqueued"
    assert again == {**first, "result": "duplicate"}
    assert job_ids(world.api, schedule_id=schedule_id) == [first["job_id"]]


@pytest.mark.parametrize(
    "event",
    [{}, {"schedule_id": "sch_1"}, {"schedule_id": "sch_1", "scheduled_time": "2026-05-01T09:00"}],
)
def test_the_handler_refuses_a_malformed_event(
    stores: Stores, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import ValidationError

    monkeypatch.setattr(functions.schedule_fire, "stores", lambda: stores)
    with pytest.raises(ValidationError):
        functions.schedule_fire.handler(event, None)


def test_fire_outcomes_match_last_run_outcomes() -> None:
    # LastRun records the two results that change the schedule's history.
    assert {FireOutcome(FireResult.ENQUEUED.value), FireOutcome(FireResult.SKIPPED.value)} == set(
        FireOutcome
    )
    assert RunStatus.SKIPPED.value == FireResult.SKIPPED.value


def test_the_fire_function_imports_neither_fastapi_nor_boto3() -> None:
    """Cold start: a fire loads the core and, at its first store call, boto3; never the API."""
    import subprocess
    import sys

    code = (
        "import sys, functions.schedule_fire, jobsched.schedules.fire; "
        "print(sorted(m for m in ('fastapi', 'api', 'boto3') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=BOUND_SECONDS,
    )
    assert result.stdout.strip() == "[]"
