"""Next-slot reservations (the spec's direct APIs): not jobs; they run right after the current
unit, before the queue, in the order they arrived, and never pre-empt."""

from typing import Any

from pydantic import BaseModel, Field

from jobsched.errors import IdempotencyKeyTakenError
from jobsched.ids import new_id
from jobsched.jobs.idempotency import Operation, earlier, request_hash
from jobsched.jobs.jobs import template_for_new_jobs
from jobsched.models import REQUEST_CONFIG, Reservation
from jobsched.params import JsonObject, merge_params
from jobsched.ports import IdempotencyClaim, Stores
from jobsched.ranks import RESERVATION_BAND, QueueRank, append_frac


class ReservationCreate(BaseModel):
    model_config = REQUEST_CONFIG

    template_id: str = Field(min_length=1, max_length=64)
    params: JsonObject = Field(default_factory=dict)


def reserve(stores: Stores, template_id: str, params: dict[str, Any]) -> Reservation:
    reservation, _ = reserve_once(stores, template_id, params, None)
    return reservation


def reserve_once(
    stores: Stores, template_id: str, params: dict[str, Any], idempotency_key: str | None
) -> tuple[Reservation, bool]:
    """Reserve the next slot. Returns (reservation, created); with an Idempotency-Key used
    already for the same request, the reservation it made and False (no second one)."""
    request = {"template_id": template_id, "params": params}
    digest = request_hash(Operation.DIRECT_CALL, request) if idempotency_key else ""
    template = template_for_new_jobs(stores, template_id)
    reservation = Reservation(
        reservation_id=new_id("rsv"),
        template_id=template.template_id,
        params=merge_params(template, params),
    )
    rank = QueueRank(
        RESERVATION_BAND, append_frac(reservation.created_at), reservation.reservation_id
    )
    claim = (
        IdempotencyClaim(idempotency_key, digest, reservation.reservation_id)
        if idempotency_key
        else None
    )
    try:
        stores.dispatch.insert_reservation(reservation, rank, claim)
    except IdempotencyKeyTakenError:
        assert idempotency_key is not None
        made = earlier(stores, idempotency_key, digest)
        if made is None:  # the record expired between the two calls
            raise
        return get_reservation(stores, made), False
    stores.kicker.kick()
    return reservation, True


def get_reservation(stores: Stores, reservation_id: str) -> Reservation:
    return stores.dispatch.reservation(reservation_id)
