"""`jobsched --help`, a group's --help and completion stay fast: importing the command loads
neither httpx, nor the API's models, nor the client (they load when a command calls)."""

import subprocess
import sys
from typing import Any

import pytest
import typer

from local.cli import app
from tests.support.cli import Cli

HEAVY = ("httpx", "api.schemas", "jobsched_client._async.client", "jobsched_client._sync.client")


def test_importing_the_command_loads_no_client_nor_api_models() -> None:
    probe = f"import sys, local.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    # A fresh interpreter: this one has loaded them all for the other tests.
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stderr


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        found += _paths(sub, (*prefix, name))
    return found


COMMANDS = _paths(typer.main.get_command(app))


def test_every_command_is_listed() -> None:
    assert ("status",) in COMMANDS
    assert ("jobs", "submit") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "jobsched")
def test_every_commands_help_resolves_its_parameters(cli: Cli, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
