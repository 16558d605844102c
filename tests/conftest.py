"""Shared fixtures: an in-process moto DynamoDB with the project's tables, and the stores."""

import os
from collections.abc import Iterator

import pytest

# Never reach a real AWS account from the tests, whatever the developer's environment holds.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",  # moto's fake credentials
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from moto import mock_aws

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.adapters.dynamodb.tables import create_tables
from jobsched.ports import Stores
from jobsched.settings import Settings


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


# --- the HTTP API -------------------------------------------------------------------------------

from fastapi.testclient import TestClient  # noqa: E402

from jobsched.jobs.keys import mint_key  # noqa: E402
from jobsched.jobs.templates import TemplateCreate, create_template  # noqa: E402
from jobsched.models import Scope  # noqa: E402

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


# moto applies a request in several steps without a lock, so two threads could interleave inside
# one transaction, which DynamoDB never does. This makes each request atomic (as DynamoDB's are),
# so the interleavings a test exercises are the real ones: between our reads and our writes.
@pytest.fixture
def serialised_moto(dynamo: object) -> Iterator[None]:
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__
    lock = threading.Lock()

    def atomic(self: BotocoreStubber, *args: object, **kwargs: object) -> object:
        with lock:
            return original(self, *args, **kwargs)

    BotocoreStubber.__call__ = atomic  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
