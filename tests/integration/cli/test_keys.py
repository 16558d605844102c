"""`jobsched keys` over the API, and `jobsched profiles add`'s check of a key against the
deployment."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest
from click.testing import Result

from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched_client.config import config_path, profiles
from local.cli.exit_codes import ExitCode


class Run(Protocol):
    """The `cli` fixture (tests/integration/cli/conftest.py): cli("keys", "list") -> Result."""

    key: str

    def __call__(self, *args: str, input: str | None = None) -> Result: ...


BASE = "http://testserver"


def test_me_names_the_key_without_its_secret(cli_for: Callable[[list[Scope]], Run]) -> None:
    reader = cli_for([Scope.READ])
    table = reader("keys", "me")
    assert table.exit_code == 0, table.output
    assert "cli-test" in table.stdout
    assert "read" in table.stdout

    shown = json.loads(reader("keys", "me", "--json").stdout)
    assert shown["name"] == "cli-test"
    assert shown["scopes"] == ["read"]
    assert shown["key_id"] in reader.key
    assert "secret" not in shown
    assert reader.key not in table.stdout


def test_list_shows_a_table_and_json(cli: Run, stores: Stores) -> None:
    table = cli("keys", "list")
    assert table.exit_code == 0, table.output
    assert "cli-test" in table.stdout
    assert "admin" in table.stdout

    listed = json.loads(cli("keys", "list", "--json").stdout)
    assert [k["name"] for k in listed] == ["cli-test"]
    assert all("secret" not in k and "key_hash" not in k for k in listed)


def test_create_prints_the_secret_alone_on_stdout_and_it_works(
    cli: Run, stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = cli("keys", "create", "--name", "ci", "--scope", "read")
    assert created.exit_code == 0, created.output

    secret = created.stdout.strip()
    assert created.stdout == secret + "\n"  # `KEY=$(jobsched keys create ...)` keeps just it
    assert secret.startswith("jsk_")
    assert "shown this once" in created.stderr
    assert "ci: read" in created.stderr

    assert json.loads(cli("--key", secret, "keys", "me", "--json").stdout)["name"] == "ci"
    monkeypatch.setenv("JOBSCHED_API_KEY", secret)
    assert json.loads(cli("keys", "me", "--json").stdout)["name"] == "ci"


def test_create_takes_read_and_write_by_default_and_json_holds_the_secret(cli: Run) -> None:
    created = json.loads(cli("keys", "create", "--name", "bot", "-o", "json").stdout)
    assert created["scopes"] == ["read", "write"]
    assert created["secret"].startswith(f"jsk_{created['key_id']}_")


def test_revoke_refuses_the_key_from_then_on(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    created = json.loads(cli("keys", "create", "--name", "old", "--json").stdout)
    revoked = cli("keys", "revoke", created["key_id"])
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.strip() == f"revoked {created['key_id']} (old)"
    again = json.loads(cli("keys", "revoke", created["key_id"], "--json").stdout)
    assert again["revoked_at"] is not None

    monkeypatch.setenv("JOBSCHED_API_KEY", created["secret"])
    refused = cli("keys", "me")
    assert refused.exit_code == ExitCode.DENIED
    assert refused.stderr.startswith("error: 401")


def test_refusals_are_one_line_with_their_exit_codes(
    cli: Run, cli_for: Callable[[list[Scope]], Run]
) -> None:
    own = json.loads(cli("keys", "me", "--json").stdout)["key_id"]
    itself = cli("keys", "revoke", own)
    assert itself.exit_code == ExitCode.CONFLICT
    assert len(itself.stderr.strip().splitlines()) == 1
    assert itself.stderr.startswith("error: 409")

    missing = cli("keys", "revoke", "nokey")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert missing.stdout == ""

    bad_scope = cli("keys", "create", "--name", "x", "--scope", "root")
    assert bad_scope.exit_code == ExitCode.USAGE

    writer = cli_for([Scope.WRITE])
    denied = writer("keys", "create", "--name", "more")
    assert denied.exit_code == ExitCode.DENIED
    assert denied.stderr.startswith("error: 403")
    assert denied.stdout == ""
    assert writer("keys", "list").exit_code == ExitCode.DENIED


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("JOBSCHED_CONFIG", str(path))
    return path


def test_profiles_add_checks_the_key_with_the_deployment_before_saving(
    cli: Run, config: Path
) -> None:
    key = cli.key
    added = cli("profiles", "add", "prod", "--url", BASE, "--key", key)
    assert added.exit_code == 0, added.output
    assert "cli-test: admin" in added.stdout
    assert key not in added.stdout + added.stderr
    assert profiles(config_path())[0]["prod"].key == key


def test_profiles_add_saves_nothing_for_a_key_the_deployment_refuses(
    cli: Run, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = json.loads(cli("keys", "create", "--name", "gone", "--json").stdout)
    cli("keys", "revoke", created["key_id"])

    refused = cli("profiles", "add", "prod", "--url", BASE, "--key", created["secret"])
    assert refused.exit_code == ExitCode.DENIED
    assert refused.stderr.startswith("error: 401")
    assert not config.exists()

    unchecked = cli(
        "profiles", "add", "prod", "--url", BASE, "--key", created["secret"], "--no-check"
    )
    assert unchecked.exit_code == 0, unchecked.output
    assert "prod" in profiles(config)[0]
