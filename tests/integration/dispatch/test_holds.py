"""Hold and release over both stores: a held job keeps its place, is passed over, is claimed
once released; holds never starve the rest of the queue; a hold racing a claim has one winner."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from jobsched.dispatch.dispatcher import HEAD_WINDOW, DispatchConfig, Dispatcher
from jobsched.errors import ConflictError, NotFoundError
from jobsched.jobs.holds import Holder, hold_job, release_job
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue, get_job
from jobsched.jobs.queue import MoveRequest, move_job, queue_stats, view_queue
from jobsched.models import JobStatus
from jobsched.models.units import Outcome
from jobsched.ports import JobFilter, Stores
from tests.support.dispatch import Edges

OK = Outcome(exit_code=0)
ALICE = Holder("key1", "alice")


def _enqueue(stores: Stores, template: str, count: int) -> list[str]:
    return [enqueue(stores, JobCreate(template_id=template))[0].job_id for _ in range(count)]


def _listed(stores: Stores) -> list[tuple[str, bool]]:
    entries, _, _ = view_queue(stores, 200, None)
    return [(entry.job_id, entry.hold is not None) for _, entry in entries]


def test_a_held_job_keeps_its_place_and_is_passed_over(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    first, second, third = _enqueue(wired, template, 3)
    held = hold_job(wired, first, "waiting for the data", ALICE)
    assert held.status == JobStatus.HELD
    assert held.hold is not None
    assert (held.hold.note, held.hold.held_by, held.hold.held_by_name) == (
        "waiting for the data",
        "key1",
        "alice",
    )
    assert _listed(wired) == [(first, True), (second, False), (third, False)]
    view = get_job(wired, first)
    assert view.queue_position == 1
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.job_id == second
    assert wired.jobs.get(first).status == JobStatus.HELD


def test_a_released_job_is_claimed_at_the_place_it_kept(
    dispatcher: Dispatcher, wired: Stores, template: str, edges: Edges
) -> None:
    first, second = _enqueue(wired, template, 2)
    hold_job(wired, first, None, ALICE)
    kicks = edges.kicks
    released = release_job(wired, first)
    assert released.status == JobStatus.QUEUED
    assert released.hold is None
    assert edges.kicks == kicks + 1  # a free slot takes it
    assert _listed(wired) == [(first, False), (second, False)]
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.job_id == first


def test_more_held_jobs_than_the_claim_reads_do_not_starve_the_queue(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    held = _enqueue(wired, template, HEAD_WINDOW + 2)
    [waiting] = _enqueue(wired, template, 1)
    for job_id in held:
        hold_job(wired, job_id, None, ALICE)
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.job_id == waiting
    assert get_job(wired, waiting).job.status == JobStatus.RUNNING
    assert [job_id for job_id, _ in _listed(wired)] == held


def test_a_held_job_can_be_moved_and_cancelled(wired: Stores, template: str) -> None:
    first, second, third = _enqueue(wired, template, 3)
    hold_job(wired, third, None, ALICE)
    move_job(wired, third, MoveRequest(position=1))
    assert _listed(wired) == [(third, True), (first, False), (second, False)]
    assert wired.jobs.get(third).status == JobStatus.HELD
    cancelled = cancel_job(wired, third)
    assert cancelled.status == JobStatus.CANCELLED
    assert _listed(wired) == [(first, False), (second, False)]


def test_held_jobs_are_counted_and_filtered(wired: Stores, template: str) -> None:
    first, _ = _enqueue(wired, template, 2)
    hold_job(wired, first, None, ALICE)
    stats = queue_stats(wired)
    assert stats.counts_by_status["held"] == 1
    assert stats.counts_by_status["queued"] == 1
    assert sum(stats.queued_by_template.values()) == 2  # held ones wait in the queue too
    page = wired.jobs.list_page(JobFilter(status=JobStatus.HELD), 10, None)
    assert [job.job_id for job in page.items] == [first]


def test_hold_and_release_refuse_the_wrong_status(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    running, queued = _enqueue(wired, template, 2)
    assert dispatcher.claim() is not None
    with pytest.raises(ConflictError, match="is running; only a queued job can be held"):
        hold_job(wired, running, None, ALICE)
    with pytest.raises(ConflictError, match="is queued; only a held job can be released"):
        release_job(wired, queued)
    hold_job(wired, queued, None, ALICE)
    with pytest.raises(ConflictError, match="is held; only a queued job can be held"):
        hold_job(wired, queued, None, ALICE)
    with pytest.raises(NotFoundError):
        hold_job(wired, "job_missing", None, ALICE)
    with pytest.raises(NotFoundError):
        release_job(wired, "job_missing")


@pytest.mark.usefixtures("atomic_store")
def test_a_hold_racing_a_claim_has_exactly_one_winner(wired: Stores, template: str) -> None:
    for _ in range(4):
        [job_id] = _enqueue(wired, template, 1)
        barrier = threading.Barrier(2)

        def claim(barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            # A slot a turn: a job claimed in an earlier turn keeps its own.
            config = DispatchConfig(slots=4)
            return Dispatcher(wired, wired.dispatch, config).claim() is not None

        def hold(barrier: threading.Barrier = barrier, job_id: str = job_id) -> bool:
            barrier.wait()
            try:
                hold_job(wired, job_id, None, ALICE)
            except ConflictError:
                return False
            return True

        with ThreadPoolExecutor(2) as pool:
            claimed, held = pool.submit(claim), pool.submit(hold)
            won = (claimed.result(), held.result())
        status = wired.jobs.get(job_id).status
        assert won in ((True, False), (False, True))
        assert status == (JobStatus.RUNNING if won[0] else JobStatus.HELD)
        if not won[0]:
            cancel_job(wired, job_id)  # out of the next turn's way
