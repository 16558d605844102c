"""The queue: view, move, re-prioritise, reorder, statistics, pause and resume."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from jobsched.constants import MAX_ID_LENGTH, MAX_NOTE_LENGTH, MAX_POSITION, MAX_REORDER_JOBS
from jobsched.errors import ConflictError, ValidationFailedError
from jobsched.jobs.jobs import require_one_of
from jobsched.jobs.placement import after_job, at_position, before_job, end_of_band
from jobsched.models import (
    REQUEST_CONFIG,
    Job,
    JobStatus,
    QueueEntry,
    QueueState,
    QueueStats,
    RunStatus,
    exactly_one_of,
    utcnow,
)
from jobsched.ports import JobFilter, Stores
from jobsched.priority import PriorityInput, display_priority
from jobsched.ranks import QueueRank, band_of

JobId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]


class MoveRequest(BaseModel):
    model_config = exactly_one_of("position", "before", "after")

    position: int | None = Field(
        default=None, ge=1, le=MAX_POSITION, description="1-based place in the queue"
    )
    before: JobId | None = Field(default=None, description="a queued job to go in front of")
    after: JobId | None = Field(default=None, description="a queued job to go behind")


class PriorityRequest(BaseModel):
    model_config = REQUEST_CONFIG

    priority: PriorityInput


JobIds = Annotated[
    list[JobId],
    Field(min_length=1, max_length=MAX_REORDER_JOBS, json_schema_extra={"uniqueItems": True}),
]


class ReorderRequest(BaseModel):
    model_config = REQUEST_CONFIG

    job_ids: JobIds = Field(description="the new relative order of these queued jobs")


def queued_rank(stores: Stores, job_id: str) -> QueueRank:
    """The job's queue rank; 404 for an unknown job, 409 for one no longer queued."""
    rank = stores.queue.rank_of(job_id)
    if rank is None:
        job = stores.jobs.get(job_id)  # raises NotFoundError
        raise ConflictError(f"job {job_id!r} is {job.status}; only queued jobs have a place")
    return rank


@dataclass(frozen=True)
class Placement:
    """Where a job was and where it went: a move into another band changes its priority."""

    before: QueueRank
    after: QueueRank

    @property
    def note(self) -> str | None:
        """Said in the answer whenever the place asked for changed the job's priority."""
        if self.before.band == self.after.band:
            return None
        old, new = display_priority(self.before.priority), display_priority(self.after.priority)
        return (
            f"priority {old} -> {new}: the place asked for lies among {new} jobs, and the queue "
            "runs priority first, then position"
        )


def move_job(stores: Stores, job_id: str, request: MoveRequest) -> QueueRank:
    """Put a job at a position, or before/after another queued job: one job's items written."""
    return place_job(stores, job_id, request).after


def place_job(stores: Stores, job_id: str, request: MoveRequest) -> Placement:
    """move_job, saying where the job was too."""
    placement = plan_placement(stores, job_id, request)
    if placement.after != placement.before:
        stores.jobs.rerank([placement.after])
    return placement


def plan_placement(stores: Stores, job_id: str, request: MoveRequest) -> Placement:
    """Where a move would put the job, writing nothing (a move, and its preview)."""
    how = require_one_of(position=request.position, before=request.before, after=request.after)
    if job_id in (request.before, request.after):
        raise ValidationFailedError.on(how, "a job cannot be placed relative to itself")
    rank = queued_rank(stores, job_id)
    if how == "position":
        assert request.position is not None
        new_rank = at_position(stores.queue, rank.band, request.position, job_id)
    elif how == "before":
        assert request.before is not None
        new_rank = before_job(stores.queue, rank.band, queued_rank(stores, request.before), job_id)
    else:
        assert request.after is not None
        new_rank = after_job(stores.queue, rank.band, queued_rank(stores, request.after), job_id)
    return Placement(rank, new_rank)


def set_priority(stores: Stores, job_id: str, priority: int) -> QueueRank:
    """A new priority puts the job at the end of that priority's band; the same one is a no-op."""
    placement = plan_priority(stores, job_id, priority)
    if placement.after != placement.before:
        stores.jobs.rerank([placement.after])
    return placement.after


def plan_priority(stores: Stores, job_id: str, priority: int) -> Placement:
    """Where a new priority would put the job, writing nothing (set_priority, and its preview)."""
    rank = queued_rank(stores, job_id)
    band = band_of(priority)
    return Placement(rank, rank if band == rank.band else end_of_band(band, job_id))


def reorder(stores: Stores, job_ids: list[str]) -> list[Placement]:
    """Permute the given jobs among the places they hold; every other job keeps its place.

    A job that lands in a place of another priority band takes that band's priority.
    """
    placements = plan_reorder(stores, job_ids)
    changed = [p.after for p in placements if p.after != p.before]
    if changed:
        stores.jobs.rerank(changed)
    return placements


def plan_reorder(stores: Stores, job_ids: list[str]) -> list[Placement]:
    """The places a reorder would give, writing nothing (a reorder, and its preview)."""
    if len(set(job_ids)) != len(job_ids):
        raise ValidationFailedError.on("job_ids", "lists a job more than once")
    places = sorted(queued_rank(stores, job_id) for job_id in job_ids)
    new_ranks = [
        QueueRank(place.band, place.frac, job_id)
        for place, job_id in zip(places, job_ids, strict=True)
    ]
    held = {place.job_id: place for place in places}
    return [Placement(held[rank.job_id], rank) for rank in new_ranks]


def view_queue(
    stores: Stores, limit: int, cursor: str | None
) -> tuple[list[tuple[int, QueueEntry]], str | None, QueueState]:
    entries, next_cursor = stores.queue.page(limit, cursor)
    return entries, next_cursor, stores.queue.state()


def queue_stats(stores: Stores) -> QueueStats:
    by_template: dict[str, int] = {}
    oldest: datetime | None = None
    for entry in stores.queue.entries():
        by_template[entry.template_id] = by_template.get(entry.template_id, 0) + 1
        oldest = entry.created_at if oldest is None else min(oldest, entry.created_at)
    counts = {status.value: stores.jobs.count(status) for status in JobStatus}
    running = _all_running(stores)
    state = stores.queue.state()
    return QueueStats(
        counts_by_status=counts,
        queued_by_template=by_template,
        oldest_queued_at=oldest,
        oldest_wait_seconds=(utcnow() - oldest).total_seconds() if oldest else None,
        running=[job.job_id for job in running],
        paused=state.paused,
        state=state,
        skipped_fires=stores.runs.count(RunStatus.SKIPPED),
        rejected_runs=stores.runs.count(RunStatus.REJECTED),
    )


def _all_running(stores: Stores) -> list[Job]:
    running: list[Job] = []
    cursor: str | None = None
    while True:
        page = stores.jobs.list_page(JobFilter(status=JobStatus.RUNNING), 200, cursor)
        running.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return running


class QueueNote(BaseModel):
    """Why the queue is paused (or resumed), kept with its state for everyone to see."""

    model_config = REQUEST_CONFIG

    note: str | None = Field(default=None, max_length=MAX_NOTE_LENGTH)


def pause(stores: Stores, note: str | None = None, by: str | None = None) -> QueueState:
    return stores.queue.set_state(
        QueueState(paused=True, changed_at=utcnow(), changed_by=by, note=note)
    )


def resume(stores: Stores, note: str | None = None, by: str | None = None) -> QueueState:
    state = stores.queue.set_state(
        QueueState(paused=False, changed_at=utcnow(), changed_by=by, note=note)
    )
    stores.kicker.kick()
    return state
