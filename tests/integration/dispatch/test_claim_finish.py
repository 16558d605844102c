"""The dispatch protocol over the real store: order, slots, reservations, pause, retries,
cancels and groups. Executors are replaced by the test deciding each unit's outcome."""

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.errors import ConflictError
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, cancel_group, create_group
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.queue import MoveRequest, move_job, pause, resume
from jobsched.jobs.reservations import reserve
from jobsched.models import (
    GroupMode,
    GroupStatus,
    JobStatus,
    JobTemplate,
    OnFailure,
    ReservationStatus,
    RunStatus,
    UnitKind,
)
from jobsched.models.units import Claim, Outcome
from jobsched.ports import RunFilter, Stores
from tests.support.dispatch import Clock, Edges

OK = Outcome(exit_code=0)


def _enqueue(stores: Stores, template: str, count: int, **fields: object) -> list[str]:
    return [
        enqueue(stores, JobCreate(template_id=template, **fields))[0].job_id for _ in range(count)
    ]


def _drain(dispatcher: Dispatcher, first: Claim | None, outcome: Outcome = OK) -> list[Claim]:
    """Run units back to back on one slot, as the dispatcher loop does."""
    ran = []
    claim = first
    while claim is not None:
        ran.append(claim)
        claim = dispatcher.finish(claim, outcome)
    return ran


def _unit(claim: Claim) -> str:
    return claim.job.job_id if claim.job else claim.unit_id


def test_a_claimed_job_runs_and_finishes(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    [job_id] = _enqueue(wired, template, 1)
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.kind == UnitKind.JOB
    assert claim.template is not None
    assert claim.template.workload == "echo"
    job = wired.jobs.get(job_id)
    assert job.status == JobStatus.RUNNING
    assert job.last_run_id == claim.unit_id
    assert wired.runs.get(claim.unit_id).status == RunStatus.STARTED
    assert wired.queue.head(10) == []
    [slot] = wired.dispatch.slots()
    assert slot.holder == claim.unit_id

    assert dispatcher.finish(claim, Outcome(exit_code=0, artifacts=["s3://b/x"])) is None
    run = wired.runs.get(claim.unit_id)
    assert (run.status, run.exit_code, run.artifacts) == (RunStatus.COMPLETED, 0, ["s3://b/x"])
    assert wired.jobs.get(job_id).status == JobStatus.FINISHED
    assert wired.dispatch.slots()[0].holder is None


def test_units_run_one_at_a_time_in_queue_order(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    low = _enqueue(wired, template, 2, priority="low")
    normal = _enqueue(wired, template, 2)
    urgent = _enqueue(wired, template, 1, priority="immediate")
    move_job(wired, normal[1], MoveRequest(before=normal[0]))
    first = dispatcher.claim()
    assert dispatcher.claim() is None  # SLOTS=1: the slot is taken
    ran = [_unit(c) for c in _drain(dispatcher, first)]
    assert ran == [urgent[0], normal[1], normal[0], low[0], low[1]]


def test_the_specs_next_slot_example(dispatcher: Dispatcher, wired: Stores, template: str) -> None:
    """Job1 running, Job2 and Job3 queued, a reservation arrives: Job1, reservation, Job2, Job3;
    Job1 is not interrupted."""
    job1, job2, job3 = _enqueue(wired, template, 3)
    running = dispatcher.claim()
    assert running is not None
    assert _unit(running) == job1
    reservation = reserve(wired, template, {"message": "direct"})
    assert dispatcher.claim() is None  # no pre-emption: the reservation waits for the slot
    assert wired.runs.get(running.unit_id).status == RunStatus.STARTED

    ran = _drain(dispatcher, running)
    assert [_unit(c) for c in ran] == [job1, reservation.reservation_id, job2, job3]
    assert ran[1].kind == UnitKind.RESERVATION
    assert ran[1].reservation is not None
    assert ran[1].reservation.params == {"message": "direct"}
    assert wired.runs.get(running.unit_id).status == RunStatus.COMPLETED
    done = wired.dispatch.reservation(reservation.reservation_id)
    assert done.status == ReservationStatus.COMPLETED
    assert done.exit_code == 0


def test_reservations_run_in_arrival_order_before_any_job(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    urgent = _enqueue(wired, template, 1, priority="immediate")
    first = reserve(wired, template, {})
    second = reserve(wired, template, {})
    ran = [_unit(c) for c in _drain(dispatcher, dispatcher.claim())]
    assert ran == [first.reservation_id, second.reservation_id, urgent[0]]


def test_a_paused_queue_dispatches_nothing_until_resumed(
    dispatcher: Dispatcher, wired: Stores, template: str, edges: Edges
) -> None:
    pause(wired)
    [job_id] = _enqueue(wired, template, 1)  # enqueue goes on while paused
    assert dispatcher.claim() is None
    assert wired.jobs.get(job_id).status == JobStatus.QUEUED
    kicks = edges.kicks
    resume(wired)
    assert edges.kicks == kicks + 1  # resume wakes the dispatcher
    claim = dispatcher.claim()
    assert claim is not None
    assert _unit(claim) == job_id


def test_pause_while_running_lets_the_unit_finish_and_frees_the_slot(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    first, second = _enqueue(wired, template, 2)
    claim = dispatcher.claim()
    assert claim is not None
    pause(wired)
    assert dispatcher.finish(claim, OK) is None
    assert wired.jobs.get(first).status == JobStatus.FINISHED
    assert wired.jobs.get(second).status == JobStatus.QUEUED
    assert wired.dispatch.slots()[0].holder is None


def test_a_cancelled_job_never_runs(dispatcher: Dispatcher, wired: Stores, template: str) -> None:
    first, second = _enqueue(wired, template, 2)
    cancel_job(wired, first)
    claim = dispatcher.claim()
    assert claim is not None
    assert _unit(claim) == second
    assert wired.runs.list_page(RunFilter(job_id=first), 10, None).items == []


def test_a_failed_job_is_retried_after_its_backoff(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock
) -> None:
    flaky, other = _enqueue(wired, template, 2)
    claim = dispatcher.claim()
    assert claim is not None
    after = dispatcher.finish(claim, Outcome(exit_code=3, error=None))
    # The failed job went back to the front of its band, waiting 30 s: the other job runs.
    assert dispatcher.wake_at == pytest.approx(clock.now + 30)
    assert after is not None
    assert _unit(after) == other
    job = wired.jobs.get(flaky)
    assert job.status == JobStatus.QUEUED
    failed = wired.runs.get(claim.unit_id)
    assert (failed.status, failed.exit_code, failed.error) == (RunStatus.FAILED, 3, "exit code 3")
    assert dispatcher.finish(after, OK) is None
    assert wired.runs.get(after.unit_id).error is None  # a completed run has no error
    assert dispatcher.wake_at == pytest.approx(clock.now + 30)
    assert dispatcher.claim() is None  # not yet
    clock.advance(31)
    retried = dispatcher.claim()
    assert retried is not None
    assert _unit(retried) == flaky
    assert retried.run is not None
    assert retried.run.attempt == 2
    # The last attempt (max_attempts=2) fails for good.
    assert dispatcher.finish(retried, Outcome(exit_code=1)) is None
    assert wired.jobs.get(flaky).status == JobStatus.FINISHED
    runs = [r.status for r in wired.runs.list_page(RunFilter(job_id=flaky), 10, None).items]
    assert sorted(runs) == [RunStatus.FAILED, RunStatus.FAILED]


def test_cancel_of_a_running_job_stops_it_and_the_slot_moves_on(
    dispatcher: Dispatcher, wired: Stores, template: str, edges: Edges
) -> None:
    busy, waiting = _enqueue(wired, template, 2)
    claim = dispatcher.claim()
    assert claim is not None
    cancelled = cancel_job(wired, busy)
    assert cancelled.status == JobStatus.CANCELLED
    run = wired.runs.get(claim.unit_id)
    assert (run.status, run.error) == (RunStatus.FAILED, "cancelled")
    assert edges.stopped == [(claim.unit_id, "cancelled")]
    # The task ends (killed): the dispatcher's finish records nothing more and moves on.
    following = dispatcher.finish(claim, Outcome(exit_code=143))
    assert following is not None
    assert _unit(following) == waiting
    assert wired.runs.get(claim.unit_id).error == "cancelled"
    assert wired.jobs.get(busy).status == JobStatus.CANCELLED


@pytest.mark.parametrize("claim_next", [True, False])
def test_a_cancelled_run_keeps_the_log_and_artifacts_its_worker_left(
    dispatcher: Dispatcher, wired: Stores, template: str, claim_next: bool
) -> None:
    busy = _enqueue(wired, template, 1)[0]
    claim = dispatcher.claim()
    assert claim is not None
    cancel_job(wired, busy)
    killed = Outcome(exit_code=143, artifacts=["file:///out/part.txt"], log_path="runs/r/log")

    dispatcher.finish(claim, killed, claim_next=claim_next)

    run = wired.runs.get(claim.unit_id)
    assert (run.status, run.error, run.exit_code) == (RunStatus.FAILED, "cancelled", None)
    assert (run.log_path, run.artifacts) == ("runs/r/log", ["file:///out/part.txt"])
    assert wired.dispatch.slots()[0].holder is None or claim_next
    # Kept once: a second look at the same end changes nothing.
    assert wired.runs.keep_outputs(claim.unit_id, "other", []) is False


def test_outputs_are_kept_only_on_an_ended_run(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    _enqueue(wired, template, 1)
    claim = dispatcher.claim()
    assert claim is not None
    assert wired.runs.keep_outputs(claim.unit_id, "runs/r/log", []) is False  # still started
    assert wired.runs.keep_outputs("run_nobody", "runs/r/log", []) is False
    assert wired.runs.get(claim.unit_id).log_path is None


def test_a_job_can_be_cancelled_only_once_when_running(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    [job_id] = _enqueue(wired, template, 1)
    assert dispatcher.claim() is not None
    cancel_job(wired, job_id)
    with pytest.raises(ConflictError, match="is cancelled already"):
        cancel_job(wired, job_id)


def test_cancelling_a_finished_job_says_what_can_be_cancelled(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    [job_id] = _enqueue(wired, template, 1)
    claim = dispatcher.claim()
    assert claim is not None
    dispatcher.finish(claim, OK)
    with pytest.raises(ConflictError, match="is finished; only a queued or running job can be"):
        cancel_job(wired, job_id)


def test_a_parallel_group_is_one_unit_whose_jobs_run_under_its_slot(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    group, jobs = create_group(
        wired,
        GroupCreate(mode=GroupMode.PARALLEL, jobs=[GroupJobSpec(template_id=template)] * 3),
    )
    after = _enqueue(wired, template, 1)
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.kind == UnitKind.GROUP
    assert claim.group is not None
    assert claim.group.job_ids == [j.job_id for j in jobs]
    job_claims = [dispatcher.claim_group_job(claim, j.job_id) for j in jobs]
    assert all(c is not None for c in job_claims)
    assert {wired.jobs.get(j.job_id).status for j in jobs} == {JobStatus.RUNNING}  # at once
    assert dispatcher.claim() is None  # the group holds the only slot
    for index, job_claim in enumerate(job_claims):
        assert job_claim is not None
        dispatcher.finish_group_job(job_claim, Outcome(exit_code=0 if index else 1))
    following = dispatcher.finish(claim, OK)
    assert following is not None
    assert _unit(following) == after[0]
    ended = wired.groups.get(group.group_id)
    assert (ended.status, ended.completed, ended.failed) == (GroupStatus.PARTIAL, 2, 1)
    assert ended.started_at is not None
    assert ended.finished_at is not None


def test_a_sequential_group_runs_its_jobs_in_order_one_per_turn(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    group, jobs = create_group(
        wired,
        GroupCreate(mode=GroupMode.SEQUENTIAL, jobs=[GroupJobSpec(template_id=template)] * 3),
    )
    ids = [j.job_id for j in jobs]
    # Someone moves the last job of the group to the front: it still waits for its turn.
    move_job(wired, ids[2], MoveRequest(position=1))
    ran = [_unit(c) for c in _drain(dispatcher, dispatcher.claim())]
    assert ran == ids
    ended = wired.groups.get(group.group_id)
    assert ended.status == GroupStatus.COMPLETED
    assert ended.completed == 3


def test_cancelling_a_group_stops_its_running_job_and_cancels_the_queued_ones(
    dispatcher: Dispatcher, wired: Stores, template: str, edges: Edges
) -> None:
    group, jobs = create_group(
        wired,
        GroupCreate(mode=GroupMode.SEQUENTIAL, jobs=[GroupJobSpec(template_id=template)] * 2),
    )
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None

    cancel_group(wired, group.group_id)

    assert edges.stopped == [(claim.unit_id, "cancelled")]
    assert (wired.runs.get(claim.unit_id).status, wired.runs.get(claim.unit_id).error) == (
        RunStatus.FAILED,
        "cancelled",
    )
    assert [wired.jobs.get(job.job_id).status for job in jobs] == [JobStatus.CANCELLED] * 2
    assert wired.groups.get(group.group_id).status == GroupStatus.CANCELLED


def test_a_sequential_group_stops_on_failure_and_cancels_the_rest(
    dispatcher: Dispatcher, wired: Stores
) -> None:
    wired.templates.create(JobTemplate(template_id="once", name="Once", workload="echo"))
    group, jobs = create_group(
        wired,
        GroupCreate(
            mode=GroupMode.SEQUENTIAL,
            on_failure=OnFailure.STOP,
            jobs=[GroupJobSpec(template_id="once")] * 3,
        ),
    )
    first = dispatcher.claim()
    assert first is not None
    second = dispatcher.finish(first, OK)
    assert second is not None
    assert _unit(second) == jobs[1].job_id
    assert dispatcher.finish(second, Outcome(exit_code=1)) is None  # no retry: max_attempts 1
    ended = wired.groups.get(group.group_id)
    assert (ended.status, ended.completed, ended.failed) == (GroupStatus.PARTIAL, 1, 1)
    statuses = [wired.jobs.get(j.job_id).status for j in jobs]
    assert statuses == [JobStatus.FINISHED, JobStatus.FINISHED, JobStatus.CANCELLED]
    assert wired.queue.head(10) == []


def test_two_slots_run_two_units_at_once(wired: Stores, template: str, clock: Clock) -> None:
    dispatcher = Dispatcher(wired, wired.dispatch, DispatchConfig(slots=2), clock=clock)
    a, b, c = _enqueue(wired, template, 3)
    first, second = dispatcher.claim(), dispatcher.claim()
    assert first is not None
    assert second is not None
    assert {first.slot, second.slot} == {"000", "001"}
    assert {_unit(first), _unit(second)} == {a, b}
    assert dispatcher.claim() is None
    following = dispatcher.finish(first, OK)
    assert following is not None
    assert _unit(following) == c


def test_a_unit_that_can_never_start_is_not_retried(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    [job_id] = _enqueue(wired, template, 1)
    claim = dispatcher.claim()
    assert claim is not None
    assert dispatcher.finish(claim, Outcome.unrunnable("params too large for a task")) is None
    assert wired.jobs.get(job_id).status == JobStatus.FINISHED  # max_attempts=2, yet no retry
    assert wired.runs.get(claim.unit_id).error == "unrunnable: params too large for a task"


def test_a_moved_job_is_claimed_with_the_rank_it_was_moved_to(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    """The queue entry's copy of the rank follows every move (a stale one went into the job)."""
    first, second = _enqueue(wired, template, 2)
    moved = move_job(wired, second, MoveRequest(position=1))
    assert [entry.rank for entry in wired.queue.dispatch_head(2)] == [
        moved.key,
        wired.jobs.get(first).rank,
    ]
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert (claim.job.job_id, claim.job.rank) == (second, moved.key)
