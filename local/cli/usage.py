"""`jobsched usage`: what runs' model calls used, per template or per schedule."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from local.cli.context import api
from local.cli.output import JsonOpt, OutputOpt, chosen, emit, new_table, rows, when

if TYPE_CHECKING:
    from jobsched_client.models import UsageReportOut


class Used(Protocol):
    """What every usage figure of the API has (a run's, a model's, a sum)."""

    @property
    def prompt_tokens(self) -> int: ...
    @property
    def completion_tokens(self) -> int: ...
    @property
    def total_tokens(self) -> int: ...
    @property
    def calls(self) -> int: ...
    @property
    def cost_usd(self) -> float: ...
    @property
    def unpriced_calls(self) -> int: ...


class By(StrEnum):
    TEMPLATE = "template"
    SCHEDULE = "schedule"


def usd(amount: float) -> str:
    return f"US${amount:,.4f}" if amount < 1 else f"US${amount:,.2f}"


def usage_line(used: Used) -> str:
    """500 tokens (300 prompt, 200 completion), US$0.0015, 2 calls (1 unpriced)."""
    unpriced = f" ({used.unpriced_calls} unpriced)" if used.unpriced_calls else ""
    plural = "" if used.calls == 1 else "s"
    return (
        f"{used.total_tokens:,} tokens ({used.prompt_tokens:,} prompt, "
        f"{used.completion_tokens:,} completion), {usd(used.cost_usd)}, "
        f"{used.calls:,} call{plural}{unpriced}"
    )


def usage(
    by: Annotated[By, typer.Option(help="Add up per template or per schedule.")] = By.TEMPLATE,
    since: Annotated[
        str | None,
        typer.Option(help="Runs that ended at or after (ISO 8601 with a zone; default 24 h ago)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Runs that ended at or before (default: now).")
    ] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tokens and US$ of the runs that ended in a range, per template or schedule, in whole
    UTC hours."""
    with api() as client:
        report = client.usage.get(By(by).value, since=since, until=until)
    emit(report, chosen(output, as_json), lambda: _table(report))


def _table(report: UsageReportOut) -> object:
    table = new_table(report.by, "runs", "tokens", "prompt", "completion", "US$", "unpriced")
    for group in [*report.groups, None]:
        figures = group or report.total
        rows(
            table,
            [
                (
                    group.id if group else "total",
                    figures.runs,
                    f"{figures.total_tokens:,}",
                    f"{figures.prompt_tokens:,}",
                    f"{figures.completion_tokens:,}",
                    usd(figures.cost_usd),
                    figures.unpriced_calls,
                )
            ],
        )
    table.caption = f"{when(report.since)} to {when(report.until)}"
    return table
