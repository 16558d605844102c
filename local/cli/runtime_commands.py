"""The commands that work on this machine's runtime and stores rather than over the API:
`local` (run the embedded default), `seed`, and `admin keys` (keys written straight into the
store: the first key of a deployment, before any key can call `/keys`).

Heavy modules (boto3, moto, uvicorn, the API) are imported inside the commands so that
`jobsched --help` stays fast.
"""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.table import Column, Table

from jobsched.errors import DomainError, NotFoundError, UnavailableError
from jobsched.models import Scope
from local.cli.output import console, err_console

if TYPE_CHECKING:
    from jobsched.ports import Stores
    from local.runtime import LocalRuntime

admin_app = typer.Typer(
    help="Work on a deployment's store directly, with its credentials (no API key needed).",
    no_args_is_help=True,
)
keys_app = typer.Typer(
    help="Create, list and revoke API keys in the store itself: the first key of a "
    "deployment. With a key, `jobsched keys` does the same over the API.",
    no_args_is_help=True,
)
admin_app.add_typer(keys_app, name="keys")

DEFAULT_SCOPES = [Scope.READ, Scope.WRITE]


def fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(1)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so `finally` stops the emulator, as Ctrl-C does.
    raise KeyboardInterrupt


def local(
    host: Annotated[str, typer.Option(help="Interface the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API.")] = 8000,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="JOBSCHED_API_KEY",
            help="Install this key (jsk_<id>_<secret>) with every scope at start. Prefer the "
            "environment variable or --api-key-file: a command line shows in `ps`.",
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(help="Read the key to install from this file (its first line)."),
    ] = None,
    moto_port: Annotated[int, typer.Option(help="Port of the in-process AWS emulator.")] = 5566,
    slots: Annotated[
        int | None,
        typer.Option(
            min=1, max=100, help="Units that may run at once [default: JOBSCHED_SLOTS or 1]"
        ),
    ] = None,
    data_dir: Annotated[
        str | None,
        typer.Option(
            help="Where run logs and outputs go [default: JOBSCHED_DATA_DIR or .jobsched]"
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            help="How workers run: auto (the job image in docker when an engine answers, "
            "else a process), process, or docker."
        ),
    ] = "auto",
    reset: Annotated[
        bool,
        typer.Option("--reset", help="Delete the saved state (the database, or state.json) first."),
    ] = False,
    store: Annotated[
        str | None,
        typer.Option(
            help="sqlite (<data dir>/jobsched.db) or dynamodb (AWS_ENDPOINT_URL if set, else "
            "an emulator in this process) [default: JOBSCHED_STORE or sqlite]"
        ),
    ] = None,
) -> None:
    """Run the scheduler on this machine: the store, default templates, the API, a dispatcher
    running jobs as local worker processes, and the sweeper.

    The state (jobs, queue, runs, schedules, keys, ...) is in <data dir>/jobsched.db, every
    change committed before the API answers; run logs and outputs stay in the data dir.
    """
    from local.exec.executor import ExecutorError
    from local.runtime import LocalConfig, LocalRuntime, LocalRuntimeError
    from local.snapshot import SnapshotError

    if api_key_file is not None:
        try:
            api_key = api_key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(f"cannot read --api-key-file: {exc}")
    if api_key is not None:
        _check_token(api_key)
    _log_to_terminal()
    if executor not in ("auto", "process", "docker"):
        err_console.print("--executor must be auto, process or docker")
        raise typer.Exit(2)
    from jobsched.settings import get_settings

    settings = get_settings()
    store = store or settings.store
    if store not in ("sqlite", "dynamodb"):
        err_console.print("--store must be sqlite or dynamodb")
        raise typer.Exit(2)
    config = LocalConfig(
        host=host,
        port=port,
        moto_port=moto_port,
        slots=slots,
        data_dir=data_dir,
        executor=executor,
        reset=reset,
        store=store,
        external_endpoint=settings.aws_endpoint_url if store == "dynamodb" else None,
    )
    runtime = LocalRuntime(config)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        runtime.start()
        _announce(runtime, api_key)
        runtime.serve()
    except (LocalRuntimeError, ExecutorError, SnapshotError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        err_console.print("stopping")
    finally:
        runtime.stop()


def _log_to_terminal() -> None:
    """The runtime's own log lines (units starting and ending, recoveries) beside uvicorn's."""
    import logging

    from jobsched.settings import get_settings

    logging.basicConfig(
        level=get_settings().log_level.upper(), format="%(levelname)-9s %(message)s"
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)


def _check_token(token: str) -> None:
    from jobsched.jobs.keys import parse_key_id

    if parse_key_id(token) is None:
        fail("--api-key must look like jsk_<id>_<secret> (id alphanumeric), e.g. jsk_abc123_s3cret")


def _announce(runtime: "LocalRuntime", api_key: str | None) -> None:
    config = runtime.config
    minted, new = runtime.admin_key(api_key)
    console.print(f"[bold]API[/]           {config.api_url}", markup=True)
    console.print(f"[bold]Docs[/]          {config.api_url}/docs", markup=True)
    if config.store == "sqlite":
        console.print(f"[bold]Store[/]         {runtime.database_path}", markup=True)
    elif config.embedded_emulator:
        console.print(
            f"[bold]Store[/]         DynamoDB emulator at {config.endpoint_url}", markup=True
        )
        console.print(
            "  unauthenticated: any process on this machine can read, change or wipe every "
            "table there, keys included (the default store, sqlite, has no port)",
            markup=False,
        )
    else:
        console.print(f"[bold]Store[/]         DynamoDB at {config.endpoint_url}", markup=True)
    assert runtime.settings is not None
    console.print(f"[bold]Slots[/]         {runtime.settings.slots}", markup=True)
    console.print(f"[bold]Workers[/]       {runtime.executor_kind} (--executor)", markup=True)
    console.print(
        f"[bold]Run logs[/]      {runtime.runs_dir}/<run id>/log.jsonl (outputs beside them)",
        markup=True,
    )
    if api_key is None and new:
        console.print(
            f"[bold]Admin API key[/] (new; kept in {runtime.admin_key_path}, yours only):",
            markup=True,
        )
        console.print(minted.secret, soft_wrap=True)  # never folded: it is copied whole
    elif api_key is None:
        console.print(
            f"[bold]Admin API key[/] {minted.record.key_id}, as before: "
            f'-H "Authorization: Bearer $(cat {runtime.admin_key_path})"',
            markup=True,
        )
    else:
        console.print(f"[bold]API key[/]       {minted.record.key_id} installed", markup=True)
    if config.store == "sqlite":
        where = f"JOBSCHED_DATA_DIR={runtime.settings.data_dir}"
    else:
        where = f"AWS_ENDPOINT_URL={config.endpoint_url}"
    console.print(f"Manage keys:  {where} jobsched admin keys list", markup=False)
    if api_key is None:
        # The command finds this runtime (runtime.json) and its admin key in the data dir.
        console.print(
            "Try it:       jobsched jobs submit echo -p message=hi --follow   (from this "
            f"directory, or with JOBSCHED_DATA_DIR={runtime.settings.data_dir})",
            markup=False,
        )


@contextmanager
def _store_errors(endpoint_url: str | None) -> Iterator[None]:
    """Domain and AWS errors become one line on stderr and exit 1, never a traceback."""
    from jobsched.adapters.dynamodb.client import error_code

    where = endpoint_url or "AWS"
    try:
        yield
    except NotFoundError as exc:
        fail(exc.detail)
    except UnavailableError as exc:
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        fail(f"{exc.detail} at {where}{cause}. Is `jobsched local` running?")
    except DomainError as exc:
        fail(exc.detail)
    except Exception as exc:
        code = error_code(exc)
        if not code:
            raise
        hint = " (are the tables created? check JOBSCHED_TABLE_PREFIX)"
        fail(f"{code} from {where}: {exc}{hint if code == 'ResourceNotFoundException' else ''}")


@contextmanager
def _stores() -> Iterator["Stores"]:
    """The store the settings name: the data dir's SQLite database by default, DynamoDB with
    JOBSCHED_STORE=dynamodb or an AWS_ENDPOINT_URL."""
    from jobsched.settings import get_settings

    settings = get_settings()
    if settings.store == "dynamodb" or settings.aws_endpoint_url:
        with _dynamodb_stores() as stores:
            yield stores
        return
    from jobsched.adapters.sqlite import build_stores, open_database
    from jobsched.adapters.sqlite.db import DB_FILE

    data_dir = Path(settings.data_dir).expanduser()
    if not (data_dir / DB_FILE).is_file():
        fail(
            f"no database at {data_dir / DB_FILE}: run `jobsched local` first, or point "
            "JOBSCHED_DATA_DIR at its data dir (JOBSCHED_STORE=dynamodb for DynamoDB)"
        )
    db = open_database(data_dir, settings)
    try:
        with _store_errors(str(data_dir / DB_FILE)):
            yield build_stores(settings, db)
    finally:
        db.close()


@contextmanager
def _dynamodb_stores() -> Iterator["Stores"]:
    from jobsched.adapters.dynamodb import build_stores
    from jobsched.settings import get_settings
    from local.runtime import is_local_endpoint, use_fake_credentials

    settings = get_settings()
    if is_local_endpoint(settings.aws_endpoint_url):
        use_fake_credentials()  # so `AWS_ENDPOINT_URL=... jobsched keys` needs nothing else
    with _store_errors(settings.aws_endpoint_url):
        yield build_stores(settings)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. ci or alice.")],
    scope: Annotated[
        list[Scope] | None,
        typer.Option(help="Repeat for several; admin implies write implies read."),
    ] = None,
) -> None:
    """Create a key and print it. It is shown only this once."""
    from jobsched.jobs.keys import mint_key

    scopes = list(dict.fromkeys(scope or DEFAULT_SCOPES))
    with _stores() as stores:
        minted = mint_key(stores.keys, name, scopes)
    console.print(f"key id  {minted.record.key_id}")
    console.print(f"scopes  {', '.join(scopes)}")
    console.print(f"key     {minted.secret}")
    err_console.print("Store the key now: it cannot be shown again.")


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secrets or hashes)."""
    with _stores() as stores:
        keys = stores.keys.list_all()
    # ids are copied into `keys revoke`, so they never wrap; in a narrow terminal the other
    # cells fold onto more lines rather than being cut with an ellipsis.
    table = Table(
        Column("id", no_wrap=True),
        Column("name", overflow="fold", min_width=12),
        Column("scopes", overflow="fold", min_width=6),
        Column("created", overflow="fold"),
        Column("revoked", overflow="fold"),
    )
    for key in keys:
        table.add_row(
            key.key_id,
            key.name,
            ", ".join(key.scopes),
            _when(key.created_at),
            _when(key.revoked_at),
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The id shown by `keys list`.")],
) -> None:
    """Revoke a key: requests with it fail from now on. Revoking twice is harmless."""
    with _stores() as stores:
        key = stores.keys.revoke(key_id)
    console.print(f"revoked {key.key_id} ({key.name}) at {_when(key.revoked_at)}")


def seed() -> None:
    """Create the default job templates (story_generation, research, echo) where missing.
    Safe to run again: existing templates, edited or archived, are left as they are."""
    from jobsched.jobs.seed import DEFAULT_TEMPLATES, seed_default_templates

    with _stores() as stores:
        created = seed_default_templates(stores)
    for request in DEFAULT_TEMPLATES:
        state = "created" if request.template_id in created else "exists"
        console.print(f"{request.template_id:<18} {state}")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"
