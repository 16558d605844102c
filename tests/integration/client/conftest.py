"""The client against the app in process: the sync client through Starlette's TestClient (an
httpx.Client), the async one through httpx's ASGI transport. The API's own tests run on both
stores; the client reaches them only through it, so these run on the embedded one."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from jobsched.jobs.keys import mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched_client import AsyncClient, Client
from tests.support.cli import BASE, FAST_RETRY


def key_of(stores: Stores, scopes: list[Scope]) -> str:
    return mint_key(stores.keys, "client-test", scopes).secret


@pytest.fixture
def api(stores: Stores, echo_template: str) -> Iterator[Client]:
    """A sync client with an admin key."""
    http = TestClient(create_app(stores=stores), base_url=f"{BASE}/api/v2")
    with Client(BASE, key_of(stores, [Scope.ADMIN]), http=http, retry=FAST_RETRY) as client:
        yield client


@pytest.fixture
def read_api(stores: Stores, echo_template: str) -> Iterator[Client]:
    http = TestClient(create_app(stores=stores), base_url=f"{BASE}/api/v2")
    with Client(BASE, key_of(stores, [Scope.READ]), http=http, retry=FAST_RETRY) as client:
        yield client


@pytest.fixture
async def async_api(stores: Stores, echo_template: str) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(stores=stores))
    key = key_of(stores, [Scope.ADMIN])
    async with AsyncClient(BASE, key, transport=transport, retry=FAST_RETRY) as client:
        yield client
