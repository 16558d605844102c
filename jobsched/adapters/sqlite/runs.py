"""Job runs, the execution history (dynamodb/runs.py's SQLite twin).

Retention: with `run_retention_days`, an ended run's `expires_at` is set as DynamoDB's TTL
attribute is. DynamoDB deletes expired items itself (eventually); here an expired run is hidden
from every read at once, and `purge_expired` deletes them.
"""

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime

from jobsched.adapters.sqlite.budgets import settle
from jobsched.adapters.sqlite.codec import dump, load, sort_time
from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.sqlite.jobs import changed
from jobsched.adapters.sqlite.pages import Listing, newest_first
from jobsched.adapters.sqlite.usage import add_usage, usage_sums
from jobsched.errors import NotFoundError
from jobsched.models import JobRun, RunStatus
from jobsched.models.usage import Usage, UsageTotals, hour_of
from jobsched.ports import Page, RunFilter
from jobsched.settings import Settings

RUNS = Listing(table="runs", id_column="run_id", sort_column="started_key")
VISIBLE = "expires_at IS NULL OR expires_at > ?"  # the parameter: now, in epoch seconds


def run_expiry(settings: Settings, ended_at: datetime) -> int | None:
    """When a run that ended at `ended_at` expires (epoch seconds), if runs expire at all:
    dynamodb/runs.py run_expiry's rule (tests/integration/store holds the two equal)."""
    if settings.run_retention_days is None:
        return None
    return int(ended_at.timestamp()) + settings.run_retention_days * 86_400


def put_run(conn: sqlite3.Connection, run: JobRun, settings: Settings) -> None:
    """The one writer of the runs table's columns. A running run never expires."""
    expires_at = None
    if run.status != RunStatus.STARTED:
        expires_at = run_expiry(settings, run.finished_at or run.started_at)
    conn.execute(
        "INSERT OR REPLACE INTO runs (run_id, status, job_id, template_id, schedule_id, "
        "started_key, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.run_id,
            run.status.value,
            run.job_id,
            run.template_id,
            run.schedule_id,
            sort_time(run.started_at),
            expires_at,
            dump(run),
        ),
    )


def find_run(conn: sqlite3.Connection, run_id: str, now: float) -> JobRun | None:
    """The run, unless it expired by `now`."""
    row = conn.execute(
        f"SELECT doc FROM runs WHERE run_id = ? AND ({VISIBLE})",  # noqa: S608 - our SQL
        (run_id, now),
    ).fetchone()
    return load(JobRun, row["doc"]) if row else None


class SqliteRunStore:
    def __init__(
        self, db: Database, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def put(self, run: JobRun) -> None:
        with self.db.write("put_run") as conn:
            put_run(conn, run, self.settings)

    def get(self, run_id: str) -> JobRun:
        with self.db.read("get_run") as conn:
            run = find_run(conn, run_id, self.clock())
        if run is None:
            raise NotFoundError(f"no run {run_id!r}")
        return run

    def keep_outputs(
        self, run_id: str, log_path: str | None, artifacts: list[str], usage: Usage | None = None
    ) -> bool:
        with self.db.write("keep_outputs") as conn:
            run = find_run(conn, run_id, self.clock())
            if run is None or run.status == RunStatus.STARTED or run.log_path is not None:
                return False
            counted = usage if run.usage is None else None  # a run's usage is counted once
            kept = changed(run, log_path=log_path, artifacts=artifacts, usage=run.usage or usage)
            put_run(conn, kept, self.settings)
            if counted is not None:
                ended_at = run.finished_at or run.started_at
                add_usage(conn, counted, run.template_id, run.schedule_id, ended_at)
                # Its end settled its budgets with no usage: what it used counts now.
                settle(conn, [hold.counter for hold in run.budget_holds], counted, charged=0)
        return True

    def usage_sums(self, scope: str, since: datetime, until: datetime) -> dict[str, UsageTotals]:
        with self.db.read("usage_sums") as conn:
            return usage_sums(conn, scope, hour_of(since), hour_of(until))

    def list_page(self, filters: RunFilter, limit: int, cursor: str | None) -> Page[JobRun]:
        # Most selective first, as the DynamoDB twin picks its index (pages.list_name).
        equals = {
            "job_id": filters.job_id,
            "schedule_id": filters.schedule_id,
            "status": filters.status.value if filters.status else None,
            "template_id": filters.template_id,
        }
        with self.db.read("list_runs") as conn:
            docs, next_cursor = newest_first(
                conn,
                RUNS,
                equals,
                limit,
                cursor,
                since=sort_time(filters.since) if filters.since else None,
                until=sort_time(filters.until) if filters.until else None,
                condition=VISIBLE,
                condition_params=[self.clock()],
            )
        return Page([load(JobRun, doc) for doc in docs], next_cursor)

    def count(self, status: RunStatus) -> int:
        with self.db.read("count_runs") as conn:
            row = conn.execute(
                f"SELECT count(*) FROM runs WHERE status = ? AND ({VISIBLE})",  # noqa: S608
                (status.value, self.clock()),
            ).fetchone()
        return int(row[0])

    def purge_expired(self, now: float) -> int:
        """Delete the runs expired by `now` (what DynamoDB's TTL does); returns how many."""
        with self.db.write("purge_runs") as conn:
            cursor = conn.execute(
                "DELETE FROM runs WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
            )
        return cursor.rowcount
