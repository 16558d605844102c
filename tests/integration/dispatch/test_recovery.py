"""Faults: a dispatcher lost while holding the slot, a worker that reported before it was lost,
heartbeats, and the worker's signal that its run was cancelled."""

import json
from typing import Any

from jobsched.adapters.dynamodb import Dynamo
from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.dispatch.sweeper import sweep
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.reservations import reserve
from jobsched.models import GroupMode, GroupStatus, JobStatus, ReservationStatus, RunStatus
from jobsched.models.units import Claim, Outcome
from jobsched.ports import RunFilter, Stores
from tests.support.dispatch import Clock, Edges

LEASE = 600.0  # DispatchConfig's default startup lease


def _send(dynamo: Dynamo, request: dict[str, Any], **values: str) -> None:
    """Send a worker transaction template as the worker does, placeholders filled in."""
    text = json.dumps(request)
    for placeholder, value in values.items():
        text = text.replace(f"__{placeholder}__", value)
    dynamo.client.transact_write_items(**json.loads(text))


def _claim_one(dispatcher: Dispatcher, stores: Stores, template: str) -> Claim:
    enqueue(stores, JobCreate(template_id=template))
    claim = dispatcher.claim()
    assert claim is not None
    return claim


def test_a_lost_dispatcher_is_recovered_by_the_sweeper_and_the_job_retried(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock, edges: Edges
) -> None:
    claim = _claim_one(dispatcher, wired, template)
    assert sweep(dispatcher, clock).recovered == []  # the lease still holds
    clock.advance(LEASE + 1)
    kicks = edges.kicks
    report = sweep(dispatcher, clock)
    assert report.recovered == [claim.unit_id]
    run = wired.runs.get(claim.unit_id)
    assert (run.status, run.error) == (RunStatus.FAILED, "lost")
    assert edges.stopped == [(claim.unit_id, "lost")]
    assert claim.job is not None
    job = wired.jobs.get(claim.job.job_id)
    assert job.status == JobStatus.QUEUED  # max_attempts=2: it goes back to the queue
    assert wired.dispatch.slots()[0].holder is None
    assert edges.kicks == kicks  # the retry waits 30 s: nothing to kick for yet
    clock.advance(31)
    assert sweep(dispatcher, clock).kicked  # now work waits behind a free slot
    retried = dispatcher.claim()
    assert retried is not None
    assert retried.run is not None
    assert retried.run.attempt == 2


def test_a_worker_that_reported_before_the_dispatcher_was_lost_keeps_its_outcome(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock, dynamo: Dynamo
) -> None:
    claim = _claim_one(dispatcher, wired, template)
    artifacts = json.dumps(["s3://bucket/runs/x/out.txt"])
    _send(
        dynamo,
        wired.dispatch.result_request(claim),
        EXIT_CODE="0",
        ARTIFACTS=artifacts.replace('"', '\\"'),
    )
    clock.advance(LEASE + 1)
    sweep(dispatcher, clock)
    run = wired.runs.get(claim.unit_id)
    assert (run.status, run.exit_code, run.artifacts) == (
        RunStatus.COMPLETED,
        0,
        ["s3://bucket/runs/x/out.txt"],
    )
    assert claim.job is not None
    assert wired.jobs.get(claim.job.job_id).status == JobStatus.FINISHED


def test_heartbeats_keep_the_lease_and_a_silent_worker_loses_it(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock, dynamo: Dynamo
) -> None:
    claim = _claim_one(dispatcher, wired, template)
    for _ in range(3):
        clock.advance(LEASE / 2)
        beat = int(clock.now)
        _send(
            dynamo,
            wired.dispatch.heartbeat_request(claim),
            NOW=str(beat),
            LEASE_UNTIL=str(beat + 90),
        )
        assert sweep(dispatcher, clock).recovered == []
    assert wired.runs.get(claim.unit_id).heartbeat_at == beat
    clock.advance(91)  # three heartbeat periods without a word
    assert sweep(dispatcher, clock).recovered == [claim.unit_id]


def test_the_heartbeat_fails_once_the_run_is_cancelled(
    dispatcher: Dispatcher, wired: Stores, template: str, dynamo: Dynamo
) -> None:
    claim = _claim_one(dispatcher, wired, template)
    assert claim.job is not None
    cancel_job(wired, claim.job.job_id)
    try:
        _send(dynamo, wired.dispatch.heartbeat_request(claim), NOW="1", LEASE_UNTIL="2")
    except dynamo.client.exceptions.TransactionCanceledException as exc:
        reasons = [r["Code"] for r in exc.response["CancellationReasons"]]
        assert reasons[0] == "ConditionalCheckFailed"  # the worker's cue to stop
    else:
        raise AssertionError("the heartbeat of a cancelled run must fail")


def test_a_lost_reservation_fails_and_frees_the_slot(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock
) -> None:
    reservation = reserve(wired, template, {})
    claim = dispatcher.claim()
    assert claim is not None
    clock.advance(LEASE + 1)
    assert sweep(dispatcher, clock).recovered == [reservation.reservation_id]
    lost = wired.dispatch.reservation(reservation.reservation_id)
    assert (lost.status, lost.error) == (ReservationStatus.FAILED, "lost")
    assert wired.dispatch.slots()[0].holder is None


def test_a_lost_parallel_group_ends_its_running_jobs(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock
) -> None:
    group, jobs = create_group(
        wired, GroupCreate(mode=GroupMode.PARALLEL, jobs=[GroupJobSpec(template_id=template)] * 2)
    )
    claim = dispatcher.claim()
    assert claim is not None
    started = [dispatcher.claim_group_job(claim, job.job_id) for job in jobs]
    assert started[0] is not None
    dispatcher.finish_group_job(started[0], Outcome(exit_code=0))
    clock.advance(LEASE + 1)
    sweep(dispatcher, clock)
    assert started[1] is not None
    assert wired.runs.get(started[1].unit_id).error == "lost"
    ended = wired.groups.get(group.group_id)
    assert (ended.status, ended.completed, ended.failed) == (GroupStatus.PARTIAL, 1, 1)
    assert wired.dispatch.slots()[0].holder is None


def test_a_finish_after_the_sweeper_took_over_records_nothing_twice(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock
) -> None:
    """The dispatcher was only slow: its late finish must not overwrite the sweeper's end."""
    claim = _claim_one(dispatcher, wired, template)
    clock.advance(LEASE + 1)
    sweep(dispatcher, clock)
    assert dispatcher.finish(claim, Outcome(exit_code=0)) is None
    assert wired.runs.get(claim.unit_id).error == "lost"


def test_a_slot_whose_lease_expired_is_not_taken_before_the_sweeper_ends_its_unit(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock
) -> None:
    """Taking it over would leave the lost unit's run `started` with no holder to end it."""
    lost = _claim_one(dispatcher, wired, template)
    clock.advance(LEASE + 1)
    enqueue(wired, JobCreate(template_id=template))

    assert dispatcher.claim() is None  # the slot is held until the sweeper ends its unit
    assert wired.runs.get(lost.unit_id).status == RunStatus.STARTED

    assert sweep(dispatcher, clock).recovered == [lost.unit_id]
    assert wired.runs.get(lost.unit_id).status == RunStatus.FAILED
    nxt = dispatcher.claim()
    assert nxt is not None
    assert nxt.unit_id != lost.unit_id
    started = [
        run for run in wired.runs.list_page(RunFilter(status=RunStatus.STARTED), 10, None).items
    ]
    assert [run.run_id for run in started] == [nxt.unit_id]  # no run left orphaned
