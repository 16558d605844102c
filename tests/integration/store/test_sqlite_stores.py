"""What the SQLite stores add to the ports, and the few behaviours whose DynamoDB twin comes from
the service itself: run retention (expires_at, hidden once expired, purge_expired), the schema's
version, cursors refused by every list but theirs, and DynamoDB's item size limit on content.

The tests that take `stores` run on both backends, so the two are held equal."""

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from jobsched.adapters.dynamodb.runs import run_expiry as dynamodb_run_expiry
from jobsched.adapters.sqlite import db as db_module
from jobsched.adapters.sqlite.db import DB_FILE, Database
from jobsched.adapters.sqlite.runs import SqliteRunStore
from jobsched.adapters.sqlite.schema import VERSION, SchemaError, create_schema
from jobsched.content.similarity import sketch
from jobsched.errors import NotFoundError, ValidationFailedError
from jobsched.ids import new_id
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.models import JobGroup, JobRun, RunStatus, Schedule, utcnow
from jobsched.models.content import SourceKind, StoredStory
from jobsched.ports import NewJobs, Page, RunFilter, Stores
from jobsched.settings import Settings
from tests.support.content_samples import story_data

DAYS = 30


# --- run retention ---------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def expires_at(db: Database, run_id: str) -> int | None:
    with db.read() as conn:
        row = conn.execute("SELECT expires_at FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return None if row["expires_at"] is None else int(row["expires_at"])


def ended_run(run_id: str, status: RunStatus = RunStatus.COMPLETED) -> JobRun:
    return JobRun(
        run_id=run_id,
        job_id=f"job_{run_id}",
        template_id="echo",
        status=status,
        finished_at=utcnow(),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(utcnow().timestamp())


@pytest.fixture
def retained(settings: Settings, sqlite_db: Database, clock: Clock) -> SqliteRunStore:
    keeping = settings.model_copy(update={"run_retention_days": DAYS})
    return SqliteRunStore(sqlite_db, keeping, clock=clock)


def test_an_ended_run_expires_as_on_dynamodb_and_a_running_one_never(
    retained: SqliteRunStore, sqlite_db: Database
) -> None:
    done = ended_run("run_done")
    retained.put(done)
    retained.put(JobRun(run_id="run_live", job_id="job_live", template_id="echo"))

    assert done.finished_at is not None
    assert expires_at(sqlite_db, "run_done") == dynamodb_run_expiry(
        retained.settings, done.finished_at
    )
    assert expires_at(sqlite_db, "run_done") == int(
        (done.finished_at + timedelta(days=DAYS)).timestamp()
    )
    assert expires_at(sqlite_db, "run_live") is None


def test_without_a_retention_no_run_expires(settings: Settings, sqlite_db: Database) -> None:
    SqliteRunStore(sqlite_db, settings).put(ended_run("run_done", RunStatus.FAILED))

    assert expires_at(sqlite_db, "run_done") is None


def test_an_expired_run_is_hidden_at_once_and_purged(
    retained: SqliteRunStore, sqlite_db: Database, clock: Clock
) -> None:
    for run_id in ("run_a", "run_b"):
        retained.put(ended_run(run_id))
    retained.put(JobRun(run_id="run_live", job_id="job_live", template_id="echo"))
    everything = RunFilter()
    assert len(retained.list_page(everything, 10, None).items) == 3
    assert retained.count(RunStatus.COMPLETED) == 2

    clock.now += (DAYS + 1) * 86_400

    with pytest.raises(NotFoundError):
        retained.get("run_a")
    assert [run.run_id for run in retained.list_page(everything, 10, None).items] == ["run_live"]
    assert retained.list_page(RunFilter(status=RunStatus.COMPLETED), 10, None).items == []
    assert retained.count(RunStatus.COMPLETED) == 0

    assert retained.purge_expired(clock.now) == 2
    assert retained.purge_expired(clock.now) == 0
    with sqlite_db.read() as conn:
        rows = conn.execute("SELECT run_id FROM runs").fetchall()
    assert [row["run_id"] for row in rows] == ["run_live"]


def test_purge_keeps_what_has_not_expired_yet(retained: SqliteRunStore, clock: Clock) -> None:
    retained.put(ended_run("run_a"))

    assert retained.purge_expired(clock.now + (DAYS - 1) * 86_400) == 0
    assert retained.get("run_a").run_id == "run_a"


# --- the schema ------------------------------------------------------------------------------


def test_creating_the_schema_again_changes_nothing(sqlite_db: Database) -> None:
    create_schema(sqlite_db)

    with sqlite_db.read() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION


def test_this_processs_writers_wait_their_turn_and_never_see_the_database_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no busy timeout at all, concurrent writers of one process still all commit: they
    queue on the process's own lock, not in SQLite's busy handler (whose sleeps made tails)."""
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 0)
    db = Database(tmp_path / DB_FILE)
    with db.write() as conn:
        conn.execute("CREATE TABLE beats (n INTEGER)")
    failures: list[BaseException] = []

    def write_many() -> None:
        try:
            for n in range(50):
                with db.write() as conn:
                    conn.execute("INSERT INTO beats VALUES (?)", (n,))
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=write_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.close()

    assert failures == []
    with Database(tmp_path / DB_FILE).read() as conn:
        assert conn.execute("SELECT count(*) FROM beats").fetchone()[0] == 8 * 50


def test_a_version_1_file_gains_the_concurrency_keys_table(sqlite_db: Database) -> None:
    """A database written before concurrency keys (version 1) keeps its rows and is brought to
    the current version when opened."""
    with sqlite_db.write() as conn:
        conn.execute("DROP TABLE key_holders")
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO queue_state (id, doc) VALUES (1, '{\"paused\": true}')")

    create_schema(sqlite_db)
    with sqlite_db.read() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
        assert conn.execute("SELECT count(*) FROM key_holders").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM queue_state").fetchone()[0] == 1


def test_a_version_2_file_gains_the_lineage_column(sqlite_db: Database) -> None:
    """A database written before reruns (version 2) keeps its jobs, gains `jobs.lineage_root`
    (null for them) and its index, and can record a rerun's lineage."""
    with sqlite_db.write() as conn:
        conn.execute("DROP INDEX jobs_by_lineage")
        conn.execute("ALTER TABLE jobs DROP COLUMN lineage_root")
        conn.execute("PRAGMA user_version = 2")
        conn.execute(
            "INSERT INTO jobs (job_id, status, template_id, created_key, doc) "
            "VALUES ('job-old', 'queued', 'tpl', '0', '{}')"
        )

    create_schema(sqlite_db)
    with sqlite_db.read() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
        assert [tuple(r) for r in conn.execute("SELECT lineage_root FROM jobs")] == [(None,)]
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(jobs)")}
        assert "jobs_by_lineage" in indexes


def test_a_file_of_a_newer_schema_is_refused_and_left_alone(sqlite_db: Database) -> None:
    with sqlite_db.write() as conn:
        conn.execute(f"PRAGMA user_version = {VERSION + 1}")

    with pytest.raises(SchemaError, match=f"schema version {VERSION + 1}"):
        create_schema(sqlite_db)
    with sqlite_db.read() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION + 1


# --- cursors ---------------------------------------------------------------------------------


def _fill(stores: Stores) -> None:
    """Two of everything each list shows, so every list has a next cursor at limit 1."""
    for n in range(2):
        create_template(
            stores, TemplateCreate(template_id=f"tpl-{n}", name=f"T{n}", workload="echo")
        )
        stores.jobs.insert(NewJobs(jobs=[], templates={}, group=JobGroup(group_id=new_id("grp"))))
        stores.runs.put(JobRun(run_id=new_id("run"), job_id="job_1", template_id="tpl-0"))
        stores.schedules.create(
            Schedule(
                schedule_id=new_id("sch"),
                name=f"S{n}",
                template_id="tpl-0",
                expression="rate(1 hour)",
            )
        )
        data = story_data(f"s{n}")
        stores.content.put_story(
            StoredStory.model_validate(
                {**data, "source_kind": SourceKind.RUN, "source_id": "run_1"}
            )
        )


ListReader = Callable[[Stores, str | None], Page[Any]]
LISTS: dict[str, ListReader] = {
    "templates": lambda stores, cursor: stores.templates.list_page(1, cursor),
    "groups": lambda stores, cursor: stores.groups.list_page(1, cursor),
    "runs": lambda stores, cursor: stores.runs.list_page(RunFilter(), 1, cursor),
    "runs of a job": lambda stores, cursor: stores.runs.list_page(
        RunFilter(job_id="job_1"), 1, cursor
    ),
    "schedules": lambda stores, cursor: stores.schedules.list_page(None, 1, cursor),
    "stories": lambda stores, cursor: stores.content.list_stories(1, cursor),
}


def test_a_cursor_is_followed_by_its_own_list_and_refused_by_every_other(stores: Stores) -> None:
    _fill(stores)
    cursors = {}
    for name, read in LISTS.items():
        first = read(stores, None)
        assert first.next_cursor is not None, name
        second = read(stores, first.next_cursor)
        assert len(second.items) == 1, name
        assert second.items != first.items, name
        cursors[name] = first.next_cursor

    for name, read in LISTS.items():
        for other, cursor in cursors.items():
            if other != name:
                with pytest.raises(ValidationFailedError, match="cursor"):
                    read(stores, cursor)


# --- content size ----------------------------------------------------------------------------


def stored_story(seed: str, **fields: object) -> StoredStory:
    data = story_data(seed)
    return StoredStory.model_validate(
        {
            **data,
            "source_kind": SourceKind.RUN,
            "source_id": "run_1",
            "sketch": sketch(data["title"] + "\n" + data["text"]),
            **fields,
        }
    )


def test_a_story_within_dynamodbs_item_size_is_stored(stores: Stores) -> None:
    story = stored_story("big", text="word " * 19_999 + "end")  # 100,000 ASCII characters

    assert stores.content.put_story(story) is True
    assert stores.content.get_story(story.story_id) == story


def test_an_item_dynamodb_would_refuse_for_its_size_is_refused(stores: Stores) -> None:
    # job_id has no limit of its own: only the item size stops it
    huge = stored_story("huge", job_id="j" * 410_000)
    with pytest.raises(ValidationFailedError, match="too large to store"):
        stores.content.put_story(huge)
    with pytest.raises(NotFoundError):
        stores.content.get_story(huge.story_id)

    # source_id is the partition key of an index: DynamoDB takes 2048 bytes
    long_source = stored_story("source", source_id="r" * 2049)
    with pytest.raises(ValidationFailedError, match="too large to store"):
        stores.content.put_story(long_source)
    assert stores.content.by_source("r" * 2049) == []


def test_the_size_is_checked_before_the_id_is(stores: Stores) -> None:
    stores.content.put_story(stored_story("same"))

    with pytest.raises(ValidationFailedError, match="too large to store"):
        stores.content.put_story(stored_story("same", job_id="j" * 410_000))


def test_a_version_3_file_gains_the_usage_ledger(sqlite_db: Database) -> None:
    """A database written before usage was counted (version 3) gains the `usage` table."""
    with sqlite_db.write() as conn:
        conn.execute("DROP TABLE usage")
        conn.execute("PRAGMA user_version = 3")

    create_schema(sqlite_db)
    with sqlite_db.read() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == VERSION
        columns = [row[1] for row in conn.execute("PRAGMA table_info(usage)")]
    assert columns[:3] == ["scope", "hour", "scope_id"]
