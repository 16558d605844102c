"""`jobsched schedules`: jobs made on a timetable (cron(...), rate(...) or at(...))."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from local.cli.bodies import FileOpt, PairsOpt, body
from local.cli.budgets import budget_rows
from local.cli.context import api, fail
from local.cli.exit_codes import ExitCode
from local.cli.output import (
    JsonOpt,
    OutputOpt,
    cell,
    chosen,
    console,
    emit,
    new_table,
    rows,
    when,
)

if TYPE_CHECKING:
    from jobsched_client.models import LintOut, LintWarningOut, ScheduleOut

app = typer.Typer(
    help="Recurring jobs: list, show, create, update, delete, enable, disable, trigger, "
    "next fire times, lint.",
    no_args_is_help=True,
)

ScheduleId = Annotated[str, typer.Argument(help="The schedule's id, e.g. sch_01m8ydqmkr...")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Check and preview only (next runs, warnings).")
]
FIELDS_HINT = (
    "-s name=Daily -s template_id=echo -s expression='cron(0 9 * * ? *)' [-s timezone=...]"
)


def _table(schedules: list[ScheduleOut]) -> object:
    table = new_table(
        "schedule_id", "name", "template", "expression", "timezone", "enabled", "next", "last"
    )
    return rows(
        table,
        (
            (
                s.schedule_id,
                s.name,
                s.template_id,
                s.expression,
                s.timezone,
                s.enabled,
                s.next_runs[0].utc if s.next_runs else None,
                s.last_run.outcome if s.last_run else None,
            )
            for s in schedules
        ),
    )


def _fire_times(schedule: ScheduleOut) -> object:
    if not schedule.next_runs:
        why = "it is disabled" if not schedule.enabled else "it never fires again"
        return f"no next fire times: {why}"
    table = new_table("utc", f"local ({schedule.timezone})", "note")
    return rows(
        table,
        (
            (f.utc, f.local.strftime("%Y-%m-%d %H:%M %Z").strip(), f.note)
            for f in schedule.next_runs
        ),
    )


def _warnings(warnings: list[LintWarningOut]) -> object:
    if not warnings:
        return "no warnings"
    return rows(new_table("code", "message"), ((w.code, w.message) for w in warnings))


def _detail(schedule: ScheduleOut) -> None:
    table = new_table("field", "value")
    shown = schedule.model_dump(exclude={"next_runs", "last_run", "warnings", "budget_status"})
    rows(table, shown.items())
    if schedule.last_run is not None:
        last = schedule.last_run
        rows(table, [("last_run", f"{last.outcome} at {when(last.fired_at)}")])
        rows(table, [("last_job", last.job_id or last.run_id), ("last_reason", last.reason)])
    rows(table, budget_rows(getattr(schedule, "budget_status", [])))  # GET's answer only
    console.print(table)
    console.print()
    console.print(_fire_times(schedule))
    from jobsched_client.models import (
        ScheduleDryRunOut,  # at run time: the models load with the call
    )

    if isinstance(schedule, ScheduleDryRunOut):
        console.print()
        console.print(_warnings(schedule.warnings))


def _written(schedule: ScheduleOut, verb: str, dry_run: bool) -> None:
    """A write's line, or a dry run's whole preview."""
    if dry_run:
        console.print("dry run: nothing written", style="bold")
        _detail(schedule)
        return
    upcoming = f" (next {when(schedule.next_runs[0].utc)})" if schedule.next_runs else ""
    console.print(f"{verb} {schedule.schedule_id}{upcoming}", markup=False)


def _request(file: FileOpt, fields: PairsOpt) -> dict[str, object]:
    request = body(file, fields)
    if not request:
        fail(f"give the schedule with -f FILE and/or {FIELDS_HINT}", ExitCode.USAGE)
    return request


@app.command("list")
def list_schedules(
    template: Annotated[str | None, typer.Option(help="Only this template's schedules.")] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every schedule, newest first, with its next fire time."""
    with api() as client:
        found = list(client.schedules.iter(template_id=template))
    emit(found, chosen(output, as_json), lambda: _table(found))


@app.command("show")
def show(
    schedule_id: ScheduleId,
    next_count: Annotated[
        int | None, typer.Option("--next", min=0, help="How many next fire times (default 5).")
    ] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One schedule: its fields, last run and next fire times."""
    with api() as client:
        schedule = client.schedules.get(schedule_id, next_runs=next_count)
    emit(schedule, chosen(output, as_json), lambda: _detail(schedule))


@app.command("create")
def create(
    file: FileOpt = None,
    fields: PairsOpt = None,
    dry_run: DryRunOpt = False,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A schedule from a file (-f schedule.yaml) and/or fields (-s name=Daily
    -s template_id=echo -s expression='cron(0 9 * * ? *)' -s timezone=Europe/Paris)."""
    request = _request(file, fields)
    with api() as client:
        created = client.schedules.create(request, dry_run=dry_run)
    emit(created, chosen(output, as_json), lambda: _written(created, "created", dry_run))


@app.command("update")
def update(
    schedule_id: ScheduleId,
    file: FileOpt = None,
    fields: PairsOpt = None,
    dry_run: DryRunOpt = False,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change fields (each one named replaces the stored one; null clears start_at, end_at,
    flexible_window_minutes)."""
    patch = body(file, fields)
    if not patch:
        fail("give the changes with -f FILE and/or -s key=value", ExitCode.USAGE)
    with api() as client:
        updated = client.schedules.update(schedule_id, patch, dry_run=dry_run)
    emit(updated, chosen(output, as_json), lambda: _written(updated, "updated", dry_run))


def interactive() -> bool:
    """Someone at a terminal to ask (a script's stdin is not one)."""
    return sys.stdin.isatty()


@app.command("delete")
def delete(
    schedule_id: ScheduleId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete it: no more fires; the jobs and runs it made stay."""
    asked = not yes and interactive()
    if asked and not typer.confirm(f"delete schedule {schedule_id}?", err=True):
        fail(f"kept {schedule_id}")
    with api() as client:
        client.schedules.delete(schedule_id)
    deleted = {"schedule_id": schedule_id, "deleted": True}
    emit(deleted, chosen(output, as_json), lambda: f"deleted {schedule_id}")


@app.command("enable")
def enable(schedule_id: ScheduleId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Fire again from the next time on (missed times as its catch_up says)."""
    with api() as client:
        enabled = client.schedules.enable(schedule_id)
    emit(enabled, chosen(output, as_json), lambda: _written(enabled, "enabled", False))


@app.command("disable")
def disable(
    schedule_id: ScheduleId,
    note: Annotated[str | None, typer.Option(help="Why (shown as disabled_note).")] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """No fires until enabled again."""
    with api() as client:
        disabled = client.schedules.disable(schedule_id, note)
    emit(disabled, chosen(output, as_json), lambda: f"disabled {disabled.schedule_id}")


@app.command("trigger")
def trigger(
    schedule_id: ScheduleId,
    force: Annotated[
        bool, typer.Option(help="Run even where the overlap policy would refuse.")
    ] = False,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make its job now (also when disabled)."""
    with api() as client:
        job = client.schedules.trigger(schedule_id, force=force)

    def line() -> str:
        place = f" at position {job.queue_position}" if job.queue_position is not None else ""
        return f"queued {job.job_id}{place} from {schedule_id} ({cell(job.status)})"

    emit(job, chosen(output, as_json), line)


@app.command("next")
def next_fires(
    schedule_id: ScheduleId,
    count: Annotated[int, typer.Option(min=1, help="How many fire times.")] = 10,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Its next fire times, in UTC and in its own time zone, with daylight-saving notes."""
    with api() as client:
        schedule = client.schedules.get(schedule_id, next_runs=count)
    emit(schedule.next_runs, chosen(output, as_json), lambda: _fire_times(schedule))


def _lint_report(report: LintOut) -> None:
    console.print(_warnings(report.warnings))
    per_day = "never again" if report.fires_per_day is None else str(report.fires_per_day)
    console.print(f"fires per day: {per_day}", markup=False)
    console.print(f"next fire: {when(report.next_fire)}", markup=False)


@app.command("lint")
def lint(
    file: FileOpt = None,
    fields: PairsOpt = None,
    strict: Annotated[
        bool, typer.Option(help="Exit 6 (invalid) when there is any warning (for CI).")
    ] = False,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What a proposed schedule will do that may surprise (daylight saving, busy minutes,
    overlaps, lost catch-ups...); writes nothing."""
    request = _request(file, fields)
    with api() as client:
        report = client.schedules.lint(request)
    emit(report, chosen(output, as_json), lambda: _lint_report(report))
    if strict and report.warnings:
        raise typer.Exit(int(ExitCode.INVALID))
