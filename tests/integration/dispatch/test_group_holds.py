"""Group hold and release over both stores: a held parallel group is passed over as a whole and
starts only once released; a held sequential group's running job runs on and its queued ones
wait; a call cut short is finished by the same call again; a group hold racing a claim has one
winner."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.errors import ConflictError, NotFoundError
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, cancel_group, create_group
from jobsched.jobs.holds import Holder, hold_group, release_group
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.queue import view_queue
from jobsched.models import GroupMode, GroupStatus, Hold, JobGroup, JobStatus, UnitKind
from jobsched.models.units import Claim, Outcome
from jobsched.ports import Stores
from tests.support.dispatch import Edges

OK = Outcome(exit_code=0)
ALICE = Holder("key1", "alice")


def _group(stores: Stores, template: str, mode: GroupMode, size: int = 3) -> JobGroup:
    group, _ = create_group(
        stores, GroupCreate(mode=mode, jobs=[GroupJobSpec(template_id=template)] * size)
    )
    return group


def _after(stores: Stores, template: str) -> str:
    return enqueue(stores, JobCreate(template_id=template))[0].job_id


def _statuses(stores: Stores, group: JobGroup) -> list[JobStatus]:
    return [stores.jobs.get(job_id).status for job_id in group.job_ids]


def _unit(claim: Claim | None) -> str:
    assert claim is not None
    return claim.job.job_id if claim.job is not None else claim.unit_id


def test_a_held_parallel_group_is_passed_over_and_starts_once_released(
    dispatcher: Dispatcher, wired: Stores, template: str, edges: Edges
) -> None:
    group = _group(wired, template, GroupMode.PARALLEL)
    after = _after(wired, template)
    held, jobs = hold_group(wired, group.group_id, "until the prices land", ALICE)
    assert held.hold is not None
    assert (held.hold.note, held.hold.held_by, held.hold.held_by_name) == (
        "until the prices land",
        "key1",
        "alice",
    )
    assert held.status == GroupStatus.QUEUED
    assert [job.status for job in jobs] == [JobStatus.HELD] * 3
    assert all(job.hold == held.hold for job in jobs)
    entries, _, _ = view_queue(wired, 200, None)
    listed = [(entry.job_id, entry.hold is not None) for _, entry in entries]
    assert listed == [*((job_id, True) for job_id in group.job_ids), (after, False)]

    claim = dispatcher.claim()
    assert _unit(claim) == after  # the group, ahead of it, is passed over as a whole
    assert claim is not None
    kicks = edges.kicks
    released, jobs = release_group(wired, group.group_id)
    assert released.hold is None
    assert [job.status for job in jobs] == [JobStatus.QUEUED] * 3
    assert edges.kicks == kicks + 1
    following = dispatcher.finish(claim, OK)
    assert following is not None
    assert (following.kind, following.unit_id) == (UnitKind.GROUP, group.group_id)


def test_a_marked_parallel_group_does_not_start_while_its_jobs_are_still_queued(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    """The window of a group hold between its mark and its jobs' holds: StartGroup fails."""
    group = _group(wired, template, GroupMode.PARALLEL)
    after = _after(wired, template)
    assert wired.groups.hold(group.group_id, Hold(note="marked"), {GroupStatus.QUEUED})
    assert _unit(dispatcher.claim()) == after
    assert wired.groups.get(group.group_id).status == GroupStatus.QUEUED
    assert _statuses(wired, group) == [JobStatus.QUEUED] * 3


def test_a_held_sequential_group_runs_its_running_job_on_and_holds_the_rest(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    group = _group(wired, template, GroupMode.SEQUENTIAL)
    after = _after(wired, template)
    first = dispatcher.claim()
    assert _unit(first) == group.job_ids[0]
    assert first is not None

    held, jobs = hold_group(wired, group.group_id, None, ALICE)
    assert held.hold is not None
    assert held.status == GroupStatus.RUNNING
    assert [job.status for job in jobs] == [JobStatus.RUNNING, JobStatus.HELD, JobStatus.HELD]
    following = dispatcher.finish(first, OK)  # the group's next turn is held: the queue moves
    assert _unit(following) == after
    assert following is not None

    release_group(wired, group.group_id)
    assert _unit(dispatcher.finish(following, OK)) == group.job_ids[1]


def test_group_hold_and_release_refuse_what_they_cannot_do(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    group = _group(wired, template, GroupMode.PARALLEL)
    with pytest.raises(ConflictError, match="has no held job to release"):
        release_group(wired, group.group_id)
    hold_group(wired, group.group_id, None, ALICE)
    with pytest.raises(ConflictError, match="has no queued job to hold"):
        hold_group(wired, group.group_id, None, ALICE)
    release_group(wired, group.group_id)
    assert dispatcher.claim() is not None  # the group starts
    with pytest.raises(ConflictError, match="is running; a parallel group can be held only"):
        hold_group(wired, group.group_id, None, ALICE)
    ended = _group(wired, template, GroupMode.SEQUENTIAL, size=1)
    cancel_group(wired, ended.group_id)
    with pytest.raises(ConflictError, match="is cancelled"):
        hold_group(wired, ended.group_id, None, ALICE)
    with pytest.raises(NotFoundError):
        hold_group(wired, "grp_missing", None, ALICE)
    with pytest.raises(NotFoundError):
        release_group(wired, "grp_missing")


def test_a_group_hold_or_release_cut_short_is_finished_by_the_same_call_again(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    group = _group(wired, template, GroupMode.PARALLEL)
    first, *rest = group.job_ids
    mark = Hold(note="cut short")
    # A hold that died after the mark and one job's hold:
    assert wired.groups.hold(group.group_id, mark, {GroupStatus.QUEUED})
    wired.jobs.hold(first, mark)
    held, jobs = hold_group(wired, group.group_id, "again", ALICE)
    assert [job.status for job in jobs] == [JobStatus.HELD] * 3
    assert held.hold is not None
    assert held.hold.note == "again"
    # A release that died after releasing every job, before the mark:
    for job_id in group.job_ids:
        wired.jobs.release(job_id)
    assert dispatcher.claim() is None  # the mark alone keeps the group from starting
    released, jobs = release_group(wired, group.group_id)
    assert released.hold is None
    assert [job.status for job in jobs] == [JobStatus.QUEUED] * 3
    assert rest == group.job_ids[1:]
    assert _unit(dispatcher.claim()) == group.group_id


@pytest.mark.usefixtures("atomic_store")
def test_a_group_hold_racing_its_claim_has_exactly_one_winner(wired: Stores, template: str) -> None:
    for _ in range(4):
        group = _group(wired, template, GroupMode.PARALLEL)
        barrier = threading.Barrier(2)

        def claim(barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            # A slot a turn: a group started in an earlier turn keeps its own.
            config = DispatchConfig(slots=4)
            return Dispatcher(wired, wired.dispatch, config).claim() is not None

        def hold(barrier: threading.Barrier = barrier, group_id: str = group.group_id) -> bool:
            barrier.wait()
            try:
                hold_group(wired, group_id, None, ALICE)
            except ConflictError:
                return False
            return True

        with ThreadPoolExecutor(2) as pool:
            claimed, held = pool.submit(claim), pool.submit(hold)
            won = (claimed.result(), held.result())
        now = wired.groups.get(group.group_id)
        assert won in ((True, False), (False, True))
        if won[0]:  # started: the hold took nothing, its jobs start under its slot
            assert (now.status, now.hold) == (GroupStatus.RUNNING, None)
            assert _statuses(wired, group) == [JobStatus.QUEUED] * 3
        else:
            assert now.status == GroupStatus.QUEUED
            assert now.hold is not None
            assert _statuses(wired, group) == [JobStatus.HELD] * 3
        cancel_group(wired, group.group_id)  # out of the next turn's way
