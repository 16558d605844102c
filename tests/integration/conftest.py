"""The integration tier: the core with its adapters on moto (in-process, or moto's server for
the local runtime's parts), the HTTP API through TestClient, worker subprocesses where a feature
runs them. Grouped by feature: api, aws, content, dispatch, legacy, local, schedules, store,
webhooks."""

import pytest

from tests.support.botocore_data import share_botocore_data
from tests.support.stores import (
    BACKENDS,
    atomic_store,
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

share_botocore_data()

# Features whose tests are about one backend's world: AWS's own services.
ONE_BACKEND_DIRS = frozenset({"aws"})
# Features that reach the stores only through the API (whose own tests run on both stores):
# the dashboard, the client and the command. Run on the embedded store; a test that asks for
# moto's tables gets them.
API_ONLY_DIRS = frozenset({"ui", "client", "cli"})
# A test that asks for one of these works with moto's tables itself.
MOTO_FIXTURES = frozenset({"dynamo", "local_dynamo", "serialised_moto"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test of the stores against both adapters, unless it reaches moto itself."""
    if "store_backend" not in metafunc.fixturenames:
        return
    feature = metafunc.definition.path.parent.name
    on_moto = bool(MOTO_FIXTURES & set(metafunc.fixturenames)) or bool(
        metafunc.definition.get_closest_marker("dynamodb_only")
    )
    if on_moto or feature in ONE_BACKEND_DIRS:
        backends = ["dynamodb"]
    elif feature in API_ONLY_DIRS:
        backends = ["sqlite"]
    else:
        backends = list(BACKENDS)
    metafunc.parametrize("store_backend", backends, indirect=True)


__all__ = [
    "atomic_store",
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
