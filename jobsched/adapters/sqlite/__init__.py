"""The SQLite adapters: the embedded default's implementation of the store ports, one database
file in the data dir (db.py says how it is opened and why)."""

from pathlib import Path

from jobsched.adapters.sqlite.content import SqliteContentStore
from jobsched.adapters.sqlite.db import DB_FILE, Database
from jobsched.adapters.sqlite.dispatch import SqliteDispatchStore
from jobsched.adapters.sqlite.groups import SqliteGroupStore
from jobsched.adapters.sqlite.jobs import SqliteJobStore
from jobsched.adapters.sqlite.keys import SqliteKeyStore
from jobsched.adapters.sqlite.queue import SqliteQueueStore
from jobsched.adapters.sqlite.runs import SqliteRunStore
from jobsched.adapters.sqlite.schedules import SqliteScheduleStore
from jobsched.adapters.sqlite.schema import create_schema
from jobsched.adapters.sqlite.templates import SqliteTemplateStore
from jobsched.ports import Stores
from jobsched.settings import Settings


def open_database(data_dir: Path | str, settings: Settings) -> Database:
    """The data dir's database, its schema created or checked."""
    db = Database(Path(data_dir) / DB_FILE)
    create_schema(db)
    return db


def build_stores(settings: Settings, db: Database) -> Stores:
    templates = SqliteTemplateStore(db)
    return Stores(
        templates=templates,
        jobs=SqliteJobStore(db),
        queue=SqliteQueueStore(db),
        runs=SqliteRunStore(db, settings),
        groups=SqliteGroupStore(db),
        keys=SqliteKeyStore(db),
        dispatch=SqliteDispatchStore(db, settings),
        schedules=SqliteScheduleStore(db),
        content=SqliteContentStore(db),
    )


__all__ = ["Database", "build_stores", "open_database"]
