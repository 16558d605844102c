"""Hold and release: a held job keeps its place in the queue and is passed over until released.

A hold is one store transaction per job (QUEUED -> HELD with its place), so a hold that races a
claim is settled by the store: the claim needs QUEUED, the hold needs QUEUED, one of them wins.

A group's hold is not one transaction: its mark first, then each queued job's hold (one
transaction each). A parallel group is one dispatch unit, and its StartGroup needs the mark
absent, so no dispatcher starts it while its jobs are being held one by one; a release goes in
the reverse order. A sequential group's jobs are claimed one by one, each hold settling its own
race; the running one continues. A call cut short leaves the mark and some jobs held: the same
call again holds (or releases) the rest.
"""

from dataclasses import dataclass

from pydantic import BaseModel, Field

from jobsched.constants import MAX_NOTE_LENGTH
from jobsched.errors import ConflictError
from jobsched.models import (
    REQUEST_CONFIG,
    GroupMode,
    GroupStatus,
    Hold,
    Job,
    JobGroup,
    JobStatus,
)
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


# A parallel group is held only before it starts (its running jobs share its one slot); a
# sequential one until it ends (its queued jobs wait their turns).
HOLDABLE_GROUP = {
    GroupMode.PARALLEL: frozenset({GroupStatus.QUEUED}),
    GroupMode.SEQUENTIAL: frozenset({GroupStatus.QUEUED, GroupStatus.RUNNING}),
}


def hold_group(
    stores: Stores, group_id: str, note: str | None, by: Holder
) -> tuple[JobGroup, list[Job]]:
    """Hold every queued job of the group, the group marked first. A conflict when none of
    its jobs is queued, or a parallel group has started."""
    group = stores.groups.get(group_id)
    queued = [job for job in _jobs(stores, group) if job.status == JobStatus.QUEUED]
    statuses = HOLDABLE_GROUP[group.mode]
    if group.status not in statuses:
        raise ConflictError(
            f"group {group_id!r} is {group.status}; a {group.mode} group can be held only "
            f"while {' or '.join(sorted(statuses))}"
        )
    if not queued:
        raise ConflictError(f"group {group_id!r} has no queued job to hold")
    mark = _hold(note, by)
    if not stores.groups.hold(group_id, mark, statuses):
        raise ConflictError(f"group {group_id!r} started while it was being held")
    for job in queued:
        try:
            stores.jobs.hold(job.job_id, mark)
        except ConflictError:
            continue  # a sequential group's job claimed meanwhile runs on; a cancelled one ended
    return stores.groups.get(group_id), _jobs(stores, group)


def release_group(stores: Stores, group_id: str) -> tuple[JobGroup, list[Job]]:
    """Release every held job of the group, then its mark, and wake the dispatcher. A conflict
    when nothing of it is held."""
    group = stores.groups.get(group_id)
    held = [job for job in _jobs(stores, group) if job.status == JobStatus.HELD]
    if not held and group.hold is None:
        raise ConflictError(f"group {group_id!r} has no held job to release")
    for job in held:
        try:
            stores.jobs.release(job.job_id)
        except ConflictError:
            continue  # released or cancelled meanwhile
    stores.groups.release(group_id)
    stores.kicker.kick()
    return stores.groups.get(group_id), _jobs(stores, group)


def _jobs(stores: Stores, group: JobGroup) -> list[Job]:
    return [stores.jobs.get(job_id) for job_id in group.job_ids]


def _hold(note: str | None, by: Holder) -> Hold:
    return Hold(note=note, held_by=by.key_id, held_by_name=by.name)
