"""`jobsched profiles`: named deployments (a URL and a key) in the config file,
`$JOBSCHED_CONFIG` or `~/.config/jobsched/config.toml`, written readable by its owner only.
No command here prints a key's secret: a key is named by its id."""

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from jobsched_client.config import (
    PROFILE_NAME,
    ConfigError,
    Connection,
    Profile,
    config_path,
    key_id_of,
    profiles,
    remove_profile,
    save_profile,
    write_profiles,
)
from local.cli.context import api, connection, fail
from local.cli.exit_codes import ExitCode
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

app = typer.Typer(
    help="Named deployments (URL and key) in the config file, readable by its owner only.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The profile's name, e.g. prod.")]


def _config_failed(exc: ConfigError) -> NoReturn:
    fail(str(exc), ExitCode.ERROR)


def _known() -> tuple[Path, dict[str, Profile], str | None]:
    path = config_path()
    try:
        found, default = profiles(path)
    except ConfigError as exc:
        _config_failed(exc)
    return path, found, default


def _shown(profile: Profile, default: str | None) -> dict[str, Any]:
    """A profile as printed: never its key, only the key's id."""
    return {
        "name": profile.name,
        "url": profile.url,
        "key_id": key_id_of(profile.key),
        "default": profile.name == default,
    }


def interactive() -> bool:
    return sys.stdin.isatty()


def _read_key(key: str | None, key_file: Path | None) -> str:
    if key is not None and key_file is not None:
        fail("give the key with --key or --key-file, not both", ExitCode.USAGE)
    if key_file is not None:
        try:
            lines = key_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read --key-file {key_file}: {exc}", ExitCode.USAGE)
        key = lines[0] if lines else ""
    elif key is None and interactive():
        key = typer.prompt("API key", hide_input=True, err=True)
    elif key is None:
        key = sys.stdin.readline()  # piped: `pass show jobsched/prod | jobsched profiles add`
    key = key.strip()
    if key_id_of(key) is None:
        fail("an API key looks like jsk_<id>_<secret>", ExitCode.USAGE)
    return key


@app.command("add")
def add(
    name: Name,
    url: Annotated[str, typer.Option(help="The deployment's URL.", show_default=False)],
    key: Annotated[
        str | None,
        typer.Option(
            help="The API key (prefer --key-file, stdin or the prompt: a command line shows in "
            "`ps`). Asked for when not given.",
            show_default=False,
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(help="Read the key from this file (its first line).", show_default=False),
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Make it the profile used when none is named.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option("--check/--no-check", help="Ask the deployment whose key it is first."),
    ] = True,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add or replace a profile. The key is checked against the deployment (`keys me`) before
    it is saved, unless --no-check."""
    if not PROFILE_NAME.fullmatch(name):
        fail("a profile name is 1-64 letters, digits, `-` or `_`", ExitCode.USAGE)
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        fail("--url must start with http:// or https://", ExitCode.USAGE)
    secret = _read_key(key, key_file)
    path, _, _ = _known()
    note = ""
    if check:
        with api(Connection(url, secret, f"profile {name}")) as client:
            me = client.keys.me()
        note = f" ({me.name}: {', '.join(me.scopes)})"
    try:
        save_profile(path, Profile(name, url, secret), make_default=default)
    except ConfigError as exc:
        _config_failed(exc)
    _, known, now_default = _known()
    shown = _shown(known[name], now_default)
    emit(
        shown,
        chosen(output, as_json),
        lambda: (
            f"added {name}: {url}, key {shown['key_id']}{note}"
            + (", the default" if shown["default"] else "")
        ),
    )


@app.command("list")
def list_profiles(output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Every profile: its URL, its key's id (never the secret), and which is the default."""
    path, known, default = _known()
    shown = [_shown(profile, default) for profile in known.values()]
    fmt = chosen(output, as_json)
    if not shown and fmt is Format.TABLE:
        err_console.print(f"no profiles in {path} (add one: `jobsched profiles add`)")
        return
    table = new_table("name", "url", "key_id", "default", no_wrap=("name",))
    emit(
        shown,
        fmt,
        lambda: rows(table, ((p["name"], p["url"], p["key_id"], p["default"]) for p in shown)),
    )


@app.command("remove")
def remove(name: Name) -> None:
    """Forget a profile (its key stays valid: revoke it with `keys revoke`)."""
    path, known, default = _known()
    if name not in known:
        fail(f"no profile {name} in {path}", ExitCode.NOT_FOUND)
    try:
        remove_profile(path, name)
    except ConfigError as exc:
        _config_failed(exc)
    suffix = " (it was the default: there is none now)" if name == default else ""
    console.print(f"removed {name}{suffix}")


@app.command("use")
def use(name: Name) -> None:
    """Make a profile the default: commands use it when no --url, --profile or environment
    says otherwise."""
    path, known, _ = _known()
    if name not in known:
        listed = ", ".join(sorted(known)) or "none"
        fail(f"no profile {name} in {path} (profiles: {listed})", ExitCode.NOT_FOUND)
    write_profiles(path, known, name)
    console.print(f"{name} is the default: {known[name].url}")


@app.command("show")
def show(output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """The deployment and key the next command would use, and where they were found (never
    the secret). Asks nothing of the deployment: `keys me` does."""
    found = connection()
    shown = {"url": found.url, "key_id": key_id_of(found.key), "source": found.source}
    table = new_table("field", "value")
    emit(shown, chosen(output, as_json), lambda: rows(table, shown.items()))
