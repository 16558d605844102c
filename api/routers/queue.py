"""/queue: the ordered queue, moves, priorities, reorder, statistics, pause and resume."""

from fastapi import APIRouter

from api.deps import (
    DEFAULT_LIMIT,
    AdminKey,
    CanRead,
    CanWrite,
    Cursor,
    Limit,
    PathId,
    SlotsDep,
    StoresDep,
)
from api.schemas import (
    EtaOut,
    JobOut,
    MovedJobOut,
    PageOut,
    PreviewItemOut,
    PreviewOut,
    QueuedReservationOut,
    QueueItemOut,
    QueueOut,
    QueueStateOut,
    QueueStatsOut,
    UsageTotalsOut,
)
from jobsched.foresight.estimates import queue_etas
from jobsched.foresight.preview import PreviewRequest, preview
from jobsched.jobs import queue as use
from jobsched.jobs.jobs import get_job
from jobsched.jobs.usage import last_day_usage
from jobsched.priority import display_priority

router = APIRouter(prefix="/queue", tags=["queue"])


@router.get("", dependencies=[CanRead])
def view_queue(
    stores: StoresDep, slots: SlotsDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> QueueOut:
    """Queued jobs in dispatch order: priority, then position, each with its ETA. The first
    page also lists the pending next-slot reservations, which run before every queued job."""
    entries, next_cursor, state = use.view_queue(stores, limit, cursor)
    pending = stores.queue.reservations()  # ahead of every page's ETAs; listed on the first
    etas = queue_etas(stores, slots, entries, pending, state)
    items = [
        QueueItemOut.of(position, entry, etas.get(entry.job_id)) for position, entry in entries
    ]
    reservations = pending if cursor is None else []
    return QueueOut(
        items=items,
        next_cursor=next_cursor,
        paused=state.paused,
        state=QueueStateOut.model_validate(state.model_dump()),
        reservations=[QueuedReservationOut.of(r, etas.get(r.job_id)) for r in reservations],
    )


@router.post("/preview", dependencies=[CanRead])
def preview_change(stores: StoresDep, slots: SlotsDep, body: PreviewRequest) -> PreviewOut:
    """What one change would do, writing nothing: `move`, `priority`, `reorder` (the bodies of
    those operations, with `job_id`), `new_job` (a job's create body), `cancel` or `hold`
    ({"job_id"}). Answers the queue's first 100 places after the change, each with its place
    and ETA after and today, and which jobs the change affects. Refused as the change itself
    would be (404 unknown job, 409 not queued, 422 bad input)."""
    rows = preview(stores, slots, body)
    items = [
        PreviewItemOut(
            job_id=row.job_id,
            template_id=row.entry.template_id,
            priority=display_priority(row.entry.priority),
            position=row.position,
            position_now=row.position_now,
            eta=EtaOut.of(row.eta),
            eta_now=EtaOut.of(row.eta_now),
            affected=row.affected,
        )
        for row in rows
    ]
    return PreviewOut(items=items, affected=[row.job_id for row in rows if row.affected])


@router.get("/stats", dependencies=[CanRead])
def queue_stats(stores: StoresDep) -> QueueStatsOut:
    stats = use.queue_stats(stores)
    return QueueStatsOut(
        **stats.model_dump(),
        queued=sum(stats.queued_by_template.values()),
        usage_last_24h=UsageTotalsOut.of(last_day_usage(stores)),
    )


@router.post("/reorder", dependencies=[CanWrite])
def reorder(stores: StoresDep, body: use.ReorderRequest) -> PageOut[MovedJobOut]:
    """Give these queued jobs this relative order; they swap the places they hold. A job that
    lands among jobs of another priority takes theirs, and its `note` says so."""
    placements = use.reorder(stores, body.job_ids)
    return PageOut(items=[MovedJobOut.of_placement(stores, placement) for placement in placements])


@router.post("/pause")
def pause(stores: StoresDep, key: AdminKey, body: use.QueueNote | None = None) -> QueueStateOut:
    """Dispatch stops (running jobs go on); enqueue continues. Kept until resume. An optional
    `note` says why; it is shown with the queue's state, with the key that paused it."""
    state = use.pause(stores, body.note if body else None, key.key_id)
    return QueueStateOut.model_validate(state.model_dump())


@router.post("/resume")
def resume(stores: StoresDep, key: AdminKey, body: use.QueueNote | None = None) -> QueueStateOut:
    state = use.resume(stores, body.note if body else None, key.key_id)
    return QueueStateOut.model_validate(state.model_dump())


@router.post("/{job_id}/priority", dependencies=[CanWrite])
def set_priority(stores: StoresDep, job_id: PathId, body: use.PriorityRequest) -> JobOut:
    """The job goes to the end of its new priority's band."""
    use.set_priority(stores, job_id, body.priority)
    return JobOut.of(get_job(stores, job_id))


@router.post("/{job_id}/move", dependencies=[CanWrite])
def move(stores: StoresDep, job_id: PathId, body: use.MoveRequest) -> MovedJobOut:
    """{"position": n} (1-based), {"before": job_id} or {"after": job_id}. The job goes exactly
    there; when that place lies among jobs of another priority, the job takes that priority
    (the queue runs priority first, then position) and `note` says so."""
    return MovedJobOut.of_placement(stores, use.place_job(stores, job_id, body))
