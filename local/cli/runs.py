"""`jobsched runs`: what ran, its log and its artifacts, and what changed between two runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from jobsched.models import RunStatus
from local.cli.context import api, fail
from local.cli.exit_codes import ExitCode
from local.cli.logs import format_log_line
from local.cli.output import (
    Format,
    JsonOpt,
    OutputOpt,
    ago,
    chosen,
    console,
    emit,
    new_table,
    rows,
    took,
)
from local.cli.usage import usage_line

if TYPE_CHECKING:
    from jobsched_client import Client
    from jobsched_client.models import RunOut, RunsDiffOut

app = typer.Typer(
    help="List and show runs, read or follow a run's log, download its artifacts, diff two runs.",
    no_args_is_help=True,
)

RunId = Annotated[str, typer.Argument(help="The run's id, e.g. run_01m8ydq33w...")]
PAGE = 200  # the API's largest page: fewer calls for a long list or log
DEFAULT_LIMIT = 50


def _table(runs: list[RunOut]) -> object:
    # Two 30-character ids would crowd an 80-column terminal: the job's is in `show` and JSON.
    table = new_table("run_id", "template", "status", "attempt", "started", "took", "exit")
    return rows(
        table,
        (
            (
                r.run_id,
                r.template_id,
                r.status,
                r.attempt,
                ago(r.started_at),
                took(r.started_at, r.finished_at),
                r.exit_code,
            )
            for r in runs
        ),
    )


def _detail(run: RunOut) -> object:
    table = new_table("field", "value")
    rows(table, run.model_dump(exclude={"artifacts", "usage", "failed_checks"}).items())
    if run.usage is not None:
        rows(table, [("usage", usage_line(run.usage))])
        for model in run.usage.by_model:
            rows(table, [(f"  {model.model}", usage_line(model))])
    for check in run.failed_checks or []:
        where = f" ({check.file})" if check.file else ""
        rows(table, [(f"failed check {check.index}", f"{check.kind}{where}: {check.reason}")])
    for index, uri in enumerate(run.artifacts):
        rows(table, [(f"artifact {index}", uri)])
    if not run.artifacts:
        rows(table, [("artifacts", "none")])
    return table


@app.command("list")
def list_runs(
    status: Annotated[RunStatus | None, typer.Option(help="Only runs in this status.")] = None,
    job: Annotated[str | None, typer.Option(help="Only this job's runs.")] = None,
    template: Annotated[str | None, typer.Option(help="Only runs of this template.")] = None,
    schedule: Annotated[str | None, typer.Option(help="Only runs this schedule made.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Started at or after (ISO 8601 with a zone).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Started at or before (ISO 8601 with a zone).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = DEFAULT_LIMIT,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Runs, newest first."""
    with api() as client:
        found = client.runs.iter(
            status=status.value if status else None,
            job_id=job,
            template_id=template,
            schedule_id=schedule,
            since=since,
            until=until,
            page_size=min(limit, PAGE),
        )
        runs = list(islice(found, limit))
    emit(runs, chosen(output, as_json), lambda: _table(runs))


@app.command("show")
def show(run_id: RunId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """One run: every field, and its artifacts by index (for `runs artifact`)."""
    with api() as client:
        run = client.runs.get(run_id)
    emit(run, chosen(output, as_json), lambda: _detail(run))


@app.command("logs")
def logs(
    run_id: RunId,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep reading until the run ends.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Show at most this many lines (not with -f).")
    ] = None,
    raw: Annotated[bool, typer.Option(help="The worker's JSON lines as they are.")] = False,
    timeout: Annotated[
        float | None,
        typer.Option(min=0, help="With -f: give up after this many seconds (the run goes on)."),
    ] = None,
) -> None:
    """The run's log from the start; with -f, the lines as they are written until it ends."""
    if follow and limit is not None:
        fail("--limit reads a log that is written already; leave it out with -f", ExitCode.USAGE)
    if timeout is not None and not follow:
        fail("--timeout is for -f", ExitCode.USAGE)

    def show_line(line: str) -> None:
        console.out(line if raw else format_log_line(line), highlight=False)

    with api() as client:
        if follow:
            for line in client.runs.follow_logs(run_id, timeout=timeout):
                show_line(line)
            return
        client.runs.get(run_id)  # an unknown run is a 404, not an empty log
        for line in _written(client, run_id, limit):
            show_line(line)


def _written(client: Client, run_id: str, limit: int | None) -> Iterator[str]:
    """The log as it is now, page by page from the start, `limit` lines at most."""
    left = limit
    cursor: str | None = None
    while left is None or left > 0:
        page = client.runs.logs(run_id, limit=min(left or PAGE, PAGE), cursor=cursor)
        yield from page.lines
        if not page.lines or not page.next_cursor:
            return
        if left is not None:
            left -= len(page.lines)
        cursor = page.next_cursor


@app.command("artifact")
def artifact(
    run_id: RunId,
    index: Annotated[int, typer.Argument(min=0, help="Its place in `runs show`, from 0.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to save it (default: its own name here; - for stdout).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite a file that is there.")] = False,
) -> None:
    """Download one of the run's artifacts."""
    to_stdout = out is not None and str(out) == "-"
    if out is not None and not to_stdout and not out.is_dir():
        _refuse_overwrite(out, force)  # before the download, where the name is known
    with api() as client:
        name, data = client.runs.artifact(run_id, index)
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    # The server names the file; keep only its last part, so a name never leaves this folder.
    path = out if out is not None else Path(Path(name).name or f"artifact-{index}")
    if path.is_dir():
        path = path / (Path(name).name or f"artifact-{index}")
    _refuse_overwrite(path, force)
    try:
        path.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    console.print(f"saved {path} ({len(data)} bytes)", markup=False)


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        fail(f"{path} exists; --force overwrites it")


# The styles of a unified diff's lines, by how a line starts (the first that matches).
DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))
CHANGE_STYLES = {"changed": "yellow", "added": "green", "removed": "red", "unreadable": "red"}


def _print_diff(lines: list[str]) -> None:
    for text in lines:
        style = next((s for start, s in DIFF_STYLES if text.startswith(start)), None)
        console.print(text, style=style, markup=False, highlight=False)


def _print_named(found: RunsDiffOut) -> None:
    if found.identical:
        console.print(f"{found.name}: identical", markup=False)
        return
    _print_diff(found.diff)
    if found.diff_truncated:
        console.print(f"(the diff is cut at {len(found.diff)} lines)", style="dim", markup=False)


def _print_whole(client: Client, found: RunsDiffOut) -> None:
    """Each artifact's change, then the diff of each changed one that is text."""
    from jobsched_client import ContentTooLargeError, ValidationFailedError

    table = new_table("artifact", "change", "detail")
    for a in found.artifacts:
        change = Text(str(a.change), style=CHANGE_STYLES.get(a.change, ""))
        table.add_row(Text(a.name), change, Text(a.detail or ""))  # Text: no markup in names
    console.print(table)
    if found.identical:
        console.print("identical", markup=False)
        return
    for a in found.artifacts:
        if a.change not in ("changed", "added", "removed"):
            continue
        console.print()
        try:
            named = client.runs.diff(found.run.run_id, found.against.run_id, name=a.name)
        except (ValidationFailedError, ContentTooLargeError) as exc:  # binary or too large
            console.print(f"{a.name}: {a.change}, not shown: {exc.detail}", markup=False)
            continue
        _print_named(named)


@app.command("diff")
def diff(
    run_id: RunId,
    other: Annotated[
        str, typer.Argument(help="The run to compare with: its lines are the diff's - side.")
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            "-n",
            help="One artifact, by its path under the run's outputs or its file name.",
            show_default=False,
        ),
    ] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What changed in RUN's artifacts since OTHER, as a colored unified diff.

    With --name, that artifact's diff (a text one). Without, each artifact's change (identical,
    changed, added, removed) and the diff of each changed text artifact. Exits 0 whether or not
    they differ; --json prints the API's answer (`identical` says).
    """
    fmt = chosen(output, as_json)
    with api() as client:
        found = client.runs.diff(run_id, other, name=name)
        if fmt is not Format.TABLE:
            emit(found, fmt)
        elif name is not None:
            _print_named(found)
        else:
            _print_whole(client, found)
