"""The `jobsched` command against the test's store: the in-process moto tables, or the SQLite
database in the data dir the command finds through JOBSCHED_DATA_DIR."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jobsched import adapters
from jobsched.adapters.dynamodb import Dynamo
from jobsched.adapters.sqlite.db import Database
from jobsched.errors import AuthenticationError, UnavailableError
from jobsched.jobs.keys import authenticate
from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched.settings import get_settings
from local.cli import app

KEY_PATTERN = re.compile(r"jsk_[0-9a-f]+_[A-Za-z0-9_-]+")

runner = CliRunner()


@pytest.fixture(autouse=True)
def cli_settings(
    monkeypatch: pytest.MonkeyPatch, store_backend: str, request: pytest.FixtureRequest
) -> Iterator[None]:
    # The CLI reads the cached settings; point them at the fixture's store: the table prefix
    # of the moto tables, or the data dir of the SQLite database.
    monkeypatch.setenv("JOBSCHED_STORE", store_backend)
    if store_backend == "sqlite":
        db: Database = request.getfixturevalue("sqlite_db")
        monkeypatch.setenv("JOBSCHED_DATA_DIR", str(Path(db.path).parent))
    else:
        monkeypatch.setenv("JOBSCHED_TABLE_PREFIX", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def create_key(*args: str) -> str:
    result = runner.invoke(app, ["admin", "keys", "create", *args])
    assert result.exit_code == 0, result.output
    match = KEY_PATTERN.search(result.stdout)
    assert match, result.stdout
    return match.group(0)


def test_create_prints_a_key_that_authenticates_with_read_and_write(stores: Stores) -> None:
    token = create_key("--name", "ci")

    key = authenticate(stores.keys, token)

    assert key.name == "ci"
    assert key.scopes == [Scope.READ, Scope.WRITE]


def test_create_takes_repeated_scopes(stores: Stores) -> None:
    token = create_key("--name", "ops", "--scope", "read", "--scope", "admin")

    assert authenticate(stores.keys, token).scopes == [Scope.READ, Scope.ADMIN]


def test_create_rejects_an_unknown_scope(dynamo: Dynamo) -> None:
    result = runner.invoke(app, ["admin", "keys", "create", "--name", "x", "--scope", "root"])

    assert result.exit_code == 2


def test_list_shows_keys_but_never_their_hash(stores: Stores) -> None:
    token = create_key("--name", "alice")
    record = authenticate(stores.keys, token)

    result = runner.invoke(app, ["admin", "keys", "list"])

    assert result.exit_code == 0, result.output
    assert record.key_id in result.stdout
    assert "alice" in result.stdout
    assert record.key_hash not in result.stdout
    assert record.key_hash[:12] not in result.stdout  # not even a wrapped part of it
    assert token.split("_", 2)[2][:12] not in result.stdout


def test_revoke_stops_the_key_authenticating(stores: Stores) -> None:
    token = create_key("--name", "bob")
    key_id = authenticate(stores.keys, token).key_id

    result = runner.invoke(app, ["admin", "keys", "revoke", key_id])

    assert result.exit_code == 0, result.output
    with pytest.raises(AuthenticationError):
        authenticate(stores.keys, token)
    listing = runner.invoke(app, ["admin", "keys", "list"])
    row = next(line for line in listing.stdout.splitlines() if key_id in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[4] != "-"  # the revoked column holds a time


def test_revoke_of_an_unknown_key_exits_1_with_a_message(dynamo: Dynamo) -> None:
    result = runner.invoke(app, ["admin", "keys", "revoke", "nosuchkey"])

    assert result.exit_code == 1
    assert "nosuchkey" in result.stderr
    assert "Traceback" not in result.output


def test_an_unreachable_store_exits_1_without_a_traceback(
    dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    class DownKeys:
        def list_all(self) -> None:
            raise UnavailableError("the store cannot be reached")

    class DownStores:
        keys = DownKeys()

    monkeypatch.setattr(adapters.dynamodb, "build_stores", lambda settings: DownStores())

    result = runner.invoke(app, ["admin", "keys", "list"])

    assert result.exit_code == 1
    assert "cannot be reached" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_local_rejects_a_malformed_api_key_before_starting_anything() -> None:
    result = runner.invoke(app, ["local", "--api-key", "not-a-key"])

    assert result.exit_code == 1
    assert "jsk_<id>_<secret>" in result.stderr


def test_seed_creates_the_default_templates_once(stores: Stores) -> None:
    first = runner.invoke(app, ["seed"])
    stores.templates.archive("echo")  # a user's change survives a second seed
    again = runner.invoke(app, ["seed"])

    assert first.exit_code == again.exit_code == 0, first.output
    assert "story_generation   created" in first.stdout
    assert "research           created" in first.stdout
    assert "story_generation   exists" in again.stdout
    assert stores.templates.get("research").workload == "research"
    assert stores.templates.get("echo").archived


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    listed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ")}
    groups = {"jobs", "queue", "runs", "schedules", "templates", "groups", "keys", "profiles"}
    assert {"local", "seed", "admin"} | groups <= listed
