"""The tables. Each holds its entity as JSON in `doc`; the other columns are derived from the
entity by the adapter on every write (keys, what lists are sorted and filtered by, what
conditions test) and indexed where a read needs them, so no read scans a table.

`user_version` records the schema's version; a newer file is refused rather than misread.
A file of an older version is brought up to date by running the DDL again (every statement is
IF NOT EXISTS; `_add_held` and `_add_lineage` add the columns): version 2 added `queue.held`
and `key_holders`, version 3 `jobs.lineage_root`, version 4 the `usage` ledger, version 5
`budget_counters`.
"""

import sqlite3

from jobsched.adapters.sqlite.db import Database

# 2: queue.held and key_holders (issue 14); 3: jobs.lineage_root, 4: usage, 5: budget_counters
# (issue 17). An older file gains what it lacks on open.
VERSION = 5

DDL = """
CREATE TABLE IF NOT EXISTS templates (
    template_id TEXT PRIMARY KEY,
    created_key TEXT NOT NULL,
    doc TEXT NOT NULL
);

-- Every version of every template, as it was saved (never changed once written).
CREATE TABLE IF NOT EXISTS template_versions (
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (template_id, version)
);

CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    template_id TEXT NOT NULL,
    schedule_id TEXT,
    group_id TEXT,
    last_run_id TEXT,
    created_key TEXT NOT NULL,
    doc TEXT NOT NULL,
    lineage_root TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created_key, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_key, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_template ON jobs (template_id, created_key, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_schedule ON jobs (schedule_id, created_key, job_id);
CREATE INDEX IF NOT EXISTS jobs_by_group ON jobs (group_id, created_key, job_id);

-- A unit's place while it waits (a queued job, a pending reservation), in dispatch order.
-- held = 1: a held job, listed at its place (the dispatcher reads `queue_dispatch` only).
CREATE TABLE IF NOT EXISTS queue (
    unit_id TEXT PRIMARY KEY,
    rank TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL,
    held INTEGER NOT NULL DEFAULT 0
);

-- job_id: the id of what the key created (a job, group, reservation or schedule). The name is
-- kept from when only jobs took a key, so that older files need no migration.
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    job_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    job_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    schedule_id TEXT,
    started_key TEXT NOT NULL,
    expires_at INTEGER,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_started ON runs (started_key, run_id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, started_key, run_id);
CREATE INDEX IF NOT EXISTS runs_by_job ON runs (job_id, started_key, run_id);
CREATE INDEX IF NOT EXISTS runs_by_template ON runs (template_id, started_key, run_id);
CREATE INDEX IF NOT EXISTS runs_by_schedule ON runs (schedule_id, started_key, run_id);
CREATE INDEX IF NOT EXISTS runs_by_expiry ON runs (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS groups (
    group_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_key TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS groups_by_created ON groups (created_key, group_id);

CREATE TABLE IF NOT EXISTS schedules (
    schedule_id TEXT PRIMARY KEY,
    template_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0,
    created_key TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS schedules_by_created ON schedules (created_key, schedule_id);
CREATE INDEX IF NOT EXISTS schedules_by_template
    ON schedules (template_id, created_key, schedule_id);
CREATE INDEX IF NOT EXISTS schedules_pending ON schedules (pending) WHERE pending = 1;

CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);

-- Dispatch: one row per slot that was ever taken, the pause flag, and reservations.
CREATE TABLE IF NOT EXISTS slots (
    slot TEXT PRIMARY KEY,
    holder TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    doc TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS queue_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    doc TEXT NOT NULL
);

-- Concurrency keys: the runs holding a place under each key value (adapters/sqlite/concurrency.py).
CREATE TABLE IF NOT EXISTS key_holders (
    counter TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (counter, run_id)
);

CREATE TABLE IF NOT EXISTS reservations (
    reservation_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    doc TEXT NOT NULL
);

-- The usage ledger: runs' model usage added up per template and per schedule, by the UTC hour
-- each run ended in (jobsched/models/usage.py), written in the same transaction as the run.
CREATE TABLE IF NOT EXISTS usage (
    scope TEXT NOT NULL,
    hour TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    runs INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_micro_usd INTEGER NOT NULL DEFAULT 0,
    unpriced_calls INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, hour, scope_id)
);

-- Budgets: one counter per budget period, what its runs committed (adapters/sqlite/budgets.py).
CREATE TABLE IF NOT EXISTS budget_counters (
    counter TEXT PRIMARY KEY,
    tokens INTEGER NOT NULL DEFAULT 0,
    micro_usd INTEGER NOT NULL DEFAULT 0
);

-- Content: stories and research cards, with the sketches dedup compares against.
CREATE TABLE IF NOT EXISTS content (
    content_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    topic TEXT,
    source_id TEXT,
    created_key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, content_id)
);
CREATE INDEX IF NOT EXISTS content_by_created ON content (kind, created_key, content_id);
CREATE INDEX IF NOT EXISTS content_by_topic ON content (kind, topic, created_key, content_id);
CREATE INDEX IF NOT EXISTS content_by_source ON content (source_id, created_key, content_id);
"""


class SchemaError(Exception):
    """The file was written by a newer version of jobsched."""


def create_schema(db: Database) -> None:
    """Create what is missing (idempotent)."""
    with db.write("schema") as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise SchemaError(
                f"{db.path} has schema version {version}; this jobsched knows {VERSION} at most"
            )
        for statement in DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
        _add_held(conn)
        _add_lineage(conn)
        conn.execute(f"PRAGMA user_version = {VERSION}")


def _add_held(conn: sqlite3.Connection) -> None:
    """Version 2: the queue's held flag, and the index of what can be dispatched, which holds
    no held row, so the dispatcher's read costs the rows it returns however many are held."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(queue)")}
    if "held" not in columns:
        conn.execute("ALTER TABLE queue ADD COLUMN held INTEGER NOT NULL DEFAULT 0")
    conn.execute("CREATE INDEX IF NOT EXISTS queue_dispatch ON queue (rank) WHERE held = 0")


def _add_lineage(conn: sqlite3.Connection) -> None:
    """Version 3: the first job of a rerun's chain, indexed for GET /jobs/{id}/lineage. Null
    for every job that is not a rerun, so an older file's rows need no backfill."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
    if "lineage_root" not in columns:
        conn.execute("ALTER TABLE jobs ADD COLUMN lineage_root TEXT")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS jobs_by_lineage ON jobs (lineage_root, created_key, job_id) "
        "WHERE lineage_root IS NOT NULL"
    )


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in names}  # noqa: S608 - names from the schema
