"""How a command prints: a rich table for people (the default), JSON or YAML for scripts
(`--json`, `--output json|yaml`), always the API's own fields in the machine formats."""

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


OutputOpt = Annotated[
    Format | None,
    typer.Option("--output", "-o", help="table (default), json or yaml.", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --output json.")]


def chosen(output: Format | None, as_json: bool) -> Format:
    if as_json:
        return Format.JSON
    return output or Format.TABLE


def plain(data: Any) -> Any:
    """Models as the API's JSON (aliases, ISO instants), lists of them likewise."""
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list | tuple):
        return [plain(item) for item in data]
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    return data


def emit(data: Any, fmt: Format, table: Callable[[], Any] | None = None) -> None:
    """Print `data` in `fmt`; `table` builds what people see (a rich renderable, or text)."""
    if fmt is Format.JSON:
        console.out(json.dumps(plain(data), indent=2, ensure_ascii=False), highlight=False)
        return
    if fmt is Format.YAML:
        import yaml  # only when asked for

        text = yaml.safe_dump(plain(data), sort_keys=False, allow_unicode=True)
        console.out(text.rstrip("\n"), highlight=False)
        return
    shown = table() if table is not None else json.dumps(plain(data), indent=2)
    if shown is not None:
        console.print(shown)


def new_table(*columns: str, no_wrap: Sequence[str] = ()) -> Table:
    """A table whose id columns never wrap (they are copied into the next command)."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, no_wrap=column in no_wrap or column.endswith("id"))
    return table


def rows(table: Table, items: Iterable[Sequence[Any]]) -> Table:
    for item in items:
        table.add_row(*(cell(value) for value in item))
    return table


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """`in 4m`, `12s ago`: how far from now, for ETAs and waits."""
    if moment is None:
        return "-"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    span = abs(seconds)
    if span < 60:
        text = f"{span:.0f}s"
    elif span < 3600:
        text = f"{span / 60:.0f}m"
    elif span < 86400:
        text = f"{span / 3600:.1f}h"
    else:
        text = f"{span / 86400:.1f}d"
    return f"{text} ago" if seconds >= 0 else f"in {text}"


def took(start: datetime | None, end: datetime | None) -> str:
    """`2m05s`: how long a run took; `-` while it goes on."""
    if start is None or end is None:
        return "-"
    seconds = max(0, round((end - start).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
