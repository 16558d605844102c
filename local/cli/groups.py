"""`jobsched groups`: jobs made together, run side by side (parallel) or one after another
(sequential)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jobsched.models import GroupMode, OnFailure
from local.cli.bodies import FileOpt, body, value_of
from local.cli.context import api, fail
from local.cli.exit_codes import ExitCode
from local.cli.output import JsonOpt, OutputOpt, chosen, console, emit, new_table, rows

if TYPE_CHECKING:
    from jobsched_client.models import GroupOut, GroupWithJobs, JobOut

app = typer.Typer(
    help="Groups of jobs run together or in order: create, list, show, cancel, hold, release.",
    no_args_is_help=True,
)

GroupId = Annotated[str, typer.Argument(help="The group's id, e.g. grp_01m8ydq9k2...")]
# `a=1,b=[1,2],c=x`: a comma starts a new pair only where a `key=` follows it.
PAIR_BREAK = re.compile(r",(?=\s*[A-Za-z_][\w.-]*=)")


def job_spec(text: str) -> dict[str, Any]:
    """`TEMPLATE[:key=value,...]` as one of the group's jobs."""
    template_id, _, given = text.partition(":")
    if not template_id.strip():
        fail(f"--job takes TEMPLATE[:key=value,...], not {text!r}", ExitCode.USAGE)
    params: dict[str, Any] = {}
    for pair in PAIR_BREAK.split(given) if given.strip() else []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--job {template_id}: {pair!r} is not key=value", ExitCode.USAGE)
        params[key.strip()] = value_of(raw)
    return {"template_id": template_id.strip(), "params": params}


def _jobs_table(jobs: list[JobOut]) -> object:
    table = new_table("job_id", "template", "status", "position", "attempt", "run")
    return rows(
        table,
        (
            (
                j.job_id,
                j.template_id,
                j.status,
                j.queue_position,
                j.attempt,
                f"{j.run.run_id} {j.run.status}" if j.run else None,
            )
            for j in jobs
        ),
    )


def _table(groups: list[GroupOut]) -> object:
    table = new_table("group_id", "name", "mode", "status", "jobs", "priority", "held", "created")
    return rows(
        table,
        (
            (
                g.group_id,
                g.name,
                g.mode,
                g.status,
                len(g.job_ids),
                g.priority,
                g.hold is not None,
                g.created_at,
            )
            for g in groups
        ),
    )


def _detail(group: GroupWithJobs) -> None:
    table = new_table("field", "value")
    rows(table, group.model_dump(exclude={"jobs", "job_ids", "hold", "webhook"}).items())
    if group.hold is not None:
        by = group.hold.held_by_name or group.hold.held_by
        rows(table, [("hold", f"{group.hold.note or 'held'} (by {by})")])
    if group.webhook is not None:
        rows(table, [("webhook", f"{group.webhook.status} ({group.webhook.attempts} attempts)")])
    console.print(table)
    console.print()
    console.print(_jobs_table(group.jobs))


@app.command("create")
def create(
    file: FileOpt = None,
    job: Annotated[
        list[str] | None,
        typer.Option(
            "--job",
            "-j",
            help="A job as TEMPLATE[:key=value,...] (repeat, in order); after the file's.",
            show_default=False,
        ),
    ] = None,
    mode: Annotated[
        GroupMode | None, typer.Option(help="parallel (default) or sequential.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name to know it by.")] = None,
    priority: Annotated[
        str | None, typer.Option(help="A level (low, normal, high...) or a number.")
    ] = None,
    on_failure: Annotated[
        OnFailure | None,
        typer.Option(help="continue (default) or stop: what a failed job does to the rest."),
    ] = None,
    max_parallel: Annotated[
        int | None, typer.Option(min=1, help="Parallel: at most this many at once.")
    ] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="Called once when the group ends.")
    ] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A group from a file (-f group.yaml) and/or jobs (-j echo:message=hi -j echo:count=2)."""
    request = body(file, None)
    listed = request.get("jobs", [])
    if not isinstance(listed, list):
        fail(f"{file}: jobs must be a list", ExitCode.USAGE)
    jobs = [*listed, *(job_spec(text) for text in job or [])]
    options = {
        "mode": mode.value if mode else None,
        "name": name,
        "priority": value_of(priority) if priority is not None else None,
        "on_failure": on_failure.value if on_failure else None,
        "max_parallel": max_parallel,
        "webhook_url": webhook_url,
    }
    request.update({k: v for k, v in options.items() if v is not None})
    if not jobs:
        fail("give the jobs with -j TEMPLATE[:key=value,...] or -f FILE", ExitCode.USAGE)
    request["jobs"] = jobs
    with api() as client:
        created = client.groups.create(request)

    def line() -> str:
        text = f"created {created.group_id} ({created.mode}, {len(created.job_ids)} jobs)"
        return "\n".join([text, *(f"warning: {w}" for w in created.warnings)])

    emit(created, chosen(output, as_json), line)


@app.command("list")
def list_groups(output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Every group, newest first."""
    with api() as client:
        groups = list(client.groups.iter())
    emit(groups, chosen(output, as_json), lambda: _table(groups))


@app.command("show")
def show(group_id: GroupId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """One group and each of its jobs, in the group's order."""
    with api() as client:
        group = client.groups.get(group_id)
        jobs = list(client.jobs.iter(group_id=group.group_id))
    order = {job_id: place for place, job_id in enumerate(group.job_ids)}
    jobs.sort(key=lambda j: order.get(j.job_id, len(order)))
    from jobsched_client.models import GroupWithJobs  # at run time: the models load with the call

    shown = GroupWithJobs(**group.model_dump(), jobs=jobs)
    emit(shown, chosen(output, as_json), lambda: _detail(shown))


@app.command("cancel")
def cancel(group_id: GroupId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel every job of it that has not ended (running ones are stopped)."""
    with api() as client:
        cancelled = client.groups.cancel(group_id)
    emit(cancelled, chosen(output, as_json), lambda: f"cancelled {cancelled.group_id}")


@app.command("hold")
def hold(
    group_id: GroupId,
    note: Annotated[str | None, typer.Option(help="Why (shown with the hold).")] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Its queued jobs wait, each keeping its place, until released."""
    with api() as client:
        held = client.groups.hold(group_id, note)
    emit(held, chosen(output, as_json), lambda: f"held {held.group_id}")


@app.command("release")
def release(group_id: GroupId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Queue its held jobs again, at the places they kept."""
    with api() as client:
        released = client.groups.release(group_id)
    emit(released, chosen(output, as_json), lambda: f"released {released.group_id}")
