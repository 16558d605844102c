"""The overview's figures from the API's answers (their JSON), computed one way for the dashboard
(api/ui/pages/overview.py) and `jobsched status`: waits and durations, runs per hour, the next
fires of the schedules, and what needs attention. Pure: no HTTP, no framework, no models.

The reads are bounded by the page limits below, whatever the length of the queue (docs/
decisions.md, "Overview and keys pages").
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PAGE = 200  # the API's largest page
RUN_PAGES = 3  # the runs of the last day are read at most this many pages (600 runs)
WINDOW = timedelta(hours=24)
BUCKET = timedelta(hours=1)
FIRES_PER_SCHEDULE = 50  # the API's most next_runs per schedule
ATTENTION_SHOWN = 20
LOST = "lost"  # a lost unit's run fails with this error, or "lost: <why>" (jobsched.dispatch)

Json = dict[str, Any]


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value)


def iso(moment: datetime) -> str:
    """An instant as the API's query parameters take it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value at or above p% of them."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Spread:
    what: str
    p50: float | None
    p90: float | None
    n: int

    @classmethod
    def of(cls, what: str, values: list[float]) -> "Spread":
        return cls(what, percentile(values, 50), percentile(values, 90), len(values))


def spreads(runs: list[Json], jobs: list[Json]) -> tuple[Spread, Spread]:
    """Queue wait (a first attempt's start less its job's creation, for the jobs given) and
    run duration (end less start), skipped runs left out."""
    created = {job["job_id"]: parse_time(job["created_at"]) for job in jobs}
    waits: list[float] = []
    durations: list[float] = []
    for run in runs:
        started, finished = parse_time(run["started_at"]), parse_time(run.get("finished_at"))
        if run["status"] == "skipped" or started is None:
            continue
        job_created = created.get(run["job_id"])
        if run["attempt"] == 1 and job_created is not None:
            waits.append(max(0.0, (started - job_created).total_seconds()))
        if finished is not None:
            durations.append(max(0.0, (finished - started).total_seconds()))
    return Spread.of("Queue wait", waits), Spread.of("Run duration", durations)


def hourly_series(runs: list[Json], now: datetime) -> dict[str, list[int]]:
    """Completed and failed runs per hour by the hour they finished, the last 24 hours (a
    rejected run, whose outputs failed its checks, counts as failed)."""
    end = now.replace(minute=0, second=0, microsecond=0) + BUCKET
    start = end - WINDOW
    buckets = int(WINDOW / BUCKET)
    series = {"x": [int((start + i * BUCKET).timestamp()) for i in range(buckets)]}
    counts = {"completed": [0] * buckets, "failed": [0] * buckets}
    for run in runs:
        finished = parse_time(run.get("finished_at"))
        status = "failed" if run["status"] == "rejected" else run["status"]
        if status not in counts or finished is None or not start <= finished < end:
            continue
        counts[status][int((finished - start) / BUCKET)] += 1
    return {**series, **counts}


@dataclass
class Fires:
    """The schedules' fires up to `horizon`, soonest first: {"schedule": ..., "fire": ...}."""

    upcoming: list[Json]
    horizon: datetime
    cut: bool  # a schedule fires more often than read: the horizon is before now + WINDOW


def upcoming_fires(schedules: list[Json], now: datetime) -> Fires:
    horizon = now + WINDOW
    merged: list[Json] = []
    for schedule in schedules:
        times = schedule["next_runs"]
        if len(times) == FIRES_PER_SCHEDULE:
            # It fires more often than we read: past its last read fire, others' would show alone.
            horizon = min(horizon, parse_time(times[-1]["utc"]) or horizon)
        merged.extend({"schedule": schedule, "fire": fire} for fire in times)
    upcoming = sorted(
        (f for f in merged if (parse_time(f["fire"]["utc"]) or horizon) <= horizon),
        key=lambda f: (f["fire"]["utc"], f["schedule"]["name"]),
    )
    return Fires(upcoming, horizon, horizon < now + WINDOW)


@dataclass
class Attention:
    """What needs a look, at most ATTENTION_SHOWN of each kind."""

    failed: list[Json] = field(default_factory=list)  # failed runs of the last day, not lost
    lost: list[Json] = field(default_factory=list)  # runs whose unit was lost
    retrying: list[Json] = field(default_factory=list)  # queued again, the latest run failed
    held: list[Json] = field(default_factory=list)
    webhooks: list[Json] = field(default_factory=list)  # groups whose webhook failed or refused

    def empty(self) -> bool:
        return not (self.failed or self.lost or self.retrying or self.held or self.webhooks)


def attention(
    failed: list[Json],
    held: list[Json],
    queued: list[Json],
    groups: list[Json],
    rejected: list[Json] | None = None,
) -> Attention:
    """From the last day's failed (and rejected) runs, the held and the queued jobs, and the
    groups. A rejected run is a failed one whose outputs failed its checks: listed with them."""
    if rejected:
        failed = sorted(
            [*failed, *rejected], key=lambda r: r.get("finished_at") or "", reverse=True
        )
    unsuccessful = {"failed", "rejected"}
    retrying = [j for j in queued if (j.get("run") or {}).get("status") in unsuccessful]
    webhooks = [
        g for g in groups if (g.get("webhook") or {}).get("status") in {"failed", "refused"}
    ]
    lost = [r for r in failed if (r.get("error") or "").startswith(LOST)]
    return Attention(
        failed=[r for r in failed if r not in lost][:ATTENTION_SHOWN],
        lost=lost[:ATTENTION_SHOWN],
        retrying=retrying[:ATTENTION_SHOWN],
        held=held[:ATTENTION_SHOWN],
        webhooks=webhooks[:ATTENTION_SHOWN],
    )
