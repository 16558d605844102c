"""positions_of: a page's positions counted together agree with one count each, whatever the
order asked, repeats, other bands and gaps left by jobs that left the queue."""

from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue, list_jobs
from jobsched.ports import JobFilter, Stores
from jobsched.ranks import QueueRank


def _rank(stores: Stores, job_id: str) -> QueueRank:
    rank = stores.queue.rank_of(job_id)
    assert rank is not None
    return rank


def test_positions_of_a_page_agree_with_one_count_each(stores: Stores, echo_template: str) -> None:
    ids = [enqueue(stores, JobCreate(template_id=echo_template))[0].job_id for _ in range(8)]
    urgent = enqueue(stores, JobCreate(template_id=echo_template, priority=90))[0].job_id
    cancel_job(stores, ids[2])
    queued = [urgent, *ids[:2], *ids[3:]]
    asked = [_rank(stores, job_id) for job_id in reversed(queued)]
    asked.append(asked[0])  # a repeat

    positions = stores.queue.positions_of(asked)

    assert positions == [stores.queue.position_of(rank) for rank in asked]
    assert positions == [*range(len(queued), 0, -1), len(queued)]
    assert stores.queue.positions_of([]) == []


def test_a_listed_page_shows_each_queued_jobs_position(stores: Stores, echo_template: str) -> None:
    ids = [enqueue(stores, JobCreate(template_id=echo_template))[0].job_id for _ in range(5)]
    cancel_job(stores, ids[0])

    views, _ = list_jobs(stores, JobFilter(), 10, None)

    shown = {view.job.job_id: view.queue_position for view in views}
    assert shown == {ids[0]: None, ids[1]: 1, ids[2]: 2, ids[3]: 3, ids[4]: 4}
