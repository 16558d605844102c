"""Dry runs of create and update (`?dry_run=true`) on both stores: the schedule as it would be
with the lint's warnings, and nothing written: no record, no EventBridge sync, no
Idempotency-Key used up (and, metered on DynamoDB, no write call at all)."""

from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from jobsched.adapters.dynamodb import Dynamo
from jobsched.jobs.keys import mint_key
from jobsched.models import Schedule, Scope
from jobsched.ports import Stores
from tests.support.api import V2
from tests.support.aws_calls import CallMeter

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
BERLIN = {
    "name": "nightly",
    "template_id": "echo",
    "expression": "cron(30 2 * * ? *)",
    "timezone": "Europe/Berlin",
}


@dataclass
class RecordingSync:
    """The EventBridge side, as calls: a dry run must make none."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def create(self, schedule: Schedule) -> None:
        self.calls.append(("create", schedule.schedule_id))

    def update(self, schedule: Schedule) -> None:
        self.calls.append(("update", schedule.schedule_id))

    def delete(self, schedule_id: str) -> None:
        self.calls.append(("delete", schedule_id))

    def set_state(self, schedule: Schedule) -> None:
        self.calls.append(("set_state", schedule.schedule_id))


@pytest.fixture
def sync() -> RecordingSync:
    return RecordingSync()


@pytest.fixture
def api(stores: Stores, sync: RecordingSync, echo_template: str) -> TestClient:
    synced = replace(stores, schedule_sync=sync)
    client = TestClient(create_app(synced), raise_server_exceptions=False)
    secret = mint_key(synced.keys, "test", [Scope.ADMIN]).secret
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def codes(answer: dict[str, Any]) -> list[str]:
    return [warning["code"] for warning in answer["warnings"]]


def listed(api: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get(f"{V2}/schedules").json()["items"]
    return items


def test_a_create_dry_run_answers_the_lints_warnings_and_writes_nothing(
    api: TestClient, sync: RecordingSync
) -> None:
    key = {"Idempotency-Key": "nightly-1"}
    answer = api.post(f"{V2}/schedules", params={"dry_run": "true"}, json=BERLIN, headers=key)

    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert codes(preview) == ["dst_skipped", "dst_repeated"]
    assert preview["warnings"] == api.post(f"{V2}/schedules/lint", json=BERLIN).json()["warnings"]
    assert preview["next_runs"][0]["local"].endswith("T02:30:00+01:00")
    assert listed(api) == []
    assert sync.calls == []
    # the key is not used up: the real create is a create (201), not a replay of the preview
    created = api.post(f"{V2}/schedules", json=BERLIN, headers=key)
    assert created.status_code == 201, created.text
    assert created.json()["schedule_id"] != preview["schedule_id"]
    assert "warnings" not in created.json()  # only a dry run's answer has them
    assert sync.calls == [("create", created.json()["schedule_id"])]


def test_an_update_dry_run_lints_the_change_against_the_others_not_itself(
    api: TestClient, sync: RecordingSync
) -> None:
    daily = {**BERLIN, "name": "daily", "expression": "cron(0 9 * * ? *)", "timezone": "UTC"}
    mine = api.post(f"{V2}/schedules", json=daily).json()
    path = f"{V2}/schedules/{mine['schedule_id']}"
    sync.calls.clear()

    alone = api.patch(path, params={"dry_run": "true"}, json={"catch_up": "none"})
    api.post(f"{V2}/schedules", json={**daily, "name": "reports"})
    before, sync.calls[:] = listed(api), []
    beside = api.patch(path, params={"dry_run": "true"}, json={"name": "renamed"})

    assert alone.status_code == 200, alone.text
    assert codes(alone.json()) == ["missed_fire_lost"]  # no same_minute with its stored self
    assert alone.json()["catch_up"] == "none"
    assert codes(beside.json()) == ["same_minute"]
    assert "reports" in beside.json()["warnings"][0]["message"]
    assert listed(api) == before
    assert sync.calls == []
    updated = api.patch(path, json={"name": "renamed"})
    assert updated.status_code == 200, updated.text
    assert "warnings" not in updated.json()


@pytest.mark.dynamodb_only
def test_dry_runs_make_no_write_call(api: TestClient, dynamo: Dynamo) -> None:
    mine = api.post(f"{V2}/schedules", json=BERLIN).json()
    path = f"{V2}/schedules/{mine['schedule_id']}"

    with CallMeter(dynamo.client) as meter:
        created = api.post(f"{V2}/schedules", params={"dry_run": "true"}, json=BERLIN)
        updated = api.patch(path, params={"dry_run": "true"}, json={"catch_up": "all"})

    assert (created.status_code, updated.status_code) == (200, 200)
    assert {name: n for name, n in meter.by_operation.items() if name in WRITES} == {}
    assert meter.by_operation  # it did read
