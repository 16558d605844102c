"""Job groups (dynamodb/groups.py's SQLite twin). Groups are created with their jobs, in the
jobs store's transaction (put_group)."""

import sqlite3
from collections.abc import Collection
from datetime import datetime

from jobsched import transitions
from jobsched.adapters.sqlite.codec import dump, load, sort_time
from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.sqlite.pages import Listing, newest_first
from jobsched.errors import NotFoundError
from jobsched.models import GroupStatus, Hold, JobGroup, WebhookResult
from jobsched.ports import Page

GROUPS = Listing(table="groups", id_column="group_id", sort_column="created_key")
# The statuses a group never leaves (transitions.GROUP allows no move from them).
ENDED: frozenset[GroupStatus] = frozenset(
    status for status, moves in transitions.GROUP.items() if not moves
)


def put_group(conn: sqlite3.Connection, group: JobGroup) -> None:
    """The one writer of the groups table's columns."""
    conn.execute(
        "INSERT OR REPLACE INTO groups (group_id, status, created_key, doc) VALUES (?, ?, ?, ?)",
        (group.group_id, group.status.value, sort_time(group.created_at), dump(group)),
    )


def find_group(conn: sqlite3.Connection, group_id: str) -> JobGroup | None:
    row = conn.execute("SELECT doc FROM groups WHERE group_id = ?", (group_id,)).fetchone()
    return load(JobGroup, row["doc"]) if row else None


class SqliteGroupStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, group_id: str) -> JobGroup:
        with self.db.read("get_group") as conn:
            group = find_group(conn, group_id)
        if group is None:
            raise NotFoundError(f"no group {group_id!r}")
        return group

    def list_page(self, limit: int, cursor: str | None) -> Page[JobGroup]:
        with self.db.read("list_groups") as conn:
            docs, next_cursor = newest_first(conn, GROUPS, {}, limit, cursor)
        return Page([load(JobGroup, doc) for doc in docs], next_cursor)

    def set_status(self, group: JobGroup) -> None:
        """Store the group's status and times; the group must exist."""
        with self.db.write("set_group_status") as conn:
            if find_group(conn, group.group_id) is None:
                raise NotFoundError(f"no group {group.group_id!r}")
            put_group(conn, group)

    def hold(self, group_id: str, hold: Hold, statuses: Collection[GroupStatus]) -> bool:
        """The write lock orders the mark and a StartGroup (which needs no mark)."""
        with self.db.write("hold_group") as conn:
            group = find_group(conn, group_id)
            if group is None or group.status not in statuses:
                return False
            put_group(conn, group.model_copy(update={"hold": hold}))
        return True

    def release(self, group_id: str) -> None:
        with self.db.write("release_group") as conn:
            group = find_group(conn, group_id)
            if group is not None and group.hold is not None:
                put_group(conn, group.model_copy(update={"hold": None}))

    def record_webhook(self, group_id: str, result: WebhookResult) -> None:
        with self.db.write("record_webhook") as conn:
            group = find_group(conn, group_id)
            if group is not None:
                put_group(conn, group.model_copy(update={"webhook": result}))

    def claim_notification(self, group_id: str, at: datetime) -> bool:
        """The first caller for an ended group sets `notified_at` and wins; every later one (and
        any caller for a group not ended, or missing) gets False. The write lock orders them."""
        with self.db.write("claim_notification") as conn:
            group = find_group(conn, group_id)
            if group is None or group.notified_at is not None or group.status not in ENDED:
                return False
            put_group(conn, group.model_copy(update={"notified_at": at}))
        return True
