"""`jobsched queue`: the order jobs will run in, with ETAs, and the changes to it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Group
from rich.text import Text

from local.cli.bodies import pairs, read_document
from local.cli.context import api, fail
from local.cli.estimates import finish_of, start_of
from local.cli.exit_codes import ExitCode
from local.cli.output import (
    Format,
    JsonOpt,
    OutputOpt,
    ago,
    chosen,
    emit,
    new_table,
    rows,
    when,
)

if TYPE_CHECKING:
    from jobsched_client import Client
    from jobsched_client.models import (
        MovedJobOut,
        PreviewItemOut,
        PreviewOut,
        QueueItemOut,
        QueueOut,
        QueueStateOut,
        QueueStatsOut,
    )

app = typer.Typer(
    help="The queue in the order it will run, with ETAs (`jobsched queue`); move, prioritise, "
    "reorder, pause, resume, preview.",
    invoke_without_command=True,
)

PAGE_SIZE = 200  # the API's largest page

JobId = Annotated[str, typer.Argument(help="A queued job's id.")]
LimitOpt = Annotated[int, typer.Option(min=1, help="At most this many places.")]
NoteOpt = Annotated[
    str | None, typer.Option(help="Why, shown with the queue's state.", show_default=False)
]
PositionOpt = Annotated[
    int | None, typer.Option(help="A 1-based place in the queue.", show_default=False)
]
BeforeOpt = Annotated[
    str | None, typer.Option(help="In front of this queued job.", show_default=False)
]
AfterOpt = Annotated[str | None, typer.Option(help="Behind this queued job.", show_default=False)]


def _state_line(state: QueueStateOut) -> str:
    if state.paused:
        line = "queue paused"
    elif state.changed_at is not None:
        line = "queue running (resumed)"
    else:
        return "queue running"
    if state.changed_at is not None:
        line += f" {ago(state.changed_at)}"
    if state.changed_by:
        line += f" by key {state.changed_by}"
    return line + (f": {state.note}" if state.note else "")


def _order(client: Client, limit: int) -> QueueOut:
    """The first `limit` places, read page by page, with the queue's state from the first."""
    first = client.queue.view(limit=min(limit, PAGE_SIZE))
    items = list(first.items)
    cursor = first.next_cursor
    while cursor and len(items) < limit:
        page = client.queue.view(limit=min(limit - len(items), PAGE_SIZE), cursor=cursor)
        items += page.items
        cursor = page.next_cursor
    more = cursor if len(items) >= limit else None
    return first.model_copy(update={"items": items[:limit], "next_cursor": more})


def _order_table(queue: QueueOut) -> object:
    parts: list[Any] = [Text(_state_line(queue.state))]
    if queue.reservations:
        ids = ", ".join(r.reservation_id for r in queue.reservations)
        parts.append(Text(f"{len(queue.reservations)} reservation(s) run first: {ids}"))
    if not queue.items:
        parts.append(Text("nothing queued"))
        return Group(*parts)
    # The group column only where a job has one: the row fits a narrow terminal otherwise.
    grouped = any(item.group_id for item in queue.items)
    columns = ["pos", "job_id", "template", "priority", "held", "group", "start", "finish"]
    table = new_table(*(c for c in columns if grouped or c != "group"), no_wrap=columns)
    places = (_place(item) for item in queue.items)
    parts.append(rows(table, (p if grouped else p[:5] + p[6:] for p in places)))
    if queue.next_cursor:
        parts.append(Text("(more: --limit N shows more places)"))
    return Group(*parts)


def _place(item: QueueItemOut) -> tuple[Any, ...]:
    return (
        item.position,
        item.job_id,
        item.template_id,
        item.priority,
        item.held,
        item.group_id,
        start_of(item.eta),
        finish_of(item.eta),
    )


def _show(limit: int, output: Format | None, as_json: bool) -> None:
    with api() as client:
        queue = _order(client, limit)
    emit(queue, chosen(output, as_json), lambda: _order_table(queue))


@app.callback()
def order(
    ctx: typer.Context, limit: LimitOpt = 50, output: OutputOpt = None, as_json: JsonOpt = False
) -> None:
    if ctx.invoked_subcommand is None:
        _show(limit, output, as_json)


@app.command("show")
def show(limit: LimitOpt = 50, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """The order jobs will run in, with each one's ETA (p50); the same as `jobsched queue`."""
    _show(limit, output, as_json)


def _moved(job: MovedJobOut) -> str:
    line = f"moved {job.job_id} to position {job.queue_position}"
    return line + (f" ({job.note})" if job.note else "")


def _one_place(position: int | None, before: str | None, after: str | None) -> None:
    if sum(given is not None for given in (position, before, after)) != 1:
        fail("give one of --position, --before or --after", ExitCode.USAGE)


@app.command("move")
def move(
    job_id: JobId,
    position: PositionOpt = None,
    before: BeforeOpt = None,
    after: AfterOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put a job at a place (--position N) or next to another (--before J, --after J).

    Among jobs of another priority it takes theirs, and says so.
    """
    _one_place(position, before, after)
    with api() as client:
        moved = client.queue.move(job_id, position=position, before=before, after=after)
    emit(moved, chosen(output, as_json), lambda: _moved(moved))


@app.command("priority")
def priority(
    job_id: JobId,
    value: Annotated[str, typer.Argument(help="low, normal, high, immediate, or 0-100.")],
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give a queued job a new priority: it goes to the end of that priority's band."""
    with api() as client:
        job = client.queue.set_priority(job_id, value)
    emit(
        job,
        chosen(output, as_json),
        lambda: f"{job.job_id} priority {job.priority} (position {job.queue_position})",
    )


@app.command("reorder")
def reorder(
    job_ids: Annotated[list[str], typer.Argument(help="Queued jobs, in their new order.")],
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give these jobs this order among themselves; they swap the places they hold."""
    with api() as client:
        moved = client.queue.reorder(job_ids)
    emit(moved.items, chosen(output, as_json), lambda: "\n".join(_moved(j) for j in moved.items))


@app.command("pause")
def pause(note: NoteOpt = None, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Stop starting jobs (admin); running ones go on, submits are still queued."""
    with api() as client:
        state = client.queue.pause(note)
    emit(state, chosen(output, as_json), lambda: _state_line(state))


@app.command("resume")
def resume(note: NoteOpt = None, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Start jobs again (admin)."""
    with api() as client:
        state = client.queue.resume(note)
    emit(state, chosen(output, as_json), lambda: _state_line(state))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "-"


def _stats_table(stats: QueueStatsOut) -> object:
    table = new_table("field", "value")
    return rows(
        table,
        [
            ("state", _state_line(stats.state)),
            ("queued", stats.queued),
            ("oldest queued", f"{when(stats.oldest_queued_at)} ({ago(stats.oldest_queued_at)})")
            if stats.oldest_queued_at
            else ("oldest queued", None),
            ("running", ", ".join(stats.running) or "-"),
            ("by status", _counts(stats.counts_by_status)),
            ("queued by template", _counts(stats.queued_by_template)),
            ("skipped fires", stats.skipped_fires),
        ],
    )


@app.command("stats")
def stats(output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """How many jobs wait and run, the oldest wait, counts by status and template."""
    with api() as client:
        found = client.queue.stats()
    emit(found, chosen(output, as_json), lambda: _stats_table(found))


@dataclass
class Proposal:
    """`queue preview`'s options; `request()` is the API's PreviewRequest (one change)."""

    move: str | None
    position: int | None
    before: str | None
    after: str | None
    priority: str | None
    new: str | None
    params: list[str] | None
    reorder: list[str] | None
    cancel: str | None
    hold: str | None
    file: Path | None

    def request(self) -> dict[str, Any]:
        given = self._given()
        if len(given) != 1:
            fail(
                "give one change: --move JOB (with --position, --before or --after), "
                "--priority JOB=P, --new TEMPLATE, --reorder J1,J2, --cancel JOB, --hold JOB "
                f"or -f FILE{'; not ' + ', '.join(given) if given else ''}",
                ExitCode.USAGE,
            )
        if self.file is not None:
            return read_document(self.file)
        self._check_companions()
        if self.move:
            _one_place(self.position, self.before, self.after)
            place = {"position": self.position, "before": self.before, "after": self.after}
            fields = {k: v for k, v in place.items() if v is not None}
            return {"move": {"job_id": self.move, **fields}}
        if self.new:
            return {"new_job": self._new_job()}
        if self.priority:
            job_id, _, value = self.priority.partition("=")
            return {"priority": {"job_id": job_id, "priority": value}}
        if self.reorder:
            ids = [j.strip() for item in self.reorder for j in item.split(",") if j.strip()]
            return {"reorder": {"job_ids": ids}}
        if self.cancel:
            return {"cancel": {"job_id": self.cancel}}
        return {"hold": {"job_id": self.hold}}

    def _given(self) -> list[str]:
        # A bare priority (no JOB=) is the new job's, not a change of its own.
        job_priority = self.priority if self.priority and "=" in self.priority else None
        options = (
            ("--move", self.move),
            ("--priority JOB=P", job_priority),
            ("--new", self.new),
            ("--reorder", self.reorder),
            ("--cancel", self.cancel),
            ("--hold", self.hold),
            ("--file", self.file),
        )
        return [name for name, value in options if value]

    def _check_companions(self) -> None:
        if (self.before or self.after) and not self.move:
            fail("--before and --after go with --move", ExitCode.USAGE)
        if self.position is not None and not (self.move or self.new):
            fail("--position goes with --move or --new", ExitCode.USAGE)
        if self.params and not self.new:
            fail("-p goes with --new", ExitCode.USAGE)

    def _new_job(self) -> dict[str, Any]:
        job: dict[str, Any] = {"template_id": self.new, "params": pairs(self.params, "--param")}
        if self.priority is not None:
            job["priority"] = self.priority
        if self.position is not None:
            job["position"] = self.position
        return job


def _then(now: Any, after: Any) -> str:
    now, after = str(now), str(after)
    return now if now == after else f"{now} → {after}"


def _preview_table(preview: PreviewOut) -> object:
    changed = [item for item in preview.items if item.affected]
    if not changed:
        return "nothing changes"
    table = new_table(
        "job_id", "priority", "pos", "start", "finish", no_wrap=["pos", "start", "finish"]
    )
    header = Text(f"{len(changed)} job(s) change (now → after)")
    return Group(header, rows(table, (_row(item) for item in changed)))


def _row(item: PreviewItemOut) -> tuple[Any, ...]:
    return (
        item.job_id,
        item.priority,
        _then(item.position_now or "-", item.position or "-"),
        _then(start_of(item.eta_now), start_of(item.eta)),
        _then(finish_of(item.eta_now), finish_of(item.eta)),
    )


@app.command("preview")
def preview(
    move: Annotated[
        str | None,
        typer.Option(
            help="Move this job (with --position, --before or --after).", show_default=False
        ),
    ] = None,
    position: PositionOpt = None,
    before: BeforeOpt = None,
    after: AfterOpt = None,
    priority: Annotated[
        str | None,
        typer.Option(
            help="JOB=P: give a queued job priority P (with --new: the new job's P).",
            show_default=False,
        ),
    ] = None,
    new: Annotated[
        str | None,
        typer.Option(
            help="A new job of this template (with -p, --priority, --position).",
            show_default=False,
        ),
    ] = None,
    params: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="The new job's param as key=value.", show_default=False),
    ] = None,
    reorder: Annotated[
        list[str] | None,
        typer.Option(help="J1,J2,...: these jobs in this order.", show_default=False),
    ] = None,
    cancel: Annotated[str | None, typer.Option(help="Cancel this job.", show_default=False)] = None,
    hold: Annotated[str | None, typer.Option(help="Hold this job.", show_default=False)] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="The change as the API's preview body (JSON or YAML; - for stdin).",
            show_default=False,
        ),
    ] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What one change would do to the order and ETAs, writing nothing.

    Lists the jobs it moves or delays, now and after.
    """
    change = Proposal(
        move, position, before, after, priority, new, params, reorder, cancel, hold, file
    ).request()
    with api() as client:
        found = client.queue.preview(change)
    emit(found, chosen(output, as_json), lambda: _preview_table(found))
