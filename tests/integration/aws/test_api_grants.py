"""The API role's DynamoDB grants (infra/constructs/api.py, API_TABLE_ACTIONS) against what the
app really does: a tour of its routes on moto, every DynamoDB call made while serving a request
recorded as the IAM action it needs (a transaction needs one per item), and each one granted.

An adapter that starts to delete runs, or scan a table, fails here before it fails on AWS with
AccessDenied.
"""

from pathlib import Path
from typing import Any

import botocore.client
import pytest
from fastapi.testclient import TestClient

import api
from api.app import create_app
from api.legacy.deprecation import DeprecationPolicy
from infra.constructs.api import API_TABLE_ACTIONS
from jobsched.jobs.keys import mint_key
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import Scope
from jobsched.models.units import Claim
from jobsched.ports import Stores
from jobsched.settings import Settings

V2 = "/api/v2"
API_DIR = str(Path(api.__file__).parent)
TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


class StartedLauncher:
    """USE_SCHEDULER=false: the task 'starts' (RunTask is the role's ECS grant, not this)."""

    def __init__(self) -> None:
        self.claims: list[Claim] = []

    def launch(self, claim: Claim) -> None:
        self.claims.append(claim)


def _serving_a_request() -> bool:
    import traceback

    return any(frame.filename.startswith(API_DIR) for frame in traceback.extract_stack())


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """(action, table) of every DynamoDB call made from the app's code."""
    seen: set[tuple[str, str]] = set()
    make_call = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb" and _serving_a_request():
            if operation == "TransactWriteItems":
                for item in params["TransactItems"]:
                    ((kind, body),) = item.items()
                    seen.add((f"dynamodb:{TRANSACTION_ITEMS[kind]}", body["TableName"]))
            else:
                seen.add((f"dynamodb:{operation}", str(params.get("TableName"))))
        return make_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return seen


def _client(stores: Stores, settings: Settings, *, use_scheduler: bool) -> TestClient:
    client = TestClient(create_app(stores), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {mint_key(stores.keys, 't', [Scope.ADMIN]).secret}"
    client.app.state.deprecation = DeprecationPolicy(  # type: ignore[attr-defined]
        settings.legacy_deprecated_at,
        settings.legacy_sunset_at,
        settings.legacy_migration_url,
        use_scheduler=use_scheduler,
    )
    return client


@pytest.fixture
def queued(stores: Stores, settings: Settings) -> TestClient:
    seed_default_templates(stores)
    return _client(stores, settings, use_scheduler=True)


@pytest.fixture
def immediate(stores: Stores, settings: Settings) -> TestClient:
    seed_default_templates(stores)
    return _client(stores.with_launcher(StartedLauncher()), settings, use_scheduler=False)


def ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def _tour_v2(client: TestClient) -> None:
    ok(
        client.post(
            f"{V2}/templates", json={"template_id": "tour", "name": "T", "workload": "echo"}
        )
    )
    ok(client.patch(f"{V2}/templates/tour", json={"description": "changed"}))
    ok(client.get(f"{V2}/templates"))
    first = ok(client.post(f"{V2}/jobs", json={"template_id": "echo"}))["job_id"]
    second = ok(client.post(f"{V2}/jobs", json={"template_id": "tour"}))["job_id"]
    ok(client.get(f"{V2}/templates/tour/versions"))
    ok(client.get(f"{V2}/templates/tour/versions/1"))
    ok(client.delete(f"{V2}/templates/tour"))
    ok(client.post(f"{V2}/templates/tour/restore"))
    ok(client.delete(f"{V2}/templates/tour"))
    ok(client.get(f"{V2}/jobs", params={"status": "queued"}))
    ok(client.get(f"{V2}/jobs/{first}/runs"))
    ok(client.get(f"{V2}/queue"))
    ok(client.get(f"{V2}/queue/stats"))
    ok(client.post(f"{V2}/queue/{second}/move", json={"position": 1}))
    ok(client.post(f"{V2}/queue/{first}/priority", json={"priority": "high"}))
    ok(client.post(f"{V2}/queue/reorder", json={"job_ids": [second, first]}))
    ok(client.post(f"{V2}/queue/pause"))
    ok(client.post(f"{V2}/queue/resume"))
    ok(client.post(f"{V2}/jobs/{second}/cancel"))
    group = ok(client.post(f"{V2}/groups", json={"jobs": [{"template_id": "echo"}] * 2}))
    ok(client.get(f"{V2}/groups"))
    ok(client.post(f"{V2}/groups/{group['group_id']}/cancel"))
    schedule = ok(
        client.post(
            f"{V2}/schedules",
            json={"name": "hourly", "template_id": "echo", "expression": "rate(1 hour)"},
        )
    )["schedule_id"]
    ok(client.patch(f"{V2}/schedules/{schedule}", json={"name": "still hourly"}))
    ok(client.post(f"{V2}/schedules/{schedule}/disable"))
    ok(client.post(f"{V2}/schedules/{schedule}/enable"))
    ok(client.post(f"{V2}/schedules/{schedule}/trigger"))
    ok(client.get(f"{V2}/schedules"))
    ok(client.delete(f"{V2}/schedules/{schedule}"))
    ok(client.get(f"{V2}/runs"))
    ok(client.get(f"{V2}/keys/me"))
    key = ok(client.post(f"{V2}/keys", json={"name": "tour", "scopes": ["read"]}))["key_id"]
    ok(client.get(f"{V2}/keys"))
    ok(client.post(f"{V2}/keys/{key}/revoke"))
    ok(client.post(f"{V2}/keys/{key}/revoke"))


def _tour_direct(client: TestClient) -> None:
    reservation = client.post("/story/generate", json={}, headers={"Prefer": "wait=0"})
    assert reservation.status_code == 202, reservation.text
    ok(client.get(reservation.headers["location"]))
    ok(client.get("/story/list"))
    ok(client.get("/research/list"))


def _tour_legacy(client: TestClient) -> None:
    job = ok(client.post("/jobs/story/trigger", json={"max_stories": 1}))["job_id"]
    batch = ok(client.post("/jobs/batch/trigger", json={"jobs": [{"job_type": "echo"}] * 2}))
    ok(client.get(f"/jobs/batch/{batch['batch_id']}"))
    ok(client.get("/jobs"))
    ok(client.post("/jobs/monitor"))
    ok(client.post(f"/jobs/{job}/monitor"))
    ok(client.post(f"/jobs/{job}/cancel"))


def _not_granted(calls: set[tuple[str, str]], settings: Settings) -> set[tuple[str, str]]:
    tables = {settings.table(entity): entity for entity in API_TABLE_ACTIONS}
    return {
        (action, table)
        for action, table in calls
        if action not in API_TABLE_ACTIONS.get(tables.get(table, ""), ())
    }


def test_the_queued_api_needs_only_its_grants(
    queued: TestClient, calls: set[tuple[str, str]], settings: Settings
) -> None:
    _tour_v2(queued)
    _tour_direct(queued)
    _tour_legacy(queued)

    assert len(calls) > 20, calls  # the tour reached the tables
    assert _not_granted(calls, settings) == set()


def test_jobs_started_outside_the_queue_need_only_its_grants(
    immediate: TestClient, calls: set[tuple[str, str]], settings: Settings
) -> None:
    _tour_legacy(immediate)

    assert ("dynamodb:PutItem", settings.table("runs")) in calls  # a run started at once
    assert _not_granted(calls, settings) == set()
