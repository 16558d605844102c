"""The moto stores and API clients of the integration tests: an in-process moto DynamoDB with
the project's tables, the stores over it, a template, and TestClients holding keys of each
scope. Tier conftests import the fixtures they need from here."""

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.adapters.dynamodb.tables import create_tables
from jobsched.jobs.keys import mint_key
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched.settings import Settings
from tests.support.moto_lock import atomic_moto_requests


@pytest.fixture
def settings() -> Settings:
    return Settings(table_prefix="test", aws_endpoint_url=None)


@pytest.fixture
def dynamo(settings: Settings) -> Iterator[Dynamo]:
    with mock_aws():
        dynamo = Dynamo(settings)
        create_tables(dynamo)
        yield dynamo


@pytest.fixture
def stores(settings: Settings, dynamo: Dynamo) -> Stores:
    return build_stores(settings, dynamo)


ECHO_SCHEMA = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "count": {"type": "integer", "minimum": 1, "maximum": 10},
    },
    "additionalProperties": False,
}


@pytest.fixture
def echo_template(stores: Stores) -> str:
    create_template(
        stores,
        TemplateCreate(
            template_id="echo",
            name="Echo",
            workload="echo",
            default_params={"message": "hi", "count": 1},
            params_schema=ECHO_SCHEMA,
        ),
    )
    return "echo"


def _client(stores: Stores, scopes: list[Scope]) -> TestClient:
    from api.app import create_app

    minted = mint_key(stores.keys, "test", scopes)
    client = TestClient(create_app(stores), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {minted.secret}"
    return client


@pytest.fixture
def client(stores: Stores) -> TestClient:
    """An admin client (every scope)."""
    return _client(stores, [Scope.ADMIN])


@pytest.fixture
def reader(stores: Stores) -> TestClient:
    return _client(stores, [Scope.READ])


@pytest.fixture
def writer(stores: Stores) -> TestClient:
    return _client(stores, [Scope.WRITE])


# --- concurrency --------------------------------------------------------------------------------


@pytest.fixture
def serialised_moto(dynamo: object, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Every moto request atomic, as DynamoDB's are (tests/support/moto_lock.py)."""
    return atomic_moto_requests(monkeypatch)
