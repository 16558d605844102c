"""Our record and the EventBridge schedule never stay apart: a failed EventBridge call rolls the
record back (create) or restores it (patch, enable/disable, delete) and answers 503, and
`repair_drift` re-applies whatever a crash or a failed undo left marked."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobsched.adapters.dynamodb import Dynamo
from jobsched.errors import UnavailableError
from jobsched.models import PendingSync, SyncAction
from jobsched.schedules import usecases as use
from jobsched.schedules import writes
from jobsched.schedules.usecases import repair_drift
from jobsched.settings import Settings
from tests.support.api import V2, assert_problem
from tests.support.eventbridge import (
    World,
    client_error,
    make_world,
    post_schedule,
    schedule_body,
)


@pytest.fixture
def world(settings: Settings, dynamo: Dynamo, echo_template: str) -> World:
    return make_world(settings, dynamo)


def failing(operation: str, code: str = "InternalServerException") -> Callable[..., Any]:
    def fail(**_: Any) -> Any:
        raise client_error(operation, code)

    return fail


def record(world: World, schedule_id: str) -> Any:
    return world.stores.schedules.find(schedule_id)


def test_a_failed_create_leaves_neither(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(world.scheduler, "create_schedule", failing("CreateSchedule"))

    response = world.api.post(f"{V2}/schedules", json=schedule_body())

    assert_problem(response, 503)
    assert response.headers["retry-after"]
    assert world.api.get(f"{V2}/schedules").json()["items"] == []
    assert world.eventbridge_names() == []


def test_a_missing_schedule_group_is_a_503_and_a_rollback(
    settings: Settings, dynamo: Dynamo, echo_template: str
) -> None:
    # moto answers 500 for a group that does not exist (AWS: ResourceNotFoundException).
    world = make_world(settings, dynamo, create_group=False)

    assert_problem(world.api.post(f"{V2}/schedules", json=schedule_body()), 503)
    assert world.api.get(f"{V2}/schedules").json()["items"] == []


def test_eventbridge_refusing_a_definition_is_a_422_and_a_rollback(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        world.scheduler, "create_schedule", failing("CreateSchedule", "ValidationException")
    )
    response = world.api.post(f"{V2}/schedules", json=schedule_body())
    assert_problem(response, 422, field="schedule")
    assert world.api.get(f"{V2}/schedules").json()["items"] == []


def test_a_create_whose_rollback_fails_is_applied_by_the_repair(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world.scheduler, "create_schedule", failing("CreateSchedule"))
    real_delete = world.stores.schedules.delete

    def store_down(schedule_id: str, expected_version: int, release_key: str | None = None) -> None:
        raise UnavailableError("the store is busy")

    monkeypatch.setattr(world.stores.schedules, "delete", store_down)

    response = world.api.post(f"{V2}/schedules", json=schedule_body())

    body = assert_problem(response, 503)
    assert "will be applied" in body["detail"]
    [item] = world.api.get(f"{V2}/schedules").json()["items"]
    assert item["sync_pending"] is True
    assert world.eventbridge_names() == []

    monkeypatch.undo()
    assert world.stores.schedules.delete == real_delete
    report = repair_drift(world.stores, older_than=timedelta(0))

    assert report.applied == [item["schedule_id"]]
    assert world.eventbridge_names() == [item["schedule_id"]]
    assert world.api.get(f"{V2}/schedules/{item['schedule_id']}").json()["sync_pending"] is False


def test_a_retried_create_writes_eventbridge_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_create = world.scheduler.create_schedule

    def counted(**request: Any) -> Any:
        calls.append(request["Name"])
        return real_create(**request)

    monkeypatch.setattr(world.scheduler, "create_schedule", counted)
    headers = {"Idempotency-Key": "sched-1"}

    first = world.api.post(f"{V2}/schedules", json=schedule_body(), headers=headers)
    again = world.api.post(f"{V2}/schedules", json=schedule_body(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["schedule_id"] == first.json()["schedule_id"]
    assert calls == [first.json()["schedule_id"]]
    assert world.eventbridge_names() == calls


def test_a_failed_create_lets_its_key_be_used_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {"Idempotency-Key": "sched-2"}
    monkeypatch.setattr(world.scheduler, "create_schedule", failing("CreateSchedule"))
    assert_problem(world.api.post(f"{V2}/schedules", json=schedule_body(), headers=headers), 503)
    monkeypatch.undo()

    retried = world.api.post(f"{V2}/schedules", json=schedule_body(), headers=headers)

    assert retried.status_code == 201, retried.text
    assert world.eventbridge_names() == [retried.json()["schedule_id"]]


def test_a_replay_while_the_first_create_is_applied_is_409(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first call wrote its record and key, and has not written EventBridge yet.
    headers = {"Idempotency-Key": "sched-3"}
    body = schedule_body()
    calls: list[Any] = []

    def meanwhile(sync: Any, schedule: Any) -> None:
        calls.append(world.api.post(f"{V2}/schedules", json=body, headers=headers))
        sync.create(schedule)

    monkeypatch.setattr(writes, "create_new", meanwhile)
    first = world.api.post(f"{V2}/schedules", json=body, headers=headers)
    monkeypatch.undo()

    assert first.status_code == 201, first.text
    assert "still being applied" in assert_problem(calls[0], 409)["detail"]
    assert world.api.post(f"{V2}/schedules", json=body, headers=headers).status_code == 200


def test_a_failed_patch_restores_the_record_and_the_repair_reapplies_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule_id = post_schedule(world.api, expression="rate(1 hour)")["schedule_id"]
    monkeypatch.setattr(world.scheduler, "update_schedule", failing("UpdateSchedule"))

    response = world.api.patch(
        f"{V2}/schedules/{schedule_id}", json={"expression": "rate(2 hours)", "name": "new"}
    )

    assert_problem(response, 503)
    body = world.api.get(f"{V2}/schedules/{schedule_id}").json()
    assert body["expression"] == "rate(1 hour)"
    assert body["name"] == "daily echo"
    # restored as a new version, marked: a call that failed on a timeout may have applied
    assert body["version"] == 3
    assert body["sync_pending"] is True
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["ScheduleExpression"] == "rate(1 hour)"

    monkeypatch.undo()
    assert repair_drift(world.stores, older_than=timedelta(0)).applied == [schedule_id]
    assert world.api.get(f"{V2}/schedules/{schedule_id}").json()["sync_pending"] is False
    # and the patch itself goes through on a retry
    response = world.api.patch(
        f"{V2}/schedules/{schedule_id}", json={"expression": "rate(2 hours)"}
    )
    assert response.status_code == 200
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["ScheduleExpression"] == "rate(2 hours)"


def test_repair_reapplies_a_pending_change_that_never_reached_eventbridge(
    world: World,
) -> None:
    """What a crash between the record write and the EventBridge call leaves behind."""
    schedule_id = post_schedule(world.api, expression="rate(1 hour)")["schedule_id"]
    current = world.stores.schedules.get(schedule_id)
    stale = datetime.now(UTC) - timedelta(minutes=5)
    changed = use.next_version(current, {"expression": "rate(3 hours)"}, stale).model_copy(
        update={"pending_sync": PendingSync(since=stale)}
    )
    world.stores.schedules.replace(changed, expected_version=current.version)

    report = repair_drift(world.stores)  # default: markers older than a minute

    assert report.applied == [schedule_id]
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["ScheduleExpression"] == "rate(3 hours)"
    after = world.stores.schedules.get(schedule_id)
    assert after.pending_sync is None
    assert after.version == changed.version


def test_repair_leaves_young_markers_to_their_request(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    current = world.stores.schedules.get(schedule_id)
    fresh = use.next_version(current, {"name": "in flight"}, datetime.now(UTC))
    world.stores.schedules.replace(
        fresh.model_copy(update={"pending_sync": PendingSync()}), expected_version=1
    )

    report = repair_drift(world.stores)

    assert report.applied == []
    assert world.stores.schedules.get(schedule_id).pending_sync is not None


def test_repair_recreates_an_eventbridge_schedule_deleted_out_of_band(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    world.scheduler.delete_schedule(Name=schedule_id, GroupName=world.group)

    # a change finds it missing and creates it again
    response = world.api.post(f"{V2}/schedules/{schedule_id}/disable", json={"note": "x"})

    assert response.status_code == 200, response.text
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["State"] == "DISABLED"


def test_a_failed_disable_keeps_it_enabled(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    monkeypatch.setattr(world.scheduler, "update_schedule", failing("UpdateSchedule"))

    assert_problem(world.api.post(f"{V2}/schedules/{schedule_id}/disable"), 503)

    assert world.api.get(f"{V2}/schedules/{schedule_id}").json()["enabled"] is True
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["State"] == "ENABLED"


def test_a_failed_eventbridge_delete_keeps_the_schedule(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    monkeypatch.setattr(world.scheduler, "delete_schedule", failing("DeleteSchedule"))

    assert_problem(world.api.delete(f"{V2}/schedules/{schedule_id}"), 503)

    assert world.api.get(f"{V2}/schedules/{schedule_id}").status_code == 200
    assert world.eventbridge(schedule_id) is not None


def test_a_delete_whose_record_delete_fails_is_finished_by_the_repair(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]

    def store_down(schedule_id: str, expected_version: int) -> None:
        raise UnavailableError("the store is busy")

    monkeypatch.setattr(world.stores.schedules, "delete", store_down)

    assert world.api.delete(f"{V2}/schedules/{schedule_id}").status_code == 204

    assert world.eventbridge(schedule_id) is None
    assert_problem(world.api.get(f"{V2}/schedules/{schedule_id}"), 404)  # reads as deleted
    left = world.stores.schedules.find(schedule_id)
    assert left is not None
    assert left.pending_sync is not None
    assert left.pending_sync.action == SyncAction.DELETE

    monkeypatch.undo()
    report = repair_drift(world.stores, older_than=timedelta(0))

    assert report.deleted == [schedule_id]
    assert world.stores.schedules.find(schedule_id) is None


def test_a_delete_of_a_schedule_already_gone_from_eventbridge(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    world.scheduler.delete_schedule(Name=schedule_id, GroupName=world.group)
    assert world.api.delete(f"{V2}/schedules/{schedule_id}").status_code == 204
    assert world.stores.schedules.find(schedule_id) is None


def test_one_failing_repair_does_not_stop_the_others(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [post_schedule(world.api, name=f"s{n}")["schedule_id"] for n in range(2)]
    for schedule_id in ids:
        current = world.stores.schedules.get(schedule_id)
        marked = use.next_version(current, {"name": "pending"}, current.updated_at)
        world.stores.schedules.replace(
            marked.model_copy(update={"pending_sync": PendingSync()}), current.version
        )
    real_update = world.scheduler.update_schedule

    def fail_first(**request: Any) -> Any:
        if request["Name"] == ids[0]:
            raise client_error("UpdateSchedule", "InternalServerException")
        return real_update(**request)

    monkeypatch.setattr(world.scheduler, "update_schedule", fail_first)

    report = repair_drift(world.stores, older_than=timedelta(0))

    assert report.failed == [ids[0]]
    assert report.applied == [ids[1]]
    assert world.stores.schedules.get(ids[0]).pending_sync is not None


def test_a_concurrent_change_is_a_conflict(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    current = world.stores.schedules.get(schedule_id)
    world.stores.schedules.replace(use.next_version(current, {"name": "a"}, current.updated_at), 1)

    from jobsched.errors import ConflictError

    with pytest.raises(ConflictError):
        world.stores.schedules.replace(
            use.next_version(current, {"name": "b"}, current.updated_at), 1
        )
    assert world.stores.schedules.get(schedule_id).name == "a"
