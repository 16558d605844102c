"""The integration tier: the core with its adapters on moto (in-process, or moto's server for
the local runtime's parts), the HTTP API through TestClient, worker subprocesses where a feature
runs them. Grouped by feature: api, aws, content, dispatch, legacy, local, schedules, store,
webhooks."""

from tests.support.stores import (
    client,
    dynamo,
    echo_template,
    reader,
    serialised_moto,
    settings,
    stores,
    writer,
)

__all__ = [
    "client",
    "dynamo",
    "echo_template",
    "reader",
    "serialised_moto",
    "settings",
    "stores",
    "writer",
]
