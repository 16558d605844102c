"""`jobsched keys`: API keys over the API (an admin's, but for `keys me`). The first key of a
deployment is made in its store: `jobsched admin keys create`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from jobsched.models import Scope
from local.cli.context import api
from local.cli.output import (
    Format,
    JsonOpt,
    OutputOpt,
    chosen,
    console,
    emit,
    err_console,
    new_table,
    rows,
)
from local.cli.runtime_commands import DEFAULT_SCOPES

if TYPE_CHECKING:
    from jobsched_client.models import KeyOut

app = typer.Typer(
    help="API keys over the API: who am I, list, create (the secret shown once), revoke.",
    no_args_is_help=True,
)


def _table(keys: list[KeyOut]) -> object:
    table = new_table("key_id", "name", "scopes", "created", "revoked")
    return rows(
        table,
        ((k.key_id, k.name, ", ".join(k.scopes), k.created_at, k.revoked_at) for k in keys),
    )


def _detail(key: KeyOut) -> object:
    table = new_table("field", "value")
    return rows(
        table,
        [
            ("key_id", key.key_id),
            ("name", key.name),
            ("scopes", ", ".join(key.scopes)),
            ("created", key.created_at),
            ("revoked", key.revoked_at),
        ],
    )


@app.command("me")
def me(output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """The key this command calls with: its id, name and scopes (never its secret)."""
    with api() as client:
        key = client.keys.me()
    emit(key, chosen(output, as_json), lambda: _detail(key))


@app.command("list")
def list_keys(output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Every key, revoked ones too, newest first (admin)."""
    with api() as client:
        keys = client.keys.list().items
    emit(keys, chosen(output, as_json), lambda: _table(keys))


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. ci or alice.")],
    scope: Annotated[
        list[Scope] | None,
        typer.Option(
            help="Repeat for several; admin implies write implies read [default: read, write]",
            show_default=False,
        ),
    ] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A new key (admin). The table mode prints its secret alone on stdout, so that
    `KEY=$(jobsched keys create --name ci)` keeps it; it is shown this once."""
    scopes = list(dict.fromkeys(scope or DEFAULT_SCOPES))
    with api() as client:
        created = client.keys.create(name, scopes)
    fmt = chosen(output, as_json)
    if fmt is not Format.TABLE:
        emit(created, fmt)
        return
    err_console.print(f"created {created.key_id} ({created.name}: {', '.join(created.scopes)})")
    err_console.print("Store the key now: it is shown this once.")
    console.out(created.secret, highlight=False)  # never folded: it is copied whole


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `keys list` shows it.")],
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refuse the key from now on (admin). Revoking twice is harmless; a key cannot revoke
    itself."""
    with api() as client:
        revoked = client.keys.revoke(key_id)
    emit(revoked, chosen(output, as_json), lambda: f"revoked {revoked.key_id} ({revoked.name})")
