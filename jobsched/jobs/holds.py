"""Hold and release: a held job keeps its place in the queue and is passed over until released.

A hold is one store transaction per job (QUEUED -> HELD with its place), so a hold that races a
claim is settled by the store: the claim needs QUEUED, the hold needs QUEUED, one of them wins.
"""

from dataclasses import dataclass

from pydantic import BaseModel, Field

from jobsched.constants import MAX_NOTE_LENGTH
from jobsched.errors import ConflictError
from jobsched.models import REQUEST_CONFIG, GroupMode, Hold, Job, JobStatus
from jobsched.ports import Stores


class HoldRequest(BaseModel):
    """Why the job (or group) is held, shown with it until it is released."""

    model_config = REQUEST_CONFIG

    note: str | None = Field(default=None, max_length=MAX_NOTE_LENGTH)


@dataclass(frozen=True)
class Holder:
    """Who holds: the API key's id and name (never its secret)."""

    key_id: str | None = None
    name: str | None = None


def hold_job(stores: Stores, job_id: str, note: str | None, by: Holder) -> Job:
    """queued -> held. A job of a parallel group is held with its group (the group is one
    dispatch unit); a held, running or ended job is a conflict."""
    job = stores.jobs.get(job_id)
    if job.group_mode == GroupMode.PARALLEL and job.status == JobStatus.QUEUED:
        raise ConflictError(
            f"job {job_id!r} belongs to parallel group {job.group_id!r}, which runs as one "
            "unit; hold the group (POST /groups/{id}/hold)"
        )
    return stores.jobs.hold(job_id, _hold(note, by))


def release_job(stores: Stores, job_id: str) -> Job:
    """held -> queued at the place it kept; the dispatcher is woken to take it if a slot is
    free. A job that is not held is a conflict."""
    job = stores.jobs.get(job_id)
    if job.group_mode == GroupMode.PARALLEL and job.status == JobStatus.HELD:
        raise ConflictError(
            f"job {job_id!r} belongs to parallel group {job.group_id!r}; release the group"
        )
    released = stores.jobs.release(job_id)
    stores.kicker.kick()
    return released


def _hold(note: str | None, by: Holder) -> Hold:
    return Hold(note=note, held_by=by.key_id, held_by_name=by.name)
