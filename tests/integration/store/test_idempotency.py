"""Idempotency-Key records in each write that takes one: a taken key fails the whole write
(nothing of the resource is stored), an expired record counts as none, a rolled-back schedule
lets its key go, and DynamoDB records written before they named a resource still read."""

import time

import pytest

from jobsched import constants
from jobsched.adapters.dynamodb import Dynamo
from jobsched.errors import IdempotencyKeyTakenError, NotFoundError
from jobsched.ids import new_id
from jobsched.models import Job, JobRun, JobStatus, Reservation, Schedule
from jobsched.models.steps import RecordIdempotencyKey, StartOutsideQueue, StepFailedError
from jobsched.models.units import OUTSIDE_QUEUE
from jobsched.ports import IdempotencyClaim, IdempotencyRecord, NewJobs, Stores
from jobsched.ranks import RESERVATION_BAND, QueueRank, append_frac, band_of, rank_after


def _job(template_id: str) -> Job:
    job_id = new_id("job")
    rank = rank_after(None, band_of(50), job_id)
    return Job(job_id=job_id, template_id=template_id, priority=50, rank=rank.key)


def _taken(stores: Stores, template_id: str, key: str = "k") -> Job:
    job = _job(template_id)
    claim = IdempotencyClaim(key, "h", job.job_id)
    stores.jobs.insert(NewJobs(jobs=[job], templates={template_id: 1}, idempotency=claim))
    return job


def _schedule(template_id: str) -> Schedule:
    return Schedule(
        schedule_id=new_id("sch"), name="s", template_id=template_id, expression="rate(1 hour)"
    )


def test_a_taken_key_writes_no_reservation(stores: Stores, echo_template: str) -> None:
    _taken(stores, echo_template)
    reservation = Reservation(reservation_id=new_id("rsv"), template_id=echo_template)
    rank = QueueRank(RESERVATION_BAND, append_frac(reservation.created_at), "x")

    with pytest.raises(IdempotencyKeyTakenError):
        stores.dispatch.insert_reservation(reservation, rank, IdempotencyClaim("k", "h", "x"))

    with pytest.raises(NotFoundError):
        stores.dispatch.reservation(reservation.reservation_id)
    assert stores.queue.reservations() == []


def test_a_taken_key_fails_its_step_and_starts_no_job(stores: Stores, echo_template: str) -> None:
    _taken(stores, echo_template)
    job_id = new_id("job")
    run = JobRun(run_id=new_id("run"), job_id=job_id, template_id=echo_template, slot=OUTSIDE_QUEUE)
    job = Job(
        job_id=job_id,
        template_id=echo_template,
        priority=100,
        status=JobStatus.RUNNING,
        last_run_id=run.run_id,
        outside_queue=True,
    )
    record = RecordIdempotencyKey(IdempotencyClaim("k", "h", job_id))

    with pytest.raises(StepFailedError) as failed:
        stores.dispatch.commit([StartOutsideQueue(job, run), record])

    assert failed.value.step == record
    with pytest.raises(NotFoundError):
        stores.jobs.get(job_id)


def test_a_taken_key_writes_no_schedule(stores: Stores, echo_template: str) -> None:
    _taken(stores, echo_template)
    schedule = _schedule(echo_template)

    with pytest.raises(IdempotencyKeyTakenError):
        stores.schedules.create(schedule, IdempotencyClaim("k", "h", schedule.schedule_id))

    assert stores.schedules.find(schedule.schedule_id) is None


def test_a_schedule_deleted_with_its_key_lets_the_key_go(
    stores: Stores, echo_template: str
) -> None:
    schedule = _schedule(echo_template)
    stores.schedules.create(schedule, IdempotencyClaim("k", "h", schedule.schedule_id))
    assert stores.jobs.find_idempotency("k") == IdempotencyRecord("k", "h", schedule.schedule_id)

    stores.schedules.delete(schedule.schedule_id, schedule.version, release_key="k")

    assert stores.jobs.find_idempotency("k") is None
    _taken(stores, echo_template)  # the key is free again


def test_an_expired_record_counts_as_none(
    stores: Stores, echo_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DynamoDB's TTL deletes lazily: an expired item may linger, and must not hold the key.
    monkeypatch.setattr(constants, "IDEMPOTENCY_TTL_SECONDS", -1)
    _taken(stores, echo_template)
    assert stores.jobs.find_idempotency("k") is None
    monkeypatch.undo()

    again = _taken(stores, echo_template)

    assert stores.jobs.find_idempotency("k") == IdempotencyRecord("k", "h", again.job_id)


@pytest.mark.dynamodb_only
def test_a_record_written_before_resource_id_still_names_its_job(
    stores: Stores, dynamo: Dynamo
) -> None:
    dynamo.client.put_item(
        TableName=dynamo.table("jobs"),
        Item={
            "pk": {"S": constants.IDEMPOTENCY_PK_PREFIX + "old"},
            "sk": {"S": constants.IDEMPOTENCY_SK},
            "job_id": {"S": "job_old"},
            "request_hash": {"S": "h"},
            "expires_at": {"N": str(int(time.time()) + 60)},
        },
    )

    assert stores.jobs.find_idempotency("old") == IdempotencyRecord("old", "h", "job_old")
