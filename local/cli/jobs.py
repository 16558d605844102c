"""`jobsched jobs`: submit a job and watch it, list, show, cancel, hold, release, rerun, and
the lineage of its reruns."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Group
from rich.status import Status
from rich.text import Text
from rich.tree import Tree

from jobsched.models import JobStatus, RunStatus
from jobsched_client.errors import WaitTimeoutError
from local.cli.bodies import body
from local.cli.context import api
from local.cli.estimates import phrase, spans
from local.cli.exit_codes import ExitCode
from local.cli.logs import format_log_line, is_error
from local.cli.output import (
    Format,
    JsonOpt,
    OutputOpt,
    ago,
    cell,
    chosen,
    console,
    emit,
    err_console,
    new_table,
    rows,
    when,
)

if TYPE_CHECKING:
    from jobsched_client import Client
    from jobsched_client.models import (
        JobCreated,
        JobDetailOut,
        JobOut,
        LineageJobOut,
        LineageOut,
        RunOut,
    )

app = typer.Typer(
    help="Submit, list, show, cancel, hold, release and rerun jobs (and see a job's reruns); "
    "wait for one, follow its log.",
    no_args_is_help=True,
)

# How often --wait and --follow ask (tests make it shorter).
POLL_SECONDS = 1.0
STATUS_STYLE = {
    "completed": "green",
    "finished": "green",
    "failed": "red",
    "rejected": "red",
    "cancelled": "yellow",
}

JobId = Annotated[str, typer.Argument(help="The job's id, e.g. job_01m8ydq33h...")]
ParamsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param", "-p", help="A param as key=value (repeat); over the file's.", show_default=False
    ),
]
ParamsFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file", "-f", help="The params as a JSON or YAML file (- for stdin).", show_default=False
    ),
]
PriorityOpt = Annotated[
    str | None,
    typer.Option(help="A level (low, normal, high, immediate) or 0-100.", show_default=False),
]
PositionOpt = Annotated[
    int | None, typer.Option(help="Its 1-based place in the queue.", show_default=False)
]
WaitOpt = Annotated[
    bool, typer.Option("--wait", help="Wait until it ends; exit 0 only if its run completed.")
]
FollowOpt = Annotated[
    bool,
    typer.Option(
        "--follow", help="Wait, and print its run's log as it is written (implies --wait)."
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        help="Stop waiting after this many seconds (exit 8; the job goes on).", show_default=False
    ),
]


def _queued_line(job: JobOut, detail: JobDetailOut | None) -> str:
    from jobsched_client.models import JobCreated  # at run time: the models load with the call

    if isinstance(job, JobCreated) and job.idempotent_replay:
        return f"{job.status} {job.job_id} (an earlier submit with this idempotency key)"
    shown = detail or job
    about = []
    if shown.queue_position is not None:
        about.append(f"position {shown.queue_position}")
    eta = phrase(detail.eta) if detail is not None else None
    if eta:
        about.append(eta)
    return f"{shown.status} {job.job_id}" + (f" ({', '.join(about)})" if about else "")


def _state(job: JobDetailOut) -> str:
    """What the spinner says: status, place and ETA, or the run that is going."""
    parts = [str(job.status)]
    if job.queue_position is not None:
        parts.append(f"position {job.queue_position}")
    if job.status is JobStatus.HELD and job.hold and job.hold.note:
        parts.append(f"held: {job.hold.note}")
    if job.budget_wait is not None:
        parts.append(f"waits for a spent budget until {when(job.budget_wait.resumes_at)}")
    if job.status is JobStatus.RUNNING and job.run is not None:
        parts.append(f"run {job.run.run_id} (attempt {job.run.attempt})")
    eta = phrase(job.eta)
    if eta:
        parts.append(eta)
    return f"{job.job_id}: " + ", ".join(parts)


class Watch:
    """A spinner on stderr while the job waits; on a stderr that is no terminal (a script's
    log), one line per change instead."""

    def __init__(self) -> None:
        self._status: Status | None = None
        self.last: JobDetailOut | None = None

    def show(self, job: JobDetailOut) -> None:
        self.last = job
        text = _state(job)
        if not err_console.is_terminal:
            err_console.print(text, markup=False)
        elif self._status is None:
            self._status = err_console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _watch(
    client: Client, job_id: str, follow: bool, timeout: float | None, fmt: Format
) -> JobDetailOut:
    """Wait for the job to end, printing its runs' logs as they are written if `follow`;
    returns the ended job."""
    deadline = None if timeout is None else time.monotonic() + timeout
    followed: set[str] = set()
    watch = Watch()

    def unfollowed(job: JobDetailOut) -> bool:
        return follow and job.run is not None and job.run.run_id not in followed

    try:
        while True:
            try:
                job = client.jobs.wait(
                    job_id,
                    timeout=_left(deadline),
                    poll=POLL_SECONDS,
                    on_change=watch.show,
                    until=unfollowed,
                )
            finally:
                watch.stop()
            if not unfollowed(job):
                return job
            assert job.run is not None
            followed.add(job.run.run_id)
            _print_log(client, job.run.run_id, _left(deadline), fmt)
    except WaitTimeoutError:
        # Said of the whole --timeout, not of the part of it the last wait had left.
        status = watch.last.status if watch.last is not None else "waiting"
        raise WaitTimeoutError(
            f"job {job_id} is still {status} after {timeout:g} s (it goes on)"
        ) from None


def _print_log(client: Client, run_id: str, timeout: float | None, fmt: Format) -> None:
    # In JSON or YAML, stdout is the final job alone: the log goes to stderr.
    out = console if fmt is Format.TABLE else err_console
    for line in client.runs.follow_logs(run_id, poll=POLL_SECONDS, timeout=timeout):
        out.print(format_log_line(line), markup=False, style="red" if is_error(line) else None)


def _outcome(client: Client, job: JobDetailOut) -> tuple[str, ExitCode]:
    run = job.run
    if job.status is JobStatus.FINISHED and run is not None and run.status is RunStatus.COMPLETED:
        return f"finished {job.job_id}: run {run.run_id} completed (exit code 0)", ExitCode.OK
    if run is None:
        return f"{job.status} {job.job_id} before it ran", ExitCode.JOB_FAILED
    line = f"{job.status} {job.job_id}: run {run.run_id} {run.status}"
    if run.exit_code is not None:
        line += f" (exit code {run.exit_code})"
    failed = run.status in (RunStatus.FAILED, RunStatus.REJECTED)  # rejected: checks failed
    error = client.runs.get(run.run_id).error if failed else None
    return line + (f": {error}" if error else ""), ExitCode.JOB_FAILED


def _created(
    make: Callable[[Client], JobCreated],
    wait: bool,
    follow: bool,
    timeout: float | None,
    fmt: Format,
    note: str = "",
) -> None:
    """Make the job, say so, and with --wait / --follow watch it to its end."""
    with api() as client:
        created = make(client)
        if fmt is Format.TABLE:
            detail = None if created.idempotent_replay else client.jobs.get(created.job_id)
            console.print(_queued_line(created, detail) + note, markup=False)
        elif not (wait or follow):
            emit(created, fmt)
        if not (wait or follow):
            return
        ended = _watch(client, created.job_id, follow, timeout, fmt)
        line, code = _outcome(client, ended)
    emit(ended, fmt, lambda: line)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


@app.command("submit")
def submit(
    template_id: Annotated[str, typer.Argument(help="The template to run, e.g. echo.")],
    params: ParamsOpt = None,
    file: ParamsFileOpt = None,
    priority: PriorityOpt = None,
    position: PositionOpt = None,
    group: Annotated[
        str | None, typer.Option(help="Add it to this group (its id).", show_default=False)
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            help="Sent again, returns the job it made (default: a new key each call).",
            show_default=False,
        ),
    ] = None,
    wait: WaitOpt = False,
    follow: FollowOpt = False,
    timeout: TimeoutOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue a job of a template; print its id, place and ETA.

    Params with -p key=value or -f params.yaml. With --wait (or --follow, which also prints the
    log), exits 0 once its run completed, 9 if it failed or was cancelled, 8 on --timeout.
    """
    job_params = body(file, params, "--param")

    def make(client: Client) -> JobCreated:
        return client.jobs.create(
            template_id,
            job_params,
            priority=priority,
            position=position,
            group_id=group,
            idempotency_key=idempotency_key,
        )

    _created(make, wait, follow, timeout, chosen(output, as_json))


@app.command("rerun")
def rerun(
    job_id: JobId,
    params: ParamsOpt = None,
    file: ParamsFileOpt = None,
    priority: PriorityOpt = None,
    position: PositionOpt = None,
    wait: WaitOpt = False,
    follow: FollowOpt = False,
    timeout: TimeoutOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue the job again: a new job of its template, at the version it ran with, and params.

    -p key=value (or -f params.yaml) replaces those params; the priority is the job's unless
    given; the job itself is left as it is. The new job records that it reruns this one (see
    `jobs lineage`). --wait and --follow as for submit.
    """
    changes = body(file, params, "--param")

    def make(client: Client) -> JobCreated:
        return client.jobs.rerun(job_id, changes or None, priority=priority, position=position)

    _created(make, wait, follow, timeout, chosen(output, as_json), note=f", rerun of {job_id}")


def _changed_params(job: LineageJobOut, parent: LineageJobOut | None) -> str:
    """The params a rerun changed from the job it reruns, as key=value."""
    if parent is None:
        return ""
    keys = sorted(set(job.params) | set(parent.params))
    changed = [k for k in keys if job.params.get(k) != parent.params.get(k)]
    return " ".join(f"{k}={cell(job.params.get(k))}" for k in changed)


def _lineage_label(job: LineageJobOut, parent: LineageJobOut | None, asked: bool) -> Text:
    label = Text()
    label.append(job.job_id, style="bold" if asked else "")
    label.append(f"  {job.status}", style=STATUS_STYLE.get(job.status, ""))
    run = job.run
    if run is None:
        label.append("  no run yet", style="dim")
    else:
        label.append(f"  run {run.run_id} ")
        label.append(str(run.status), style=STATUS_STYLE.get(run.status, ""))
        if run.exit_code is not None:
            label.append(f" exit {run.exit_code}")
    label.append(f"  created {when(job.created_at)}", style="dim")
    changed = _changed_params(job, parent)
    if changed:
        label.append(f"  {changed}", style="cyan")
    if asked:
        label.append("  <- this job", style="bold")
    return label


def _lineage_tree(found: LineageOut) -> object:
    """Each rerun under the job it reruns; one whose original is not listed (the first job
    is gone, or it was left out) at the top."""
    listed = {job.job_id: job for job in found.jobs}
    children: dict[str | None, list[LineageJobOut]] = {}
    for job in found.jobs:
        children.setdefault(job.rerun_of if job.rerun_of in listed else None, []).append(job)
    count = len(found.jobs)
    tree = Tree(f"lineage of {found.root_id} ({count} job{'s' if count != 1 else ''})")
    stack = [(tree, job) for job in reversed(children.get(None, []))]
    while stack:  # a chain can be 100 reruns deep: no recursion
        node, job = stack.pop()
        parent = listed.get(job.rerun_of) if job.rerun_of else None
        label = _lineage_label(job, parent, job.job_id == found.job_id)
        if job.rerun_of and parent is None:
            label.append(f"  (rerun of {job.rerun_of}, not listed)", style="dim")
        branch = node.add(label)
        stack += [(branch, child) for child in reversed(children.get(job.job_id, []))]
    if not found.truncated:
        return tree
    return Group(tree, Text(f"the newest reruns are left out: {found.limit} jobs at most"))


@app.command("lineage")
def lineage(job_id: JobId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """The tree of reruns the job belongs to: its first job and every rerun made from it,
    each with its status, its latest run's outcome, when it was made and the params it
    changed."""
    with api() as client:
        found = client.jobs.lineage(job_id)
    emit(found, chosen(output, as_json), lambda: _lineage_tree(found))


def _list_table(jobs: list[JobOut]) -> object:
    table = new_table(
        "job_id", "template", "status", "pos", "priority", "created", "run", no_wrap=["run"]
    )
    return rows(
        table,
        (
            (
                j.job_id,
                j.template_id,
                j.status,
                j.queue_position,
                j.priority,
                ago(j.created_at),
                j.run.status if j.run else None,
            )
            for j in jobs
        ),
    )


@app.command("list")
def list_jobs(
    status: Annotated[
        JobStatus | None, typer.Option(help="Only jobs in this status.", show_default=False)
    ] = None,
    template: Annotated[
        str | None, typer.Option(help="Only jobs of this template.", show_default=False)
    ] = None,
    schedule: Annotated[
        str | None, typer.Option(help="Only jobs this schedule made.", show_default=False)
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="Only this group's jobs.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 50,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Jobs, newest first."""
    with api() as client:
        found = client.jobs.iter(
            status=status,
            template_id=template,
            schedule_id=schedule,
            group_id=group,
            page_size=min(limit, 200),
        )
        jobs = list(islice(found, limit))
    emit(jobs, chosen(output, as_json), lambda: _list_table(jobs))


def _detail(job: JobDetailOut) -> object:
    table = new_table("field", "value")
    template = job.template_id + (f" ({job.template_name})" if job.template_name else "")
    if job.template_version is not None:
        template += f", version {job.template_version}"
    fields: list[tuple[str, Any]] = [
        ("job_id", job.job_id),
        ("template", template),
        ("status", job.status),
        ("position", job.queue_position),
        ("priority", job.priority),
        ("attempt", job.attempt),
        ("params", job.params),
        ("group", job.group_id),
        ("schedule", job.schedule_id),
        ("created", job.created_at),
        ("updated", job.updated_at),
        ("finished", job.finished_at),
    ]
    if job.hold is not None:
        by = job.hold.held_by_name or job.hold.held_by or "?"
        note = f"{job.hold.note} " if job.hold.note else ""
        fields.append(("hold", f"{note}(by {by})"))
    if job.run is not None:
        run = job.run
        code = f", exit code {run.exit_code}" if run.exit_code is not None else ""
        fields.append(("run", f"{run.run_id} {run.status} (attempt {run.attempt}{code})"))
    if job.concurrency_keys:
        fields.append(("concurrency", ", ".join(str(k.key) for k in job.concurrency_keys)))
    if job.budget_wait is not None:  # the reason says when each budget turns
        fields.append(("budget", f"waits: {job.budget_wait.reason}"))
    from jobsched_client.models import (
        ENDED_JOB_STATUSES,  # at run time: the models load with the call
    )

    if job.status not in ENDED_JOB_STATUSES:
        fields.append(("eta", spans(job.eta)))
    return rows(table, fields)


@app.command("show")
def show(job_id: JobId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """One job: its params, place, hold, latest run and ETA, and the spent budget it waits
    for, if any."""
    with api() as client:
        job = client.jobs.get(job_id)
    emit(job, chosen(output, as_json), lambda: _detail(job))


@app.command("cancel")
def cancel(job_id: JobId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel a queued or held job, or stop a running one."""
    with api() as client:
        job = client.jobs.cancel(job_id)
    emit(job, chosen(output, as_json), lambda: f"cancelled {job.job_id}")


@app.command("hold")
def hold(
    job_id: JobId,
    note: Annotated[
        str | None, typer.Option(help="Why, for whoever looks next.", show_default=False)
    ] = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Keep a queued job's place but pass it over until it is released."""
    with api() as client:
        job = client.jobs.hold(job_id, note)
    emit(job, chosen(output, as_json), lambda: f"held {job.job_id} (position {job.queue_position})")


@app.command("release")
def release(job_id: JobId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Let a held job run again, from the place it kept."""
    with api() as client:
        job = client.jobs.release(job_id)
    emit(
        job,
        chosen(output, as_json),
        lambda: f"released {job.job_id} (position {job.queue_position})",
    )


@app.command("runs")
def runs(job_id: JobId, output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """The job's runs, one per attempt."""
    with api() as client:
        chain: list[RunOut] = list(client.jobs.runs(job_id))
    table = new_table("run_id", "attempt", "status", "started", "finished", "exit_code", "error")
    emit(
        chain,
        chosen(output, as_json),
        lambda: rows(
            table,
            (
                (r.run_id, r.attempt, r.status, r.started_at, r.finished_at, r.exit_code, r.error)
                for r in chain
            ),
        ),
    )
