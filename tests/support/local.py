"""Local execution on either store: on DynamoDB, moto's server, which real worker subprocesses
reach over HTTP (`jobsched local --store dynamodb`; one server per test session, fresh tables
per test); on SQLite, a database the workers never reach (the executor keeps their leases)."""

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.adapters.dynamodb.tables import create_tables
from jobsched.adapters.sqlite import build_stores as build_sqlite_stores
from jobsched.adapters.sqlite.db import Database
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import Job
from jobsched.models.units import Claim
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.emulator import atomic_moto_server
from local.exec.executor import ExecutorConfig, LocalExecutor
from local.exec.logs import FileLogReader
from tests.support.waiting import wait_until

HEARTBEAT_SECONDS = 0.5  # the worker's lease is three periods: lost runs show up fast
STOP_GRACE_SECONDS = 3.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def log_events(path: Path) -> list[dict[str, Any]]:
    """Every line of a run's log, each a JSON object."""
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = atomic_moto_server("127.0.0.1", port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def local_settings(store_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """On DynamoDB the workers reach moto's server themselves; on SQLite they reach nothing."""
    moto_url = request.getfixturevalue("moto_url") if store_backend == "dynamodb" else None
    return Settings(
        table_prefix=f"t{uuid.uuid4().hex[:10]}",  # fresh tables on the shared server
        aws_endpoint_url=moto_url,
        data_dir=str(tmp_path / "data"),
        heartbeat_seconds=HEARTBEAT_SECONDS,
        startup_lease_seconds=30.0,
        sweep_seconds=60.0,  # the tests that need the sweeper call it themselves
    )


@pytest.fixture
def local_dynamo(local_settings: Settings) -> Dynamo:
    dynamo = Dynamo(local_settings)
    create_tables(dynamo)
    return dynamo


@pytest.fixture
def base_stores(
    local_settings: Settings, store_backend: str, request: pytest.FixtureRequest
) -> Stores:
    """The stores of the test's backend (tests/integration/conftest.py runs both)."""
    if store_backend == "sqlite":
        db: Database = request.getfixturevalue("sqlite_db")
        stores = build_sqlite_stores(local_settings, db)
    else:
        stores = build_stores(local_settings, request.getfixturevalue("local_dynamo"))
    seed_default_templates(stores)
    return stores


@pytest.fixture
def executor(base_stores: Stores, local_settings: Settings) -> Iterator[LocalExecutor]:
    config = ExecutorConfig.from_settings(local_settings, stop_grace_seconds=STOP_GRACE_SECONDS)
    executor = LocalExecutor(base_stores.dispatch, config)
    yield executor
    executor.stop_all("test over")  # no worker outlives its test


@pytest.fixture
def logs(local_settings: Settings) -> FileLogReader:
    return FileLogReader(local_settings.data_dir)


def echo(stores: Stores, template_id: str = "echo", **params: Any) -> Job:
    job, _ = enqueue(stores, JobCreate(template_id=template_id, params=params))
    return job


def claim_one(stores: Stores) -> Claim:
    """A real claim (the run exists and holds the slot), so the worker's heartbeat succeeds."""
    claim = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1)).claim()
    assert claim is not None
    return claim


__all__ = ["claim_one", "echo", "free_port", "log_events", "wait_until"]
