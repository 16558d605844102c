"""Next-slot reservations (the spec's direct APIs): not jobs; they run right after the current
unit, before the queue, in the order they arrived, and never pre-empt."""

from typing import Any

from pydantic import BaseModel, Field

from jobsched.ids import new_id
from jobsched.jobs.jobs import template_for_new_jobs
from jobsched.models import REQUEST_CONFIG, Reservation
from jobsched.params import JsonObject, merge_params
from jobsched.ports import Stores
from jobsched.ranks import RESERVATION_BAND, QueueRank, append_frac


class ReservationCreate(BaseModel):
    model_config = REQUEST_CONFIG

    template_id: str = Field(min_length=1, max_length=64)
    params: JsonObject = Field(default_factory=dict)


def reserve(stores: Stores, template_id: str, params: dict[str, Any]) -> Reservation:
    template = template_for_new_jobs(stores, template_id)
    reservation = Reservation(
        reservation_id=new_id("rsv"),
        template_id=template.template_id,
        params=merge_params(template, params),
    )
    rank = QueueRank(
        RESERVATION_BAND, append_frac(reservation.created_at), reservation.reservation_id
    )
    stores.dispatch.insert_reservation(reservation, rank)
    stores.kicker.kick()
    return reservation


def get_reservation(stores: Stores, reservation_id: str) -> Reservation:
    return stores.dispatch.reservation(reservation_id)
