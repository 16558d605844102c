"""/reservations: next-slot reservations (the spec's direct APIs) and their outcomes.

Creating one over HTTP comes with the direct endpoints; here a client reads what became of it.
"""

from fastapi import APIRouter

from api.deps import CanRead, Cursor, LogLimit, PathId, SlotsDep, StoresDep
from api.schemas import ReservationOut, RunLogsOut
from jobsched.constants import DEFAULT_LOG_LINES
from jobsched.foresight.estimates import reservation_eta
from jobsched.jobs.reservations import get_reservation
from jobsched.jobs.runs import reservation_logs

router = APIRouter(prefix="/reservations", tags=["reservations"])


@router.get("/{reservation_id}", dependencies=[CanRead])
def read_reservation(stores: StoresDep, slots: SlotsDep, reservation_id: PathId) -> ReservationOut:
    """Status (pending, running, completed, failed), result, artifacts, log path, times, and
    the ETA while it waits or runs."""
    reservation = get_reservation(stores, reservation_id)
    return ReservationOut.of(reservation, reservation_eta(stores, slots, reservation))


@router.get("/{reservation_id}/logs", dependencies=[CanRead])
def read_reservation_logs(
    stores: StoresDep,
    reservation_id: PathId,
    limit: LogLimit = DEFAULT_LOG_LINES,
    cursor: Cursor = None,
) -> RunLogsOut:
    """The reservation's log lines from `cursor` on, as GET /runs/{id}/logs reads a run's."""
    lines, next_cursor = reservation_logs(stores, reservation_id, cursor, limit)
    return RunLogsOut(lines=lines, next_cursor=next_cursor)
