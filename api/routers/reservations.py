"""/reservations: next-slot reservations (the spec's direct APIs) and their outcomes.

Creating one over HTTP comes with the direct endpoints; here a client reads what became of it.
"""

from fastapi import APIRouter

from api.deps import CanRead, PathId, StoresDep
from api.schemas import ReservationOut
from jobsched.jobs.reservations import get_reservation

router = APIRouter(prefix="/reservations", tags=["reservations"])


@router.get("/{reservation_id}", dependencies=[CanRead])
def read_reservation(stores: StoresDep, reservation_id: PathId) -> ReservationOut:
    """Status (pending, running, completed, failed), result, artifacts, log path and times."""
    return ReservationOut.of(get_reservation(stores, reservation_id))
