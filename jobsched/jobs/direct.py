"""The direct APIs (POST /story/generate, POST /research/run) over next-slot reservations.

They create no Job: a reservation runs right after the current unit, before the queue, and
never pre-empts (reservations.py). The caller waits for its outcome, but only
so long: API Gateway cuts a request at 30 s, so after the wait the call answers with where to
poll instead (the HTTP edge turns that into 202 + Location + Retry-After).
"""

import re
import time
from collections.abc import Callable
from typing import Any

from jobsched.jobs.reservations import get_reservation, reserve_once
from jobsched.models import Reservation, ReservationStatus
from jobsched.ports import Stores

FIRST_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 1.0
_WAIT = re.compile(r"(?:^|[;,\s])wait\s*=\s*\"?(\d{1,6})\"?", re.IGNORECASE)


def preferred_wait(prefer: str | None, default: float, most: float) -> tuple[float, bool]:
    """The wait a `Prefer: wait=N` header asks for (RFC 7240), capped at `most`; without
    one, `default`. Returns (seconds, whether the preference was applied)."""
    if prefer:
        match = _WAIT.search(prefer)
        if match:
            return min(float(match.group(1)), most), True
    return min(default, most), False


def wait_left(
    wait: float,
    *,
    waited: float,
    invocation_left: float | None,
    margin: float,
) -> float:
    """How long the handler may still wait, counted from the request's arrival: the wait less
    what `waited` already (a cold start, the gateway's hop) and the `margin` kept to read the
    outcome and answer; never past the end of the invocation (`invocation_left`, Lambda's
    remaining time) less the margin. Never negative: a budget already spent answers at once."""
    left = wait - max(waited, 0.0) - margin
    if invocation_left is not None:
        left = min(left, invocation_left - margin)
    return max(left, 0.0)


def ended(reservation: Reservation) -> bool:
    return reservation.status in (ReservationStatus.COMPLETED, ReservationStatus.FAILED)


def run_direct(
    stores: Stores,
    template_id: str,
    params: dict[str, Any],
    wait_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    idempotency_key: str | None = None,
) -> tuple[Reservation, bool]:
    """Reserve the next slot and wait up to `wait_seconds` for the outcome; returns the
    reservation as it is then (ended, or still pending or running) and whether this call made
    it. A retry with the call's Idempotency-Key waits on the reservation the first made."""
    deadline = clock() + wait_seconds  # before the reservation's writes: they take time too
    reservation, created = reserve_once(stores, template_id, params, idempotency_key)
    if ended(reservation):
        return reservation, created
    pause = FIRST_POLL_SECONDS
    while (left := deadline - clock()) > 0:
        sleep(min(pause, left))
        reservation = get_reservation(stores, reservation.reservation_id)
        if ended(reservation):
            return reservation, created
        pause = min(pause * 2, MAX_POLL_SECONDS)
    return reservation, created
