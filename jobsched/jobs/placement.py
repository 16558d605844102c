"""Where a job goes in the queue: the end of its priority band, or an explicit place."""

from jobsched.models import utcnow
from jobsched.ports import QueueStore
from jobsched.ranks import QueueRank, rank_at_end, rank_between


def end_of_band(band: str, job_id: str) -> QueueRank:
    """No read: the time orders appends (see ranks.append_frac)."""
    return rank_at_end(band, job_id, utcnow())


def at_position(queue: QueueStore, own_band: str, position: int, job_id: str) -> QueueRank:
    """The rank that puts the job at `position` (1-based) of the queue as it is now.

    Reads the first `position` places in one query; a position past the end means the end.
    """
    others = [rank for rank in queue.head(position + 1) if rank.job_id != job_id][:position]
    if position - 1 < len(others):
        before = others[position - 2] if position >= 2 else None
        after: QueueRank | None = others[position - 1]
        return rank_between(own_band, before, after, job_id, "next")
    before = others[-1] if others else None
    return rank_between(own_band, before, None, job_id, "previous")


def before_job(queue: QueueStore, own_band: str, target: QueueRank, job_id: str) -> QueueRank:
    previous = queue.neighbour(target, "previous", skip=job_id)
    return rank_between(own_band, previous, target, job_id, "next")


def after_job(queue: QueueStore, own_band: str, target: QueueRank, job_id: str) -> QueueRank:
    following = queue.neighbour(target, "next", skip=job_id)
    return rank_between(own_band, target, following, job_id, "previous")
