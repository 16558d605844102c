"""The `jobsched` command against the app in process: the commands build their client through
`local.cli.context.make_client`, pointed here at a TestClient of the test's app; the key and URL
come from the environment, as a user's would."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from jobsched.jobs.keys import mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched_client import Client, Connection
from local.cli import context
from tests.support.cli import BASE, FAST_RETRY, Cli, wide

__all__ = ["Cli", "wide"]


@pytest.fixture
def cli_for(
    stores: Stores, echo_template: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[list[Scope]], Cli]:
    """A command line whose environment holds a key of these scopes."""
    web = create_app(stores=stores)

    def client_of(connection: Connection) -> Client:
        http = TestClient(web, base_url=f"{BASE}/api/v2", raise_server_exceptions=False)
        return Client(connection.url, connection.key, http=http, retry=FAST_RETRY)

    monkeypatch.setattr(context, "make_client", client_of)
    # The root options set the one Target app.py imported: reset it, never replace it.
    for option in ("url", "key", "profile"):
        monkeypatch.setattr(context.target, option, None)
    for name in ("JOBSCHED_PROFILE", "JOBSCHED_CONFIG", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOBSCHED_URL", BASE)

    def make(scopes: list[Scope]) -> Cli:
        key = mint_key(stores.keys, "cli-test", scopes).secret
        monkeypatch.setenv("JOBSCHED_API_KEY", key)
        return Cli(CliRunner(), key)

    return make


@pytest.fixture
def cli(cli_for: Callable[[list[Scope]], Cli]) -> Cli:
    """An admin's command line."""
    return cli_for([Scope.ADMIN])
