"""What the SQLite store brought to the dispatch port, held on both backends: the worker's
parent renews its unit and records its result (`renew`, `record_result`), and a commit whose
step fails writes nothing. On SQLite alone: the queue is read through its rank index."""

import json
import re
import sqlite3

import pytest

from jobsched.adapters.sqlite import build_stores
from jobsched.adapters.sqlite.db import Database
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.errors import NotFoundError
from jobsched.ids import new_id
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.queue import MoveRequest, move_job
from jobsched.jobs.reservations import reserve
from jobsched.models import (
    Job,
    JobRun,
    JobStatus,
    JobTemplate,
    ReservationStatus,
    RunStatus,
    UnitKind,
    utcnow,
)
from jobsched.models.steps import (
    CheckSlotHolder,
    EndRun,
    ReleaseSlot,
    StartJob,
    StartOutsideQueue,
    StepFailedError,
    TakeSlot,
)
from jobsched.models.units import OUTSIDE_QUEUE, Claim, Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings

NOW = 1_800_000_000.0
LEASE = 1_800_000_090.0


def _claim(stores: Stores, template: str) -> Claim:
    enqueue(stores, JobCreate(template_id=template))
    claim = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1)).claim()
    assert claim is not None
    return claim


def _lease_until(stores: Stores) -> float:
    [slot] = stores.dispatch.slots()
    return slot.lease_until


# --- renew ------------------------------------------------------------------------------------


def test_renew_beats_the_run_and_extends_its_slot_lease(stores: Stores, echo_template: str) -> None:
    claim = _claim(stores, echo_template)

    assert stores.dispatch.renew(claim, NOW, LEASE) is True

    assert stores.runs.get(claim.unit_id).heartbeat_at == NOW
    assert _lease_until(stores) == LEASE


def test_renew_of_a_cancelled_run_fails_and_writes_nothing(
    stores: Stores, echo_template: str
) -> None:
    claim = _claim(stores, echo_template)
    assert claim.job is not None
    cancel_job(stores, claim.job.job_id)  # ends the run and frees the slot
    lease_before = _lease_until(stores)

    assert stores.dispatch.renew(claim, NOW, LEASE) is False

    assert stores.runs.get(claim.unit_id).heartbeat_at is None
    assert _lease_until(stores) == lease_before


def test_renew_fails_and_writes_nothing_once_another_unit_holds_the_slot(
    stores: Stores, echo_template: str
) -> None:
    claim = _claim(stores, echo_template)
    stores.dispatch.commit([ReleaseSlot(claim.slot, claim.holder)])  # the sweeper's, say
    stores.dispatch.commit([TakeSlot(claim.slot, "another", UnitKind.JOB, lease_until=NOW)])

    assert stores.dispatch.renew(claim, NOW, LEASE) is False

    assert stores.runs.get(claim.unit_id).heartbeat_at is None  # the run's beat went too
    [slot] = stores.dispatch.slots()
    assert (slot.holder, slot.lease_until) == ("another", NOW)


def test_renew_outside_the_queue_beats_the_run_and_touches_no_slot(
    stores: Stores, echo_template: str
) -> None:
    job = Job(job_id=new_id("job"), template_id=echo_template, status=JobStatus.RUNNING)
    run = JobRun(run_id=new_id("run"), job_id=job.job_id, template_id=echo_template)
    stores.dispatch.commit([StartOutsideQueue(job, run)])
    claim = Claim(
        slot=OUTSIDE_QUEUE, kind=UnitKind.JOB, unit_id=run.run_id, holder=run.run_id, lease_until=0
    )

    assert stores.dispatch.renew(claim, NOW, LEASE) is True

    assert stores.runs.get(run.run_id).heartbeat_at == NOW
    assert stores.dispatch.slots() == []


def test_renew_beats_a_running_reservation_and_fails_once_it_ended(
    stores: Stores, echo_template: str
) -> None:
    reservation = reserve(stores, echo_template, {})
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.kind == UnitKind.RESERVATION

    assert stores.dispatch.renew(claim, NOW, LEASE) is True
    assert stores.dispatch.reservation(reservation.reservation_id).heartbeat_at == NOW
    assert _lease_until(stores) == LEASE

    dispatcher.finish(claim, Outcome(exit_code=0))
    assert stores.dispatch.renew(claim, NOW + 1, LEASE + 1) is False
    assert stores.dispatch.reservation(reservation.reservation_id).heartbeat_at == NOW


# --- record_result ----------------------------------------------------------------------------


def test_record_result_keeps_the_workers_report_on_its_live_run(
    stores: Stores, echo_template: str
) -> None:
    claim = _claim(stores, echo_template)
    artifacts = ["file:///tmp/out/a.txt", "file:///tmp/out/b.txt"]

    assert stores.dispatch.record_result(claim, 3, artifacts) is True

    run = stores.runs.get(claim.unit_id)
    assert run.status == RunStatus.STARTED  # a report is not an end: the dispatcher ends it
    assert (run.worker_exit_code, json.loads(run.worker_artifacts or "")) == (3, artifacts)
    assert Outcome.reported(run) == Outcome(exit_code=3, artifacts=artifacts)


def test_record_result_of_an_ended_run_fails_and_writes_nothing(
    stores: Stores, echo_template: str
) -> None:
    claim = _claim(stores, echo_template)
    assert claim.job is not None
    cancel_job(stores, claim.job.job_id)

    assert stores.dispatch.record_result(claim, 0, []) is False

    run = stores.runs.get(claim.unit_id)
    assert (run.worker_exit_code, run.worker_artifacts) == (None, None)


def test_record_result_on_a_running_reservation(stores: Stores, echo_template: str) -> None:
    reservation = reserve(stores, echo_template, {})
    claim = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1)).claim()
    assert claim is not None

    assert stores.dispatch.record_result(claim, 0, ["file:///tmp/r.txt"]) is True

    held = stores.dispatch.reservation(reservation.reservation_id)
    assert held.status == ReservationStatus.RUNNING
    assert Outcome.reported(held) == Outcome(exit_code=0, artifacts=["file:///tmp/r.txt"])


# --- commit -----------------------------------------------------------------------------------


def test_a_commit_whose_second_step_fails_writes_nothing_and_names_that_step(
    stores: Stores, echo_template: str
) -> None:
    job, _ = enqueue(stores, JobCreate(template_id=echo_template))
    [entry] = stores.queue.dispatch_head(1)
    run = JobRun(run_id=new_id("run"), job_id=job.job_id, template_id=echo_template, slot="000")
    take = TakeSlot("000", run.run_id, UnitKind.JOB, lease_until=NOW + 600)
    failing = CheckSlotHolder("001", "nobody")  # a slot no one holds
    steps = [take, failing, StartJob(entry, run)]

    with pytest.raises(StepFailedError) as raised:
        stores.dispatch.commit(steps)

    assert raised.value.step is failing
    assert raised.value.steps == steps
    assert stores.dispatch.slots() == []  # the slot was never taken
    assert stores.jobs.get(job.job_id).status == JobStatus.QUEUED
    assert stores.dispatch.entry(job.job_id) == entry
    with pytest.raises(NotFoundError):
        stores.runs.get(run.run_id)


def test_a_commit_names_the_first_failing_step_of_several(
    stores: Stores, echo_template: str
) -> None:
    first = EndRun(new_id("run"), RunStatus.COMPLETED, utcnow())  # no such run
    second = CheckSlotHolder("000", "nobody")

    with pytest.raises(StepFailedError) as raised:
        stores.dispatch.commit([first, second])

    assert raised.value.step is first


# --- SQLite: the queue is read through its rank index -------------------------------------------

QUEUE_TABLE = re.compile(r"\bqueue\b(?!_)")


def _rank_index(conn: sqlite3.Connection) -> str:
    for index in conn.execute("PRAGMA index_list(queue)").fetchall():
        if index["partial"]:
            continue  # queue_dispatch: the dispatcher's, holding no held row
        columns = [row["name"] for row in conn.execute(f"PRAGMA index_info({index['name']})")]
        if columns == ["rank"]:
            return str(index["name"])
    raise AssertionError("the queue table has no index on rank")


def _plans(conn: sqlite3.Connection, statements: list[str]) -> dict[str, list[str]]:
    """The query plan of every statement that read the queue table."""
    plans: dict[str, list[str]] = {}
    for sql in statements:
        if QUEUE_TABLE.search(sql) and sql.lstrip().upper().startswith(("SELECT", "DELETE")):
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            plans[sql] = [row["detail"] for row in rows]
    return plans


def test_position_claim_and_move_read_the_queue_through_its_indexes(
    sqlite_db: Database, settings: Settings
) -> None:
    stores = build_stores(settings, sqlite_db)
    stores.templates.create(JobTemplate(template_id="echo", name="Echo", workload="echo"))
    ids = [enqueue(stores, JobCreate(template_id="echo"))[0].job_id for _ in range(30)]
    conn = sqlite_db.connection()  # this thread's: the one the stores use here
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        enqueue(stores, JobCreate(template_id="echo", position=3))  # placement and position
        move_job(stores, ids[-1], MoveRequest(position=5))
        move_job(stores, ids[-2], MoveRequest(before=ids[10]))
        move_job(stores, ids[1], MoveRequest(after=ids[20]))
        rank = stores.queue.rank_of(ids[15])
        assert rank is not None
        stores.queue.position_of(rank)
        later = stores.queue.rank_of(ids[25])
        assert later is not None
        stores.queue.positions_of([later, rank])
        claim = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1)).claim()
        assert claim is not None
        stores.queue.page(10, stores.queue.page(10, None)[1])
    finally:
        conn.set_trace_callback(None)

    plans = _plans(conn, statements)
    rank_index = _rank_index(conn)
    assert any("count(" in sql for sql in plans), "position_of was not traced"
    assert any("rank > " in sql for sql in plans), "positions_of was not traced"
    for sql, plan in plans.items():
        lines = [line for line in plan if QUEUE_TABLE.search(line)]
        assert lines, (sql, plan)
        for line in lines:
            assert "SCAN queue" not in line, (sql, plan)
            assert re.search(r"USING (COVERING )?INDEX", line), (sql, plan)
        if "count(" in sql:
            assert f"USING COVERING INDEX {rank_index}" in lines[0], (sql, plan)
        elif "held = 0" in sql:
            assert "queue_dispatch" in lines[0], (sql, plan)
        elif "ORDER BY rank" in sql:
            assert rank_index in lines[0], (sql, plan)
