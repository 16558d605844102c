"""The stores and API clients of the integration tests: the stores over either adapter (an
in-process moto DynamoDB with the project's tables, or a SQLite file), a template, and
TestClients holding keys of each scope. Tier conftests import the fixtures they need from here.

`stores` is the contract: every test that uses it, and neither moto (`dynamo`) nor a fixture
built on it, runs once per backend (`pytest_generate_tests` in tests/integration/conftest.py);
a behaviour that differs between the two is a bug in one of them.
"""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.adapters.dynamodb.tables import create_tables
from jobsched.adapters.sqlite import build_stores as build_sqlite_stores
from jobsched.adapters.sqlite.db import DB_FILE, Database
from jobsched.adapters.sqlite.schema import create_schema
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


BACKENDS = ("dynamodb", "sqlite")


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """Which adapter `stores` uses: parametrised by the tier's conftest, else DynamoDB."""
    return str(getattr(request, "param", "dynamodb"))


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "store" / DB_FILE)
    create_schema(db)
    yield db
    db.close()


@pytest.fixture
def stores(settings: Settings, store_backend: str, request: pytest.FixtureRequest) -> Stores:
    if store_backend == "sqlite":
        db: Database = request.getfixturevalue("sqlite_db")
        return build_sqlite_stores(settings, db)
    dynamo: Dynamo = request.getfixturevalue("dynamo")
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


@pytest.fixture
def atomic_store(store_backend: str, request: pytest.FixtureRequest) -> None:
    """Each store request atomic, as the real store's are, for tests that race threads on
    either backend: moto's requests made so (`serialised_moto`); SQLite's already are (one
    transaction each, on a connection of the thread's own)."""
    if store_backend == "dynamodb":
        request.getfixturevalue("serialised_moto")
