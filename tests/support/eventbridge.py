"""Helpers for the schedule tests: an EventBridge Scheduler in moto (inside the `dynamo`
fixture's mock_aws) with the project's schedule group, and the stores that write to it.

moto's scheduler validates nothing and never fires; the tests check the parameters it stored
and call the fire handler with the schedule's own input instead.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient
from httpx import Response

from jobsched.adapters.aws.scheduler import EventBridgeScheduleSync
from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.jobs.keys import mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched.settings import Settings
from tests.support.api import V2

ACCOUNT = "123456789012"
GROUP = "jobsched-test"
TARGET_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:schedule-fire"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/scheduler-invoke"
DLQ_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:schedule-dlq"


def scheduler_settings(settings: Settings, group: str = GROUP) -> Settings:
    return settings.model_copy(
        update={
            "schedule_group": group,
            "schedule_target_arn": TARGET_ARN,
            "schedule_role_arn": ROLE_ARN,
            "schedule_dlq_arn": DLQ_ARN,
        }
    )


@dataclass
class World:
    """The stores with an EventBridge sync, moto's scheduler client, and an admin API client."""

    stores: Stores
    scheduler: Any
    api: TestClient
    group: str = GROUP

    def eventbridge(self, schedule_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.scheduler.get_schedule(
                Name=schedule_id, GroupName=self.group
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        return found

    def eventbridge_names(self) -> list[str]:
        listed = self.scheduler.list_schedules(GroupName=self.group)
        return [item["Name"] for item in listed["Schedules"]]


def make_world(settings: Settings, dynamo: Dynamo, create_group: bool = True) -> World:
    """Call inside the `dynamo` fixture (its mock_aws is active)."""
    from api.app import create_app

    configured = scheduler_settings(settings)
    scheduler = boto3.client("scheduler", region_name=configured.aws_region)
    if create_group:
        scheduler.create_schedule_group(Name=GROUP)
    stores = build_stores(configured, dynamo).with_schedule_sync(
        EventBridgeScheduleSync(configured, scheduler)
    )
    minted = mint_key(stores.keys, "schedules", [Scope.ADMIN])
    api = TestClient(create_app(stores), raise_server_exceptions=False)
    api.headers["Authorization"] = f"Bearer {minted.secret}"
    return World(stores, scheduler, api)


def schedule_body(**fields: Any) -> dict[str, Any]:
    return {"name": "daily echo", "template_id": "echo", "expression": "rate(1 hour)", **fields}


def post_schedule(api: TestClient, **fields: Any) -> dict[str, Any]:
    response = api.post(f"{V2}/schedules", json=schedule_body(**fields))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def fire_input(found: dict[str, Any], scheduled_time: datetime) -> dict[str, Any]:
    """The event EventBridge would send: the target's input with its placeholder filled."""
    text = found["Target"]["Input"].replace(
        "<aws.scheduler.scheduled-time>", scheduled_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    event: dict[str, Any] = json.loads(text)
    return event


def client_error(operation: str, code: str, message: str = "injected") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def fields_of(response: Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]
