"""The `jobsched` command and the client in process, for tests/integration/cli and /client: the
command's result type, a console wide enough for its tables, and the in-process URL and retries."""

from dataclasses import dataclass

import pytest
from click.testing import Result
from typer.testing import CliRunner

from jobsched_client import RetryPolicy
from local.cli import app

BASE = "http://testserver"  # TestClient's host
FAST_RETRY = RetryPolicy(attempts=3, backoff=0.01, max_wait=0.05)  # retries without waiting


@dataclass
class Cli:
    """`cli("jobs", "list", "--json")`: the command's result (exit code, stdout, stderr)."""

    runner: CliRunner
    key: str

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A console as wide as a desktop terminal's (a test's is 80 columns), for tables whose ids
    never wrap."""
    from local.cli import output

    monkeypatch.setattr(output.console, "_width", 200)


def one_line_refusal(result: Result, code: int) -> None:
    """Refused with `code`: nothing on stdout, one line on stderr."""
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
