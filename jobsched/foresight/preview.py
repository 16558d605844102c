"""What-if: the queue's order and ETAs if a change were made, beside today's; nothing written.

The change is planned with the same reads the real operation makes (the placement of a move,
the places of a reorder), applied to the queue's head in memory, and both orders estimated with
the same seed, so what differs between the two ETAs of a job is the change, not the draw.
"""

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, Field

from jobsched.constants import MAX_ID_LENGTH, MAX_POSITION
from jobsched.errors import ConflictError
from jobsched.foresight.estimates import Context, Eta, estimate_order
from jobsched.jobs.jobs import JobCreate, planned_job, require_one_of
from jobsched.jobs.queue import (
    MoveRequest,
    PriorityRequest,
    ReorderRequest,
    plan_placement,
    plan_priority,
    plan_reorder,
    queued_rank,
)
from jobsched.models import REQUEST_CONFIG, Hold, QueueEntry, exactly_one_of
from jobsched.params import JsonObject
from jobsched.ports import Stores
from jobsched.priority import DEFAULT_PRIORITY, PriorityInput
from jobsched.ranks import QueueRank

PREVIEW_PLACES = 100  # the head of the queue a preview reads and answers
NEW_JOB = "new"  # the id a proposed new job is shown under

JobId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]


class MoveChange(MoveRequest):
    job_id: JobId


class PriorityChange(PriorityRequest):
    job_id: JobId


class JobChange(BaseModel):
    model_config = REQUEST_CONFIG

    job_id: JobId


class NewJob(BaseModel):
    """A create's body, less what a preview cannot place (a group's order is its own)."""

    model_config = REQUEST_CONFIG

    template_id: str = Field(min_length=1, max_length=64)
    params: JsonObject = Field(default_factory=dict)
    priority: PriorityInput = DEFAULT_PRIORITY
    position: int | None = Field(
        default=None, ge=1, le=MAX_POSITION, description="1-based place in the queue"
    )

    def create(self) -> JobCreate:
        return JobCreate.model_validate(self.model_dump(exclude_unset=True))


class PreviewRequest(BaseModel):
    """One proposed change, as the operation it previews would take it."""

    model_config = exactly_one_of("move", "priority", "reorder", "new_job", "cancel", "hold")

    move: MoveChange | None = None
    priority: PriorityChange | None = None
    reorder: ReorderRequest | None = None
    new_job: NewJob | None = None
    cancel: JobChange | None = None
    hold: JobChange | None = None


@dataclass(frozen=True)
class PreviewRow:
    job_id: str
    position: int | None  # None: it leaves the queue (cancelled)
    position_now: int | None  # None: not in the queue today (a new job)
    entry: QueueEntry
    eta: Eta | None
    eta_now: Eta | None

    @property
    def affected(self) -> bool:
        return self.position != self.position_now or self.eta != self.eta_now


def preview(stores: Stores, slots: int, change: PreviewRequest) -> list[PreviewRow]:
    """The queue's first PREVIEW_PLACES places after the change, with each job's ETA after and
    now (a cancelled job is listed last, with no place after)."""
    head = [entry for _, entry in stores.queue.page(PREVIEW_PLACES, None)[0]]
    proposed = _apply(stores, head, change)
    reservations = stores.queue.reservations()
    context = Context(stores, slots)
    now = estimate_order(context, reservations, head)
    after = estimate_order(context, reservations, proposed)
    places_now = {entry.job_id: index + 1 for index, entry in enumerate(head)}
    rows = [
        PreviewRow(
            entry.job_id,
            index + 1,
            places_now.get(entry.job_id),
            entry,
            after.get(entry.job_id),
            now.get(entry.job_id),
        )
        for index, entry in enumerate(proposed[:PREVIEW_PLACES])
    ]
    kept = {entry.job_id for entry in proposed}
    rows += [
        PreviewRow(e.job_id, None, places_now[e.job_id], e, None, now.get(e.job_id))
        for e in head
        if e.job_id not in kept
    ]
    return rows


def _apply(stores: Stores, head: list[QueueEntry], change: PreviewRequest) -> list[QueueEntry]:
    require_one_of(**{name: getattr(change, name) for name in PreviewRequest.model_fields})
    entries = {entry.job_id: entry for entry in head}
    if change.move is not None:
        placement = plan_placement(stores, change.move.job_id, change.move)
        _rank(stores, entries, placement.after)
    elif change.priority is not None:
        placement = plan_priority(stores, change.priority.job_id, change.priority.priority)
        if placement.after != placement.before:
            _rank(stores, entries, placement.after)
    elif change.reorder is not None:
        for placement in plan_reorder(stores, change.reorder.job_ids):
            _rank(stores, entries, placement.after)
    elif change.new_job is not None:
        job = planned_job(stores, change.new_job.create())
        assert job.rank is not None
        entry = QueueEntry.of_job(job, QueueRank.parse(job.rank))
        entries[job.job_id] = entry.model_copy(update={"job_id": NEW_JOB})
    elif change.cancel is not None:
        _entry(stores, entries, change.cancel.job_id)
        entries.pop(change.cancel.job_id)
    elif change.hold is not None:
        entry = _entry(stores, entries, change.hold.job_id)
        if entry.hold is not None:
            raise ConflictError(f"job {entry.job_id!r} is held already")
        entries[entry.job_id] = entry.model_copy(update={"hold": Hold(note="(preview)")})
    return sorted(entries.values(), key=lambda entry: entry.rank)


def _entry(stores: Stores, entries: dict[str, QueueEntry], job_id: str) -> QueueEntry:
    """The queued job's place, read when it lies past the head (404/409 as its operation)."""
    if job_id not in entries:
        queued_rank(stores, job_id)
        entry = stores.dispatch.entry(job_id)
        if entry is None:
            raise ConflictError(f"job {job_id!r} is no longer queued")
        entries[job_id] = entry
    return entries[job_id]


def _rank(stores: Stores, entries: dict[str, QueueEntry], rank: QueueRank) -> None:
    entry = _entry(stores, entries, rank.job_id)
    entries[rank.job_id] = entry.model_copy(update={"rank": rank.key, "priority": rank.priority})
