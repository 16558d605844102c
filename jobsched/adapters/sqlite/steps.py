"""Dispatch steps inside one SQLite transaction: each step's function checks the step's
condition (models/steps.py) and, when it holds, applies the change and returns True.

They run in order under the write lock of `SqliteDispatchStore.commit`, which rolls the whole
transaction back at the first False. What they write mirrors dynamodb/dispatch.py's items.
"""

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from jobsched.adapters.sqlite.budgets import charge_budget, settle
from jobsched.adapters.sqlite.codec import dump, load
from jobsched.adapters.sqlite.concurrency import acquire_keys, release_keys
from jobsched.adapters.sqlite.groups import find_group, put_group
from jobsched.adapters.sqlite.jobs import (
    changed,
    find_job,
    leave_queue,
    put_entry,
    put_job,
    record_key,
)
from jobsched.adapters.sqlite.queue import find_state
from jobsched.adapters.sqlite.runs import find_run as find_visible_run
from jobsched.adapters.sqlite.runs import put_run
from jobsched.adapters.sqlite.usage import add_usage
from jobsched.models import (
    GroupStatus,
    JobRun,
    JobStatus,
    QueueEntry,
    Reservation,
    ReservationStatus,
    RunStatus,
    SlotLease,
    utcnow,
)
from jobsched.models import steps as s
from jobsched.settings import Settings

Applier = Callable[[sqlite3.Connection, Any], bool]
OPEN_GROUP = (GroupStatus.QUEUED, GroupStatus.RUNNING)


# --- rows of the dispatch tables ---------------------------------------------------------------


def put_slot(conn: sqlite3.Connection, lease: SlotLease) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO slots (slot, holder, lease_until, doc) VALUES (?, ?, ?, ?)",
        (lease.slot, lease.holder, lease.lease_until, dump(lease)),
    )


def put_reservation(conn: sqlite3.Connection, reservation: Reservation) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO reservations (reservation_id, status, doc) VALUES (?, ?, ?)",
        (reservation.reservation_id, reservation.status.value, dump(reservation)),
    )


def find_slot(conn: sqlite3.Connection, slot: str) -> SlotLease | None:
    row = conn.execute("SELECT doc FROM slots WHERE slot = ?", (slot,)).fetchone()
    return load(SlotLease, row["doc"]) if row else None


def find_run(conn: sqlite3.Connection, run_id: str) -> JobRun | None:
    return find_visible_run(conn, run_id, time.time())  # an expired run has ended: it is absent


def find_reservation(conn: sqlite3.Connection, reservation_id: str) -> Reservation | None:
    row = conn.execute(
        "SELECT doc FROM reservations WHERE reservation_id = ?", (reservation_id,)
    ).fetchone()
    return load(Reservation, row["doc"]) if row else None


def holds(conn: sqlite3.Connection, slot: str, holder: str) -> SlotLease | None:
    """The slot's lease, if `holder` holds it."""
    lease = find_slot(conn, slot)
    return lease if lease is not None and lease.holder == holder else None


# --- slots and the pause flag ----------------------------------------------------------------


def take_slot(conn: sqlite3.Connection, step: s.TakeSlot) -> bool:
    lease = find_slot(conn, step.slot)  # a slot's row is made the first time it is taken
    if step.expected_holder is None:
        free = lease is None or lease.holder is None
    else:
        free = lease is not None and lease.holder == step.expected_holder
    if free:
        taken = SlotLease(
            slot=step.slot,
            holder=step.holder,
            kind=step.kind,
            lease_until=step.lease_until,
            taken_at=utcnow(),
        )
        put_slot(conn, taken)
    return free


def release_slot(conn: sqlite3.Connection, step: s.ReleaseSlot) -> bool:
    lease = holds(conn, step.slot, step.holder)
    if lease is not None:
        put_slot(conn, changed(lease, holder=None, kind=None, lease_until=0.0))
    return lease is not None


def check_slot_holder(conn: sqlite3.Connection, step: s.CheckSlotHolder) -> bool:
    return holds(conn, step.slot, step.holder) is not None


def check_not_paused(conn: sqlite3.Connection, _: s.CheckNotPaused) -> bool:
    return not find_state(conn).paused


# --- starts ---------------------------------------------------------------------------------


def _new_run(conn: sqlite3.Connection, run: JobRun, settings: Settings) -> bool:
    if find_run(conn, run.run_id) is not None:
        return False
    put_run(conn, run, settings)
    return True


def start_job(conn: sqlite3.Connection, step: s.StartJob, settings: Settings) -> bool:
    job = find_job(conn, step.entry.job_id)
    if job is None or job.status != JobStatus.QUEUED or not leave_queue(conn, job.job_id):
        return False
    run = step.run
    running = changed(
        job,
        status=JobStatus.RUNNING,
        attempt=run.attempt,
        last_run_id=run.run_id,
        updated_at=run.started_at,
        rank=None,
        not_before=None,
    )
    put_job(conn, running)
    return _new_run(conn, run, settings)


def start_outside_queue(
    conn: sqlite3.Connection, step: s.StartOutsideQueue, settings: Settings
) -> bool:
    if find_job(conn, step.job.job_id) is not None:
        return False
    put_job(conn, step.job)
    return _new_run(conn, step.run, settings)


def create_group(conn: sqlite3.Connection, step: s.CreateGroup) -> bool:
    if find_group(conn, step.group.group_id) is not None:
        return False
    put_group(conn, step.group)
    return True


def group_turn(conn: sqlite3.Connection, step: s.GroupTurn) -> bool:
    group = find_group(conn, step.group_id)
    if group is None or group.next_index != step.index or group.status not in OPEN_GROUP:
        return False
    started_at = group.started_at or step.started_at
    put_group(conn, changed(group, status=GroupStatus.RUNNING, started_at=started_at))
    return True


def start_group(conn: sqlite3.Connection, step: s.StartGroup) -> bool:
    group = find_group(conn, step.group_id)
    if group is None or group.status != GroupStatus.QUEUED or group.hold is not None:
        return False  # a held group does not start (jobsched/jobs/holds.py)
    put_group(conn, changed(group, status=GroupStatus.RUNNING, started_at=step.started_at))
    return True


def start_reservation(conn: sqlite3.Connection, step: s.StartReservation) -> bool:
    reservation = find_reservation(conn, step.entry.job_id)
    if reservation is None or reservation.status != ReservationStatus.PENDING:
        return False
    if not leave_queue(conn, reservation.reservation_id):
        return False
    started = changed(
        reservation,
        status=ReservationStatus.RUNNING,
        started_at=step.started_at,
        slot=step.slot,
    )
    put_reservation(conn, started)
    return True


# --- ends -----------------------------------------------------------------------------------


def end_run(conn: sqlite3.Connection, step: s.EndRun, settings: Settings) -> bool:
    run = find_run(conn, step.run_id)
    if run is None or run.status != RunStatus.STARTED:
        return False
    ended = changed(
        run,
        status=step.status,
        finished_at=step.finished_at,
        exit_code=step.exit_code,
        error=step.error,
        artifacts=step.artifacts,
        log_path=step.log_path,
        usage=step.usage,
        failed_checks=step.failed_checks,
    )
    put_run(conn, ended, settings)  # an ended run gets its expiry (runs.py run_expiry)
    if step.usage is not None:
        add_usage(conn, step.usage, step.template_id, step.schedule_id, step.finished_at)
    settle(conn, step.budgets, step.usage, charged=1)
    return True


def end_job(conn: sqlite3.Connection, step: s.EndJob) -> bool:
    job = find_job(conn, step.job_id)
    if job is None or job.status != JobStatus.RUNNING or job.last_run_id != step.run_id:
        return False
    ended = changed(
        job, status=step.status, finished_at=step.finished_at, updated_at=step.finished_at
    )
    put_job(conn, ended)
    return True


def requeue_job(conn: sqlite3.Connection, step: s.RequeueJob) -> bool:
    job = find_job(conn, step.job.job_id)
    if job is None or job.status != JobStatus.RUNNING or job.last_run_id != step.run_id:
        return False
    queued = changed(
        job,
        status=JobStatus.QUEUED,
        rank=step.rank.key,
        not_before=datetime.fromtimestamp(step.not_before, UTC),
        updated_at=utcnow(),
    )
    put_job(conn, queued)
    # The entry is made from the job the caller holds (its attempt), as DynamoDB's put is.
    entry_job = changed(step.job, rank=step.rank.key, status=JobStatus.QUEUED)
    put_entry(conn, QueueEntry.of_job(entry_job, step.rank, not_before=step.not_before))
    return True


def end_reservation(conn: sqlite3.Connection, step: s.EndReservation) -> bool:
    reservation = find_reservation(conn, step.reservation_id)
    if reservation is None or reservation.status != ReservationStatus.RUNNING:
        return False
    ended = changed(
        reservation,
        status=step.status,
        finished_at=step.finished_at,
        exit_code=step.exit_code,
        error=step.error,
        artifacts=step.artifacts,
        log_path=step.log_path,
        result=step.result,
        usage=step.usage,
    )
    put_reservation(conn, ended)
    if step.usage is not None and step.template_id:
        add_usage(conn, step.usage, step.template_id, None, step.finished_at)
    settle(conn, step.budgets, step.usage, charged=0)
    return True


def count_group_job(conn: sqlite3.Connection, step: s.CountGroupJob) -> bool:
    group = find_group(conn, step.group_id)
    if group is None:
        # DynamoDB's unconditioned ADD would make a stub item; there is no group to count.
        return step.turn is None
    if step.turn is not None and group.next_index != step.turn:
        return False
    counts: dict[str, Any] = (
        {"completed": group.completed + 1} if step.succeeded else {"failed": group.failed + 1}
    )
    if step.turn is not None:
        counts["next_index"] = step.turn + 1
    put_group(conn, changed(group, **counts))
    return True


def end_group(conn: sqlite3.Connection, step: s.EndGroup) -> bool:
    group = find_group(conn, step.group_id)
    if group is None or group.status not in OPEN_GROUP:
        return False
    put_group(conn, changed(group, status=step.status, finished_at=step.finished_at))
    return True


def appliers(settings: Settings) -> dict[type, Applier]:
    """Each step type's function (those that write runs need the run retention)."""
    return {
        s.TakeSlot: take_slot,
        s.ReleaseSlot: release_slot,
        s.CheckSlotHolder: check_slot_holder,
        s.CheckNotPaused: check_not_paused,
        s.StartJob: partial(start_job, settings=settings),
        s.AcquireKeys: acquire_keys,
        s.ReleaseKeys: release_keys,
        s.ChargeBudget: charge_budget,
        s.StartOutsideQueue: partial(start_outside_queue, settings=settings),
        s.RecordIdempotencyKey: lambda conn, step: record_key(conn, step.claim),
        s.CreateGroup: create_group,
        s.GroupTurn: group_turn,
        s.StartGroup: start_group,
        s.StartReservation: start_reservation,
        s.EndRun: partial(end_run, settings=settings),
        s.EndJob: end_job,
        s.RequeueJob: requeue_job,
        s.EndReservation: end_reservation,
        s.CountGroupJob: count_group_job,
        s.EndGroup: end_group,
    }
