"""Jobs, their places in the queue, and Idempotency-Key records (dynamodb/jobs.py's SQLite twin).

A queued job has a row in `queue` (its rank and the QueueEntry the dispatcher reads) beside its
row in `jobs`; pending reservations share `queue`, ahead of every job (ranks.py). Every write
is one `db.write()` transaction, so each condition is checked under the write lock.
"""

import sqlite3
import time
from typing import Any, TypeVar

from pydantic import BaseModel

from jobsched import constants as c
from jobsched.adapters.sqlite.codec import dump, load, sort_time
from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.sqlite.groups import find_group, put_group
from jobsched.adapters.sqlite.pages import Listing, newest_first
from jobsched.adapters.sqlite.templates import find_template
from jobsched.errors import (
    ConflictError,
    IdempotencyKeyTakenError,
    NotFoundError,
    TemplateChangedError,
)
from jobsched.models import GroupStatus, Hold, Job, JobStatus, QueueEntry, utcnow
from jobsched.ports import IdempotencyClaim, IdempotencyRecord, JobFilter, NewJobs, Page
from jobsched.ranks import QueueRank
from jobsched.transitions import hold_conflict

M = TypeVar("M", bound=BaseModel)
JOBS = Listing(table="jobs", id_column="job_id", sort_column="created_key")


def changed(model: M, **changes: Any) -> M:
    """A validated copy with `changes` (model_copy would not validate them)."""
    return type(model).model_validate(model.model_dump() | changes)


# --- rows: the one writer of each table's columns ------------------------------------------------


def put_job(conn: sqlite3.Connection, job: Job) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO jobs (job_id, status, template_id, schedule_id, group_id, "
        "last_run_id, lineage_root, created_key, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            job.job_id,
            job.status.value,
            job.template_id,
            job.schedule_id,
            job.group_id,
            job.last_run_id,
            job.lineage_root,
            sort_time(job.created_at),
            dump(job),
        ),
    )


def put_entry(conn: sqlite3.Connection, entry: QueueEntry) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO queue (unit_id, rank, doc, held) VALUES (?, ?, ?, ?)",
        (entry.job_id, entry.rank, dump(entry), int(entry.hold is not None)),
    )


def record_key(conn: sqlite3.Connection, claim: IdempotencyClaim) -> bool:
    """Record the Idempotency-Key `claim` (the `job_id` column holds the id of whatever it
    created); False, with nothing written, while the key has a live record. An expired record
    is absent (find_idempotency), as DynamoDB's TTL would delete it."""
    now = int(time.time())
    taken = conn.execute(
        "SELECT 1 FROM idempotency WHERE key = ? AND expires_at > ?", (claim.key, now)
    ).fetchone()
    if taken:
        return False
    conn.execute(
        "INSERT OR REPLACE INTO idempotency (key, request_hash, job_id, expires_at) "
        "VALUES (?, ?, ?, ?)",
        (claim.key, claim.request_hash, claim.resource_id, now + c.IDEMPOTENCY_TTL_SECONDS),
    )
    return True


def claim_key(conn: sqlite3.Connection, claim: IdempotencyClaim) -> None:
    if not record_key(conn, claim):
        raise IdempotencyKeyTakenError("the Idempotency-Key was used already")


def release_key(conn: sqlite3.Connection, key: str) -> None:
    conn.execute("DELETE FROM idempotency WHERE key = ?", (key,))


# --- reads inside a transaction --------------------------------------------------------------


def find_job(conn: sqlite3.Connection, job_id: str) -> Job | None:
    row = conn.execute("SELECT doc FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    return load(Job, row["doc"]) if row else None


def find_entry(conn: sqlite3.Connection, unit_id: str) -> QueueEntry | None:
    row = conn.execute("SELECT doc FROM queue WHERE unit_id = ?", (unit_id,)).fetchone()
    return load(QueueEntry, row["doc"]) if row else None


def leave_queue(conn: sqlite3.Connection, unit_id: str) -> bool:
    """Remove the unit's queue place; False when it had none (cancelled, or claimed)."""
    return conn.execute("DELETE FROM queue WHERE unit_id = ?", (unit_id,)).rowcount == 1


def _template_unchanged(conn: sqlite3.Connection, template_id: str, version: int) -> bool:
    """dynamodb/templates.py unchanged_check: the version read, and it takes new jobs."""
    template = find_template(conn, template_id)
    return template is not None and not template.archived and template.version == version


WAITING = frozenset({JobStatus.QUEUED, JobStatus.HELD})  # what has a queue place


class SqliteJobStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, job_id: str) -> Job:
        with self.db.read("get_job") as conn:
            job = find_job(conn, job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id!r}")
        return job

    def list_page(self, filters: JobFilter, limit: int, cursor: str | None) -> Page[Job]:
        # Most selective first, as the DynamoDB twin picks its index (pages.list_name).
        equals = {
            "status": filters.status.value if filters.status else None,
            "group_id": filters.group_id,
            "schedule_id": filters.schedule_id,
            "template_id": filters.template_id,
        }
        with self.db.read("list_jobs") as conn:
            docs, next_cursor = newest_first(conn, JOBS, equals, limit, cursor)
        return Page([load(Job, doc) for doc in docs], next_cursor)

    def insert(self, new: NewJobs) -> None:
        """Write jobs and their queue places at once, only if every template takes new jobs.
        The checks run in the DynamoDB transaction's item order, so the same error wins."""
        with self.db.write("insert_jobs") as conn:
            for template_id, version in sorted(new.templates.items()):
                if not _template_unchanged(conn, template_id, version):
                    raise TemplateChangedError("the template was archived or changed meanwhile")
            if new.idempotency:
                claim_key(conn, new.idempotency)
            if new.group:
                if find_group(conn, new.group.group_id) is not None:
                    raise ConflictError("the jobs could not be written; retry")
                put_group(conn, new.group)
            if new.join_group:
                self._join_group(conn, new)
            for job in new.jobs:
                assert job.rank is not None, "a new job needs its queue rank"
                put_job(conn, job)
                put_entry(conn, QueueEntry.of_job(job, QueueRank.parse(job.rank)))

    @staticmethod
    def _join_group(conn: sqlite3.Connection, new: NewJobs) -> None:
        assert new.join_group is not None
        group = find_group(conn, new.join_group)
        # The size read is the joining job's index: no other job took it.
        if (
            group is None
            or group.status != GroupStatus.QUEUED
            or len(group.job_ids) != (new.group_size or 0)
        ):
            raise ConflictError(
                f"group {new.join_group!r} has started or ended; it takes no new jobs"
            )
        put_group(conn, changed(group, job_ids=[*group.job_ids, *(j.job_id for j in new.jobs)]))

    def cancel(self, job_id: str) -> Job:
        """QUEUED -> CANCELLED in one transaction with the removal of its queue place; the
        status check under the write lock makes this race safely with a claim."""
        now = utcnow()
        with self.db.write("cancel_job") as conn:
            job = find_job(conn, job_id)
            if job is None:
                raise NotFoundError(f"no job {job_id!r}")
            if job.status not in WAITING:
                raise ConflictError(
                    f"job {job_id!r} is {job.status.value}; only a queued job can be cancelled"
                )
            if not leave_queue(conn, job_id):
                # DynamoDB's delete of the missing place fails with no old item: "not found".
                raise NotFoundError(f"no job {job_id!r}")
            cancelled = changed(
                job,
                status=JobStatus.CANCELLED,
                updated_at=now,
                finished_at=now,
                rank=None,
                hold=None,
            )
            put_job(conn, cancelled)
        return cancelled

    def rerank(self, ranks: list[QueueRank]) -> None:
        """Give jobs new queue ranks: two small writes a job, whatever the queue length."""
        now = utcnow()
        with self.db.write("rerank") as conn:
            for rank in ranks:
                entry = find_entry(conn, rank.job_id)
                job = find_job(conn, rank.job_id)
                if entry is None or job is None or job.status not in WAITING:
                    raise ConflictError(
                        "a job left the queue meanwhile (it started or was cancelled)"
                    )
                put_entry(conn, changed(entry, rank=rank.key, priority=rank.priority))
                put_job(conn, changed(job, rank=rank.key, priority=rank.priority, updated_at=now))

    def hold(self, job_id: str, hold: Hold) -> Job:
        """QUEUED -> HELD: the job keeps its queue row (its place) with the row's held flag set,
        in one transaction, so it races a claim safely (the claim needs QUEUED)."""
        return self._set_hold(job_id, JobStatus.QUEUED, hold)

    def release(self, job_id: str) -> Job:
        """HELD -> QUEUED at the place it kept."""
        return self._set_hold(job_id, JobStatus.HELD, None)

    def _set_hold(self, job_id: str, expected: JobStatus, hold: Hold | None) -> Job:
        target = JobStatus.HELD if hold else JobStatus.QUEUED
        with self.db.write("hold_job" if hold else "release_job") as conn:
            job = find_job(conn, job_id)
            if job is None:
                raise NotFoundError(f"no job {job_id!r}")
            if job.status != expected:
                raise hold_conflict(job_id, job.status, hold is not None)
            entry = find_entry(conn, job_id)
            if entry is None:  # as DynamoDB's read of the missing place: "not found"
                raise NotFoundError(f"no job {job_id!r}")
            put_entry(conn, changed(entry, hold=hold))
            updated = changed(job, status=target, hold=hold, updated_at=utcnow())
            put_job(conn, updated)
        return updated

    def count(self, status: JobStatus) -> int:
        with self.db.read("count_jobs") as conn:
            row = conn.execute("SELECT count(*) FROM jobs WHERE status = ?", (status.value,))
            return int(row.fetchone()[0])

    def lineage(self, root_id: str, limit: int) -> list[Job]:
        with self.db.read("lineage") as conn:
            rows = conn.execute(
                "SELECT doc FROM jobs WHERE lineage_root = ? ORDER BY created_key, job_id LIMIT ?",
                (root_id, limit),
            ).fetchall()
        return [load(Job, row["doc"]) for row in rows]

    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        with self.db.read("find_idempotency") as conn:
            row = conn.execute(
                "SELECT request_hash, job_id FROM idempotency WHERE key = ? AND expires_at > ?",
                (key, int(time.time())),
            ).fetchone()
        return IdempotencyRecord(key, row["request_hash"], row["job_id"]) if row else None
