"""Concurrency keys' counters: one `key_holders` row per (counter, run id) holding it, as
DynamoDB's counter item holds a set of run ids (dynamodb/dispatch.py). Applied inside the
dispatch transaction (steps.py), so the count and the insert see no other writer."""

import sqlite3

from jobsched.models import steps as s


def acquire_keys(conn: sqlite3.Connection, step: s.AcquireKeys) -> bool:
    for key in step.keys:
        holders = conn.execute(
            "SELECT count(*) FROM key_holders WHERE counter = ?", (key.counter,)
        ).fetchone()[0]
        if holders >= key.limit:
            return False
        conn.execute(
            "INSERT OR IGNORE INTO key_holders (counter, run_id) VALUES (?, ?)",
            (key.counter, step.run_id),
        )
    return True


def release_keys(conn: sqlite3.Connection, step: s.ReleaseKeys) -> bool:
    conn.executemany(
        "DELETE FROM key_holders WHERE counter = ? AND run_id = ?",
        [(counter, step.run_id) for counter in step.counters],
    )
    return True  # idempotent by run id: a release retried frees nothing twice


def holders(conn: sqlite3.Connection, counter: str) -> list[str]:
    rows = conn.execute(
        "SELECT run_id FROM key_holders WHERE counter = ? ORDER BY run_id", (counter,)
    ).fetchall()
    return [row[0] for row in rows]
