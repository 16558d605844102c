"""The deployment a command talks to, and one way for every failure to end: a clear line on
stderr and an exit code a script can rely on (exit_codes.py), never a traceback."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import typer

# Light modules only: the client (httpx, the API's models) loads when a command calls.
from jobsched_client.config import ConfigError, Connection, resolve
from jobsched_client.errors import JobschedError, ProblemError, TransportError, WaitTimeoutError
from local.cli.exit_codes import ExitCode, code_of_status
from local.cli.output import err_console

if TYPE_CHECKING:
    from jobsched_client import Client


@dataclass
class Target:
    """The root options (`jobsched --url ... --key ... --profile ...`), before the environment,
    the profiles and the local runtime are asked (jobsched_client.config)."""

    url: str | None = None
    key: str | None = None
    profile: str | None = None


target = Target()


def open_client(connection: Connection) -> "Client":
    from jobsched_client import Client

    return Client(connection.url, connection.key)


# Tests point this at the app in process.
make_client: "Callable[[Connection], Client]" = open_client


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(int(code))


def connection() -> Connection:
    try:
        return resolve(target.url, target.key, target.profile)
    except ConfigError as exc:
        fail(str(exc), ExitCode.NO_DEPLOYMENT)


@contextmanager
def api(found: Connection | None = None) -> "Iterator[Client]":
    """A client of the chosen deployment (or of `found`); what it raises ends the command."""
    found = found or connection()
    try:
        with make_client(found) as client:
            yield client
    except ProblemError as exc:
        fail(exc.one_line(), code_of_status(exc.status))
    except WaitTimeoutError as exc:
        fail(str(exc), ExitCode.TIMEOUT)
    except TransportError as exc:
        hint = " Is `jobsched local` running?" if found.source.startswith("local") else ""
        fail(
            f"cannot reach {found.url} ({found.source}): {exc.__cause__ or exc}.{hint}",
            ExitCode.UNAVAILABLE,
        )
    except JobschedError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        err_console.print("interrupted: nothing more is sent; what was sent stands")
        raise typer.Exit(130) from None
