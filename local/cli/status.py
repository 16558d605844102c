"""`jobsched status`: the dashboard's overview in a terminal. Its figures are the overview's,
computed by the same functions (jobsched_client.summary), and it reads the API as many times
whatever the length of the queue: at most 8 + RUN_PAGES calls."""

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from jobsched_client.summary import (
    ATTENTION_SHOWN,
    FIRES_PER_SCHEDULE,
    PAGE,
    RUN_PAGES,
    WINDOW,
    Json,
    Spread,
    attention,
    hourly_series,
    iso,
    parse_time,
    spreads,
    upcoming_fires,
)
from local.cli.context import api
from local.cli.output import JsonOpt, OutputOpt, ago, chosen, emit, new_table, rows, took, when

if TYPE_CHECKING:
    from rich.console import RenderableType

    from jobsched_client import Client

FIRES_SHOWN = 10  # in the table; --json has every fire up to the horizon


def _dump(items: list[Any]) -> list[Json]:
    return [item.model_dump(mode="json") for item in items]


def _recent_runs(client: "Client", since: str) -> tuple[list[Json], bool]:
    """The runs started since `since`, at most RUN_PAGES pages; and whether more were unread."""
    runs: list[Json] = []
    cursor = None
    for _ in range(RUN_PAGES):
        page = client.runs.list(since=since, limit=PAGE, cursor=cursor)
        runs.extend(_dump(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return runs, False
    return runs, True


def _spread(spread: Spread) -> Json:
    return {"p50": spread.p50, "p90": spread.p90, "n": spread.n}


def gather(client: "Client", now: datetime) -> Json:
    """The status as one object: the API's own objects where it has them."""
    since = iso(now - WINDOW)
    stats = client.queue.stats()
    runs, truncated = _recent_runs(client, since)
    # The newest jobs give the created_at a first attempt waited from (as the overview).
    jobs = _dump(client.jobs.list(limit=PAGE).items)
    running = client.jobs.list(status="running", limit=PAGE)
    schedules = client.schedules.list(next_runs=FIRES_PER_SCHEDULE, limit=PAGE)
    failed = _dump(client.runs.list(status="failed", since=since, limit=ATTENTION_SHOWN).items)
    rejected = _dump(client.runs.list(status="rejected", since=since, limit=ATTENTION_SHOWN).items)
    held = _dump(client.jobs.list(status="held", limit=ATTENTION_SHOWN).items)
    queued = _dump(client.jobs.list(status="queued", limit=PAGE).items)
    groups = _dump(client.groups.list(limit=PAGE).items)

    fires = upcoming_fires(_dump(schedules.items), now)
    series = hourly_series(runs, now)
    wait, duration = spreads(runs, jobs)
    found = attention(failed, held, queued, groups, rejected)
    # Read with the fires anyway: a schedule EventBridge has not taken yet may not fire as shown.
    sync_pending = [
        {k: v for k, v in s.model_dump(mode="json").items() if k != "next_runs"}
        for s in schedules.items
        if s.sync_pending
    ]
    return {
        "at": iso(now),
        "stats": stats.model_dump(mode="json"),
        "running": _dump(running.items),
        "running_more": running.next_cursor is not None,
        "fires": [
            {
                "schedule_id": f["schedule"]["schedule_id"],
                "name": f["schedule"]["name"],
                "timezone": f["schedule"]["timezone"],
                **f["fire"],
            }
            for f in fires.upcoming
        ],
        "fires_until": iso(fires.horizon),
        "fires_cut": fires.cut,
        "schedules_more": schedules.next_cursor is not None,
        "runs": {
            "since": since,
            "started": len(runs),
            "truncated": truncated,
            "completed": sum(series["completed"]),
            "failed": sum(series["failed"]),
            "wait_seconds": _spread(wait),
            "duration_seconds": _spread(duration),
        },
        "attention": {
            "lost": found.lost,
            "failed": found.failed,
            "retrying": found.retrying,
            "held": found.held,
            "webhooks": found.webhooks,
            "sync_pending": sync_pending[:ATTENTION_SHOWN],
        },
    }


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    start = datetime(2000, 1, 1, tzinfo=UTC)
    return took(start, start + timedelta(seconds=value))


def _heading(text: str) -> str:
    return f"\n[bold]{text}[/]"


def _counts(status: Json) -> list["RenderableType"]:
    stats = status["stats"]
    state = stats["state"]
    if stats["paused"]:
        by = f" by {state['changed_by']}" if state.get("changed_by") else ""
        at = f" {ago(parse_time(state['changed_at']))}" if state.get("changed_at") else ""
        note = f": {state['note']}" if state.get("note") else ""
        head = f"[bold yellow]queue paused[/]{by}{at}{note}"
    else:
        head = "[bold]queue running[/]"
    counts = "  ".join(f"{name} {n}" for name, n in sorted(stats["counts_by_status"].items()))
    wait = stats["oldest_wait_seconds"]
    waiting = f", the oldest for {_seconds(wait)}" if wait is not None else ""
    return [head, f"{stats['queued']} waiting{waiting}", counts or "no jobs"]


def _running(status: Json) -> list["RenderableType"]:
    shown: list[RenderableType] = [_heading(f"running ({len(status['running'])})")]
    if not status["running"]:
        return [*shown, "nothing runs now"]
    table = new_table("job_id", "template", "attempt", "started", "run_id")
    for job in status["running"]:
        run = job.get("run") or {}
        started = parse_time(run.get("started_at"))
        rows(
            table,
            [
                (
                    job["job_id"],
                    job["template_name"] or job["template_id"],
                    job["attempt"],
                    ago(started) if started else None,
                    run.get("run_id"),
                )
            ],
        )
    more = [f"more than the {PAGE} shown"] if status["running_more"] else []
    return [*shown, table, *more, "stop one with `jobsched jobs cancel JOB_ID`"]


def _fires(status: Json) -> list["RenderableType"]:
    fires = status["fires"]
    shown: list[RenderableType] = [_heading("schedule fires, next 24 hours")]
    if not fires:
        return [*shown, "none"]
    table = new_table("when", "", "schedule", "schedule_id", "note")
    for fire in fires[:FIRES_SHOWN]:
        at = parse_time(fire["utc"])
        rows(table, [(when(at), ago(at), fire["name"], fire["schedule_id"], fire["note"])])
    shown.append(table)
    if len(fires) > FIRES_SHOWN:
        shown.append(f"and {len(fires) - FIRES_SHOWN} more (--json lists them)")
    if status["fires_cut"]:
        shown.append(
            f"a schedule fires more than {FIRES_PER_SCHEDULE} times a day: "
            f"listed until {when(parse_time(status['fires_until']))} only"
        )
    return shown


def _runs(status: Json) -> list["RenderableType"]:
    runs = status["runs"]
    more = f" (the newest {runs['started']} only)" if runs["truncated"] else ""
    head = _heading(f"runs, last 24 hours: {runs['completed']} completed, {runs['failed']} failed")
    table = new_table("", "p50", "p90", "runs")
    for what, spread in (("wait", runs["wait_seconds"]), ("duration", runs["duration_seconds"])):
        rows(table, [(what, _seconds(spread["p50"]), _seconds(spread["p90"]), spread["n"])])
    note = f"of the {runs['started']} runs started{more}; wait: a first attempt's start less "
    return [head, table, note + "its job's creation"]


def _attention(status: Json) -> list["RenderableType"]:
    found = status["attention"]
    shown: list[RenderableType] = [_heading("needs attention")]
    # One id a row (the run's, else the job's or group's): two would crowd an 80-column terminal.
    table = new_table("kind", "id", "template", "what", "when")
    lines: list[tuple[Any, ...]] = []
    for run in found["lost"]:
        lines.append(("lost", run["run_id"], run["job_id"], run["template_id"], run["error"], run))
    for run in found["failed"]:
        code = run["exit_code"]
        why = run["error"] or (f"exit code {code}" if code is not None else "failed")
        lines.append(
            (
                run.get("status") or "failed",  # or rejected: its outputs failed its checks
                run["run_id"],
                run["job_id"],
                run["template_id"],
                f"attempt {run['attempt']}: {why}",
                run,
            )
        )
    for job in found["retrying"]:
        run = job["run"]
        why = f"waits to retry after attempt {run['attempt']} failed"
        lines.append(("retrying", run["run_id"], job["job_id"], _template(job), why, run))
    for job in found["held"]:
        hold = job.get("hold") or {}
        by = hold.get("held_by_name") or hold.get("held_by")
        why = ": ".join(filter(None, [f"by {by}" if by else None, hold.get("note")]))
        lines.append(("held", job["job_id"], None, _template(job), why or None, hold))
    for group in found["webhooks"]:
        hook = group["webhook"]
        code = f" (HTTP {hook['status_code']})" if hook.get("status_code") else ""
        why = f"webhook {hook['status']}: {hook.get('error') or ''}{code}"
        lines.append(("webhook", group["group_id"], None, group.get("name"), why, hook))
    for schedule in found["sync_pending"]:
        why = f"{schedule['name']}: EventBridge has not taken the latest change"
        lines.append(
            ("sync", schedule["schedule_id"], None, schedule["template_id"], why, schedule)
        )
    if not lines:
        return [*shown, "nothing"]
    for kind, ident, job_id, template, why, source in lines:
        moment = parse_time(
            source.get("finished_at")
            or source.get("held_at")
            or source.get("at")
            or source.get("updated_at")
        )
        rows(table, [(kind, ident or job_id, template, why, ago(moment))])
    tail = f"failed and lost runs of the last 24 hours; at most {ATTENTION_SHOWN} of each kind"
    return [*shown, table, tail]


def _template(job: Json) -> str:
    return str(job.get("template_name") or job["template_id"])


def _table(status: Json) -> "RenderableType":
    from rich.console import Group

    parts = [*_counts(status), *_running(status), *_fires(status), *_runs(status)]
    return Group(*parts, *_attention(status))


def status(output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """Counts, what runs now, the next day's fires, the last day's runs (waits, durations) and
    what needs attention: the dashboard's overview."""
    with api() as client:
        shown = gather(client, datetime.now(UTC))
    emit(shown, chosen(output, as_json), lambda: _table(shown))
