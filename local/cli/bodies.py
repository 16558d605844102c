"""Request bodies from the command line: a JSON or YAML file (`-f body.yaml`, `-f -` for stdin)
and `key=value` pairs (`-p count=3`), whose values are read as JSON where they parse
(`3`, `true`, `[1,2]`, `"3"`) and as text otherwise."""

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from local.cli.context import fail
from local.cli.exit_codes import ExitCode

FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file", "-f", help="The body as a JSON or YAML file (- for stdin).", show_default=False
    ),
]
PairsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", "-s", help="A field as key=value (repeat); over the file's.", show_default=False
    ),
]


def read_document(path: Path) -> dict[str, Any]:
    """A JSON or YAML mapping (YAML is a superset of JSON, so one parser reads both)."""
    import yaml

    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}", ExitCode.USAGE)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        fail(f"{path} is not JSON or YAML: {exc}", ExitCode.USAGE)
    if not isinstance(data, dict):
        fail(f"{path} must hold a mapping (an object), not {type(data).__name__}", ExitCode.USAGE)
    return data


def value_of(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def pairs(items: list[str] | None, option: str = "--set") -> dict[str, Any]:
    """`key=value` pairs as a mapping; a dotted key (`retry.max_attempts=3`) nests."""
    found: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            fail(f"{option} takes key=value, not {item!r}", ExitCode.USAGE)
        place = found
        *parents, leaf = key.strip().split(".")
        for parent in parents:
            nested = place.setdefault(parent, {})
            if not isinstance(nested, dict):
                fail(f"{option} {key}: {parent} is set to a value already", ExitCode.USAGE)
            place = nested
        place[leaf] = value_of(raw)
    return found


def body(file: Path | None, items: list[str] | None, option: str = "--set") -> dict[str, Any]:
    """The file's mapping with the pairs over it (nested mappings merged)."""
    merged = read_document(file) if file is not None else {}
    return _merge(merged, pairs(items, option))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(dict(base[key]), value)
        else:
            base[key] = value
    return base
