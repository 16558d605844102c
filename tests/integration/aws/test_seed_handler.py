"""The default templates' seed (functions/seed.py) on moto: what the deployment trigger runs.
It creates the missing defaults, leaves existing templates as they are, and calls DynamoDB only
as the seed role allows (infra/constructs/api.py)."""

from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest

from functions import seed
from infra.constructs.api import SEED_TEMPLATE_ACTIONS
from jobsched.adapters.dynamodb import Dynamo
from jobsched.jobs.seed import DEFAULT_TEMPLATES
from jobsched.jobs.templates import TemplatePatch, archive_template, update_template
from jobsched.ports import Stores
from jobsched.settings import Settings, get_settings

DEFAULT_IDS = [template.template_id for template in DEFAULT_TEMPLATES]


@pytest.fixture
def seed_settings(
    stores: Stores, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The function's environment as the stack sets it: the prefix and the templates table."""
    monkeypatch.setenv("JOBSCHED_TABLE_PREFIX", settings.table_prefix)
    monkeypatch.setenv("JOBSCHED_TEMPLATES_TABLE", settings.table("templates"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(action, table) of every DynamoDB call made, as IAM authorises them."""
    calls: list[tuple[str, str]] = []
    make_call = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name != "dynamodb":
            pass
        elif operation == "TransactWriteItems":  # IAM authorises each item as its own action
            for item in params["TransactItems"]:
                [(kind, body)] = item.items()
                calls.append((f"dynamodb:{kind}Item", str(body["TableName"])))
        else:
            calls.append((f"dynamodb:{operation}", str(params.get("TableName"))))
        return make_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def test_a_fresh_install_gets_every_default_template(
    stores: Stores, seed_settings: None, settings: Settings
) -> None:
    assert seed.handler({}, None) == {"created": DEFAULT_IDS, "kept": []}
    for template_id in DEFAULT_IDS:
        template = stores.templates.get(template_id)
        assert template.version == 1
        assert not template.archived


def test_a_second_run_changes_nothing(stores: Stores, seed_settings: None) -> None:
    seed.handler({}, None)
    assert seed.handler({}, None) == {"created": [], "kept": DEFAULT_IDS}


def test_edited_and_archived_templates_are_left_as_they_are(
    stores: Stores, seed_settings: None
) -> None:
    seed.handler({}, None)
    update_template(stores, "echo", TemplatePatch(description="ours now"))
    archive_template(stores, "research")

    # A later deployment (a new version of the function) runs it again.
    assert seed.handler({"RequestType": "Update"}, None)["created"] == []

    echo = stores.templates.get("echo")
    assert (echo.description, echo.version) == ("ours now", 2)
    assert stores.templates.get("research").archived


def test_a_missing_default_is_added_back_beside_the_others(
    dynamo: Dynamo, seed_settings: None
) -> None:
    seed.handler({}, None)
    # Templates are archived, never deleted, by the API: this one went by hand.
    dynamo.client.delete_item(
        TableName=dynamo.table("templates"), Key={"template_id": {"S": "echo"}}
    )
    assert seed.handler(None, None) == {
        "created": ["echo"],
        "kept": ["story_generation", "research"],
    }


def test_only_the_calls_the_seed_role_allows(
    stores: Stores,
    seed_settings: None,
    settings: Settings,
    dynamodb_calls: list[tuple[str, str]],
) -> None:
    seed.handler({}, None)
    seed.handler({}, None)  # the conflicts of a second run are the same puts, refused

    assert dynamodb_calls
    assert {action for action, _ in dynamodb_calls} <= set(SEED_TEMPLATE_ACTIONS)
    assert {table for _, table in dynamodb_calls} == {settings.table("templates")}
