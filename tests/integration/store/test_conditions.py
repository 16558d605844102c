"""The store's own guards: the conditions inside each transaction, not the use cases' checks
before it. Each test takes the state a race would leave and calls the store directly."""

import pytest

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.errors import (
    ConflictError,
    IdempotencyKeyTakenError,
    NotFoundError,
    TemplateChangedError,
)
from jobsched.ids import new_id
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.templates import TemplatePatch, update_template
from jobsched.models import GroupStatus, Job, JobStatus
from jobsched.ports import IdempotencyClaim, NewJobs, Stores
from jobsched.ranks import band_of, rank_after
from jobsched.settings import Settings


def _new_job(template_id: str) -> Job:
    job_id = new_id("job")
    rank = rank_after(None, band_of(50), job_id)
    return Job(job_id=job_id, template_id=template_id, priority=50, rank=rank.key)


def _nothing_queued(stores: Stores) -> None:
    assert stores.queue.head(10) == []


def test_a_template_archived_after_the_check_still_takes_no_job(
    stores: Stores, echo_template: str
) -> None:
    # The use case read the template while it was live; it is archived before the write.
    stores.templates.archive(echo_template)
    job = _new_job(echo_template)
    with pytest.raises(TemplateChangedError):
        stores.jobs.insert(NewJobs(jobs=[job], templates={echo_template: 1}))
    with pytest.raises(NotFoundError):
        stores.jobs.get(job.job_id)
    _nothing_queued(stores)


def test_an_idempotency_key_taken_meanwhile_writes_no_second_job(
    stores: Stores, echo_template: str
) -> None:
    first = _new_job(echo_template)
    claim = IdempotencyClaim("k-1", "hash", first.job_id)
    stores.jobs.insert(NewJobs(jobs=[first], templates={echo_template: 1}, idempotency=claim))
    second = _new_job(echo_template)
    racing = IdempotencyClaim("k-1", "hash", second.job_id)
    with pytest.raises(IdempotencyKeyTakenError):
        stores.jobs.insert(NewJobs(jobs=[second], templates={echo_template: 1}, idempotency=racing))
    with pytest.raises(NotFoundError):
        stores.jobs.get(second.job_id)
    assert [rank.job_id for rank in stores.queue.head(10)] == [first.job_id]


def test_a_group_that_started_takes_no_new_job(stores: Stores, echo_template: str) -> None:
    group, _ = create_group(stores, GroupCreate(jobs=[GroupJobSpec(template_id=echo_template)]))
    stores.groups.set_status(group.model_copy(update={"status": GroupStatus.RUNNING}))
    job = _new_job(echo_template)
    with pytest.raises(ConflictError, match="takes no new jobs"):
        stores.jobs.insert(
            NewJobs(jobs=[job], templates={echo_template: 1}, join_group=group.group_id)
        )
    assert stores.groups.get(group.group_id).job_ids == group.job_ids


def test_a_move_after_a_cancel_does_not_bring_the_job_back(
    stores: Stores, echo_template: str
) -> None:
    job, _ = enqueue(stores, JobCreate(template_id=echo_template))
    rank = stores.queue.rank_of(job.job_id)
    assert rank is not None
    stores.jobs.cancel(job.job_id)
    with pytest.raises(ConflictError):
        stores.jobs.rerank([rank_after(rank, rank.band, job.job_id)])
    assert stores.queue.rank_of(job.job_id) is None
    assert stores.jobs.get(job.job_id).status == JobStatus.CANCELLED


def test_only_a_queued_job_is_cancelled(stores: Stores, echo_template: str) -> None:
    job, _ = enqueue(stores, JobCreate(template_id=echo_template))
    stores.jobs.cancel(job.job_id)
    with pytest.raises(ConflictError, match="is cancelled"):
        stores.jobs.cancel(job.job_id)
    with pytest.raises(NotFoundError):
        stores.jobs.cancel("job_unknown")


def test_a_new_template_version_after_the_read_is_caught(
    stores: Stores, echo_template: str
) -> None:
    update_template(stores, echo_template, TemplatePatch(name="Echo 2"))  # now version 2
    with pytest.raises(TemplateChangedError):
        stores.jobs.insert(NewJobs(jobs=[_new_job(echo_template)], templates={echo_template: 1}))
    _nothing_queued(stores)


def test_enqueue_rereads_a_template_another_process_changed(
    stores: Stores, echo_template: str, settings: Settings, dynamo: Dynamo
) -> None:
    other_process = build_stores(settings, dynamo)  # its own template cache
    stores.templates.get_cached(echo_template)  # this process caches version 1
    update_template(other_process, echo_template, TemplatePatch(default_params={"message": "v2"}))
    job, _ = enqueue(stores, JobCreate(template_id=echo_template))
    assert job.params["message"] == "v2"
    other_process.templates.archive(echo_template)
    with pytest.raises(ConflictError, match="archived"):
        enqueue(stores, JobCreate(template_id=echo_template))


def test_cancelling_a_group_keeps_counts_recorded_while_it_cancels(
    stores: Stores, echo_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cancel_group writes the status only, on condition the group is open: a job of the group
    that ends between its read and its write keeps its count (a put of the read would undo it)."""
    from jobsched.jobs import groups as use
    from jobsched.models.steps import CountGroupJob

    group, _ = use.create_group(
        stores,
        use.GroupCreate(jobs=[use.GroupJobSpec(template_id=echo_template) for _ in range(2)]),
    )
    real_cancel_job = use.cancel_job
    ended_meanwhile: list[str] = []

    def cancel_job_as_a_job_ends(stores: Stores, job_id: str) -> object:
        if not ended_meanwhile:  # a running job of the group ends right now, elsewhere
            stores.dispatch.commit([CountGroupJob(group.group_id, succeeded=True)])
            ended_meanwhile.append(job_id)
        return real_cancel_job(stores, job_id)

    monkeypatch.setattr(use, "cancel_job", cancel_job_as_a_job_ends)

    cancelled = use.cancel_group(stores, group.group_id)

    assert cancelled.status == GroupStatus.CANCELLED
    assert cancelled.completed == 1
    assert stores.groups.get(group.group_id).completed == 1
