"""An emulator data dir brought to the SQLite store, once: the runtime of earlier releases kept
its tables in `<data dir>/state.json` (DynamoDB JSON, local/snapshot.py). At the first start on
SQLite, the file's items are put into a private in-memory moto (no port), read back through the
DynamoDB adapter's own stores, written whole into the new database in one transaction, and the
file is renamed `state.json.imported` so it is never read again.

Runs that were running when the file was saved are imported as they were, started: the
restart's reconciliation (local/exec/adopt.py) then finds them lost and retries them as their
templates say.
"""

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from unittest import mock

from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.sqlite.load import Entities, put_entities
from jobsched.models import JobTemplate
from jobsched.ports import JobFilter, Page, RunFilter, Stores, every_item
from jobsched.settings import Settings
from local.snapshot import STATE_FILE, read_snapshot

logger = logging.getLogger(__name__)

IMPORTED_FILE = STATE_FILE + ".imported"
PAGE = 500
ENDPOINT_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "JOBSCHED_AWS_ENDPOINT_URL")
T = TypeVar("T")


def import_snapshot(data_dir: Path, db: Database, settings: Settings) -> int:
    """Import `<data dir>/state.json` into an empty database; returns the records written (0
    when there is no file). A database that holds data already is never overwritten: the file
    is then only renamed (an import that committed just before a crash)."""
    path = data_dir / STATE_FILE
    if not path.is_file():
        return 0
    with db.read() as conn:
        empty = conn.execute("SELECT count(*) FROM templates").fetchone()[0] == 0
    count = 0
    if empty:
        tables = read_snapshot(path)  # SnapshotError says how to start afresh
        if tables:
            with _private_tables(tables) as source:
                count = put_entities(db, settings, read_entities(source))
    else:
        logger.warning("%s holds data already: %s was not imported", db.path, path)
    path.rename(data_dir / IMPORTED_FILE)
    return count


@contextmanager
def _private_tables(tables: dict[str, list[dict[str, object]]]) -> Iterator[Stores]:
    """The saved items in moto's DynamoDB inside this process, and stores over them."""
    from moto import mock_aws

    from jobsched.adapters.dynamodb import Dynamo, build_stores
    from jobsched.adapters.dynamodb.dump import put_tables
    from jobsched.adapters.dynamodb.tables import create_tables

    with mock.patch.dict(os.environ), mock_aws():  # the environment is put back after
        for name in ENDPOINT_VARS:  # or boto3 would leave moto for that endpoint
            os.environ.pop(name, None)
        settings = Settings(aws_endpoint_url=None, table_prefix="import")
        dynamo = Dynamo(settings)
        create_tables(dynamo)
        put_tables(dynamo, tables)
        yield build_stores(settings, dynamo)


def read_entities(stores: Stores) -> Entities:
    """Everything the stores hold, read through their own ports."""
    pending = stores.queue.reservations()
    templates = _all(stores.templates.list_page)
    return Entities(
        templates=templates,
        template_versions=[v for t in templates for v in _versions(stores, t.template_id)],
        keys=stores.keys.list_all(),
        schedules=_all(lambda limit, cursor: stores.schedules.list_page(None, limit, cursor)),
        jobs=_all(lambda limit, cursor: stores.jobs.list_page(JobFilter(), limit, cursor)),
        queue=[*pending, *stores.queue.entries()],
        runs=_all(lambda limit, cursor: stores.runs.list_page(RunFilter(), limit, cursor)),
        groups=_all(stores.groups.list_page),
        slots=stores.dispatch.slots(),
        reservations=[stores.dispatch.reservation(entry.job_id) for entry in pending],
        content=[
            *_all(stores.content.list_stories),
            *_all(stores.content.list_cards),
        ],
        state=stores.queue.state(),
    )


def _versions(stores: Stores, template_id: str) -> list[JobTemplate]:
    return _all(lambda limit, cursor: stores.templates.list_versions(template_id, limit, cursor))


def _all(list_page: Callable[[int, str | None], Page[T]]) -> list[T]:
    return list(every_item(list_page, PAGE))
