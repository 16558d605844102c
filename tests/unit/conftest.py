"""The unit tier: the pure core and the edges' pure parts. No moto, no network, no subprocess:
a test that needs one belongs in tests/integration. Held twice: import-linter forbids the
imports (pyproject.toml), and this guard fails a test that connects, binds or spawns anyway."""

import socket
import subprocess
from typing import NoReturn

import croniter  # noqa: F401 - it asks `file` about the interpreter once, at import
import pytest

MOVE_IT = "a unit test opens no socket and starts no process: it belongs in tests/integration"


def _refuse(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError(MOVE_IT)


@pytest.fixture(autouse=True)
def _no_network_no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, _refuse)
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse)
