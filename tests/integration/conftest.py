"""The integration tier: the core with its adapters on moto (in-process, or moto's server for
the local runtime's parts), the HTTP API through TestClient, worker subprocesses where a feature
runs them. Grouped by feature: api, aws, content, dispatch, legacy, local, schedules, store,
webhooks."""

import pytest

from tests.support.stores import (
    BACKENDS,
    client,
    dynamo,
    echo_template,
    reader,
    serialised_moto,
    settings,
    sqlite_db,
    store_backend,
    stores,
    writer,
)

# Features whose tests are about one backend's world: AWS's own services, and the local
# runtime's emulator path (its SQLite path has tests of its own).
ONE_BACKEND_DIRS = frozenset({"aws"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test of the stores against both adapters, unless it reaches moto itself."""
    if "store_backend" not in metafunc.fixturenames:
        return
    feature = metafunc.definition.path.parent.name
    on_moto = "dynamo" in metafunc.fixturenames or metafunc.definition.get_closest_marker(
        "dynamodb_only"
    )
    backends = ["dynamodb"] if on_moto or feature in ONE_BACKEND_DIRS else list(BACKENDS)
    metafunc.parametrize("store_backend", backends, indirect=True)

__all__ = [
    "client",
    "dynamo",
    "echo_template",
    "reader",
    "serialised_moto",
    "settings",
    "sqlite_db",
    "store_backend",
    "stores",
    "writer",
]
