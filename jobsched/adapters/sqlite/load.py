"""Whole entities written as they are, in one transaction: how the data of another store (an
emulator data dir's saved tables) is brought into a new database once."""

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobsched.adapters.sqlite.content import put_content
from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.sqlite.groups import put_group
from jobsched.adapters.sqlite.jobs import put_entry, put_job
from jobsched.adapters.sqlite.keys import put_key
from jobsched.adapters.sqlite.queue import put_state
from jobsched.adapters.sqlite.runs import put_run
from jobsched.adapters.sqlite.schedules import put_schedule
from jobsched.adapters.sqlite.steps import put_reservation, put_slot
from jobsched.adapters.sqlite.templates import put_template, put_template_version
from jobsched.models import (
    ApiKey,
    Job,
    JobGroup,
    JobRun,
    JobTemplate,
    QueueEntry,
    QueueState,
    Reservation,
    Schedule,
    SlotLease,
)
from jobsched.models.content import StoredItem
from jobsched.settings import Settings


@dataclass
class Entities:
    templates: list[JobTemplate] = field(default_factory=list)
    template_versions: list[JobTemplate] = field(default_factory=list)
    keys: list[ApiKey] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    queue: list[QueueEntry] = field(default_factory=list)
    runs: list[JobRun] = field(default_factory=list)
    groups: list[JobGroup] = field(default_factory=list)
    slots: list[SlotLease] = field(default_factory=list)
    reservations: list[Reservation] = field(default_factory=list)
    content: list[StoredItem] = field(default_factory=list)
    state: QueueState | None = None

    @property
    def count(self) -> int:
        lists = (self.templates, self.keys, self.schedules, self.jobs, self.queue, self.runs)
        more = (self.template_versions, self.groups, self.slots, self.reservations, self.content)
        return sum(len(items) for items in (*lists, *more)) + (self.state is not None)


def put_entities(db: Database, settings: Settings, entities: Entities) -> int:
    """Write every entity (replacing one with the same key); all or nothing."""
    writers: list[tuple[Callable[[sqlite3.Connection, Any], object], Sequence[Any]]] = [
        (put_template, entities.templates),
        (put_template_version, entities.template_versions),
        (put_key, entities.keys),
        (put_schedule, entities.schedules),
        (put_job, entities.jobs),
        (put_entry, entities.queue),
        (lambda conn, run: put_run(conn, run, settings), entities.runs),
        (put_group, entities.groups),
        (put_slot, entities.slots),
        (put_reservation, entities.reservations),
        (put_content, entities.content),
        (put_state, [entities.state] if entities.state is not None else []),
    ]
    with db.write("load") as conn:
        for write, items in writers:
            for item in items:
                write(conn, item)
    return entities.count
