"""Slots, reservations and the atomic commit of dispatch steps (dynamodb/dispatch.py's twin).

A commit is one `db.write()` transaction: each step's condition is checked under the write
lock, in order, and the first that fails rolls everything back (steps.py). The worker has no
connection to this store, so its parent (the local executor) renews the unit's lease and
records its result: `renew` and `record_result` do what the worker's transactions do on AWS.
"""

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from jobsched.adapters.sqlite.budgets import spend_of
from jobsched.adapters.sqlite.codec import load
from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.sqlite.jobs import changed, claim_key, find_entry, put_entry
from jobsched.adapters.sqlite.runs import put_run
from jobsched.adapters.sqlite.steps import (
    appliers,
    find_reservation,
    find_run,
    holds,
    put_reservation,
    put_slot,
)
from jobsched.errors import NotFoundError
from jobsched.models import (
    JobRun,
    QueueEntry,
    Reservation,
    ReservationStatus,
    RunStatus,
    SlotLease,
    UnitKind,
)
from jobsched.models import steps as s
from jobsched.models.budgets import BudgetSpend
from jobsched.models.idempotency import IdempotencyClaim
from jobsched.models.units import OUTSIDE_QUEUE, Claim
from jobsched.models.usage import Usage
from jobsched.ranks import QueueRank
from jobsched.settings import Settings


class SqliteDispatchStore:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._appliers = appliers(settings)

    # --- reads ------------------------------------------------------------------------------

    def slots(self) -> list[SlotLease]:
        with self.db.read("slots") as conn:
            rows = conn.execute("SELECT doc FROM slots ORDER BY slot").fetchall()
        return [load(SlotLease, row["doc"]) for row in rows]

    def entry(self, unit_id: str) -> QueueEntry | None:
        with self.db.read("entry") as conn:
            return find_entry(conn, unit_id)

    def reservation(self, reservation_id: str) -> Reservation:
        with self.db.read("reservation") as conn:
            found = find_reservation(conn, reservation_id)
        if found is None:
            raise NotFoundError(f"no reservation {reservation_id!r}")
        return found

    def budget_spend(self, counters: Sequence[str]) -> dict[str, BudgetSpend]:
        with self.db.read("budget_spend") as conn:
            return spend_of(conn, list(counters))

    # --- writes -----------------------------------------------------------------------------

    def insert_reservation(
        self, reservation: Reservation, rank: QueueRank, idempotency: IdempotencyClaim | None = None
    ) -> None:
        entry = QueueEntry(
            job_id=reservation.reservation_id,
            rank=rank.key,
            kind=UnitKind.RESERVATION,
            template_id=reservation.template_id,
            priority=rank.priority,
            created_at=reservation.created_at,
        )
        with self.db.write("insert_reservation") as conn:
            if idempotency:
                claim_key(conn, idempotency)
            put_reservation(conn, reservation)
            put_entry(conn, entry)

    def record_pid(self, claim: Claim, pid: int) -> None:
        """Best effort: a run that ended meanwhile keeps no pid."""
        if claim.kind != UnitKind.JOB:
            return
        with self.db.write("record_pid") as conn:
            run = find_run(conn, claim.unit_id)
            if run is not None and run.status == RunStatus.STARTED:
                put_run(conn, changed(run, pid=pid), self.settings)

    def extend_lease(self, slot: str, holder: str, until: float) -> bool:
        with self.db.write("extend_lease") as conn:
            lease = holds(conn, slot, holder)
            if lease is not None:
                put_slot(conn, changed(lease, lease_until=until))
        return lease is not None

    def commit(self, steps: Sequence[s.Step]) -> None:
        with self.db.write("commit") as conn:
            for step in steps:
                if not self._appliers[type(step)](conn, step):
                    raise s.StepFailedError(step, steps)  # rolls the transaction back

    # --- what the worker does on AWS, done by its parent --------------------------------------

    def heartbeat_request(self, claim: Claim) -> dict[str, Any] | None:
        return None  # the worker has no store: its parent calls renew()

    def result_request(self, claim: Claim) -> dict[str, Any] | None:
        return None  # likewise: record_result()

    def renew(
        self, claim: Claim, now: float, lease_until: float, usage: Usage | None = None
    ) -> bool:
        """The unit's heartbeat and its slot's lease (held by claim.holder); False, and
        nothing written, when the unit was ended elsewhere or its slot is another's."""
        with self.db.write("renew") as conn:
            unit = self._live_unit(conn, claim)
            outside = claim.slot == OUTSIDE_QUEUE  # no slot to keep: the heartbeat is its lease
            lease = None if outside else holds(conn, claim.slot, claim.holder)
            if unit is None or (lease is None and not outside):
                return False
            beat: dict[str, Any] = {"heartbeat_at": now}
            if isinstance(unit, JobRun):  # what it used so far, for budgets that stop runs
                beat["live_usage"] = usage.model_dump_json() if usage is not None else None
            self._put_unit(conn, changed(unit, **beat))
            if lease is not None:
                put_slot(conn, changed(lease, lease_until=lease_until))
        return True

    def record_result(
        self, claim: Claim, exit_code: int, artifacts: list[str], usage: Usage | None = None
    ) -> bool:
        """The worker's own exit code, artifacts and usage on its live unit; False if it ended."""
        with self.db.write("record_result") as conn:
            unit = self._live_unit(conn, claim)
            if unit is None:
                return False
            reported = {
                "worker_exit_code": exit_code,
                "worker_artifacts": json.dumps(artifacts),
                "worker_usage": usage.model_dump_json() if usage is not None else None,
            }
            self._put_unit(conn, changed(unit, **reported))
        return True

    @staticmethod
    def _live_unit(conn: sqlite3.Connection, claim: Claim) -> JobRun | Reservation | None:
        """The claim's run (started) or reservation (running); None once it ended."""
        if claim.kind == UnitKind.RESERVATION:
            reservation = find_reservation(conn, claim.unit_id)
            live = reservation is not None and reservation.status == ReservationStatus.RUNNING
            return reservation if live else None
        run = find_run(conn, claim.unit_id)
        return run if run is not None and run.status == RunStatus.STARTED else None

    def _put_unit(self, conn: sqlite3.Connection, unit: JobRun | Reservation) -> None:
        if isinstance(unit, Reservation):
            put_reservation(conn, unit)
        else:
            put_run(conn, unit, self.settings)
