"""Schedule records (dynamodb/schedules.py's SQLite twin).

Writes are conditional on the record's `version`, checked inside their transaction. A fire's
`last_run` and `fired_through` are the exception, as there: `record_fire` and
`advance_fired_through` set them whatever the version, and the version-guarded writes keep the
stored ones, so a fire and a PATCH do not collide. The `pending`
column marks the records that carry a pending sync (what drift repair reads).
"""

import sqlite3
from datetime import datetime

from jobsched.adapters.sqlite.codec import dump, load, sort_time
from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.sqlite.jobs import claim_key
from jobsched.adapters.sqlite.jobs import release_key as release_idempotency
from jobsched.adapters.sqlite.pages import Listing, newest_first
from jobsched.errors import ConflictError, NotFoundError
from jobsched.models import LastRun, Schedule
from jobsched.models.idempotency import IdempotencyClaim
from jobsched.ports import Page

SCHEDULES = Listing(table="schedules", id_column="schedule_id", sort_column="created_key")


def put_schedule(conn: sqlite3.Connection, schedule: Schedule) -> None:
    """The one writer of the schedules table's columns."""
    conn.execute(
        "INSERT OR REPLACE INTO schedules "
        "(schedule_id, template_id, version, pending, created_key, doc) VALUES (?, ?, ?, ?, ?, ?)",
        (
            schedule.schedule_id,
            schedule.template_id,
            schedule.version,
            int(schedule.pending_sync is not None),
            sort_time(schedule.created_at),
            dump(schedule),
        ),
    )


def find_schedule(conn: sqlite3.Connection, schedule_id: str) -> Schedule | None:
    row = conn.execute("SELECT doc FROM schedules WHERE schedule_id = ?", (schedule_id,)).fetchone()
    return load(Schedule, row["doc"]) if row else None


def _versioned(conn: sqlite3.Connection, schedule_id: str, version: int) -> Schedule:
    """The record, if it is still `version`: else gone (404) or changed meanwhile (409)."""
    current = find_schedule(conn, schedule_id)
    if current is None:
        raise NotFoundError(f"no schedule {schedule_id!r}")
    if current.version != version:
        raise ConflictError(f"schedule {schedule_id!r} changed meanwhile; read it again")
    return current


class SqliteScheduleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, schedule: Schedule, idempotency: IdempotencyClaim | None = None) -> None:
        with self.db.write("create_schedule") as conn:
            if find_schedule(conn, schedule.schedule_id) is not None:
                raise ConflictError(f"schedule {schedule.schedule_id!r} already exists")
            if idempotency:
                claim_key(conn, idempotency)
            put_schedule(conn, schedule)

    def find(self, schedule_id: str) -> Schedule | None:
        with self.db.read("get_schedule") as conn:
            return find_schedule(conn, schedule_id)

    def get(self, schedule_id: str) -> Schedule:
        schedule = self.find(schedule_id)
        if schedule is None:
            raise NotFoundError(f"no schedule {schedule_id!r}")
        return schedule

    def list_page(self, template_id: str | None, limit: int, cursor: str | None) -> Page[Schedule]:
        with self.db.read("list_schedules") as conn:
            docs, next_cursor = newest_first(
                conn, SCHEDULES, {"template_id": template_id}, limit, cursor
            )
        return Page([load(Schedule, doc) for doc in docs], next_cursor)

    def replace(self, schedule: Schedule, expected_version: int) -> None:
        with self.db.write("replace_schedule") as conn:
            current = _versioned(conn, schedule.schedule_id, expected_version)
            kept = {"last_run": current.last_run, "fired_through": current.fired_through}
            put_schedule(conn, schedule.model_copy(update=kept))

    def clear_pending(self, schedule_id: str, version: int) -> bool:
        with self.db.write("clear_pending") as conn:
            try:
                current = _versioned(conn, schedule_id, version)
            except (ConflictError, NotFoundError):
                return False
            put_schedule(conn, current.model_copy(update={"pending_sync": None}))
        return True

    def delete(
        self, schedule_id: str, expected_version: int, release_key: str | None = None
    ) -> None:
        with self.db.write("delete_schedule") as conn:
            _versioned(conn, schedule_id, expected_version)
            conn.execute("DELETE FROM schedules WHERE schedule_id = ?", (schedule_id,))
            if release_key is not None:
                release_idempotency(conn, release_key)

    def record_fire(self, schedule_id: str, last_run: LastRun) -> None:
        with self.db.write("record_fire") as conn:
            current = find_schedule(conn, schedule_id)
            if current is None:
                return  # deleted meanwhile: there is no record to show it on
            put_schedule(conn, current.model_copy(update={"last_run": last_run}))

    def advance_fired_through(self, schedule_id: str, through: datetime) -> None:
        with self.db.write("advance_fired_through") as conn:
            current = find_schedule(conn, schedule_id)
            if current is None:
                return  # deleted meanwhile
            if current.fired_through is not None and current.fired_through >= through:
                return
            put_schedule(conn, current.model_copy(update={"fired_through": through}))

    def pending(self) -> list[Schedule]:
        """Oldest first, as the DynamoDB twin reads its by_kind index."""
        with self.db.read("pending_schedules") as conn:
            rows = conn.execute(
                "SELECT doc FROM schedules WHERE pending = 1 ORDER BY created_key, schedule_id"
            ).fetchall()
        return [load(Schedule, row["doc"]) for row in rows]
