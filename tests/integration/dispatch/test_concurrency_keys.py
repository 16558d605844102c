"""Concurrency keys: a claim passes over a job whose key is full to the next one, a job keeps
its place while it waits, and every path that ends or requeues a run frees its key (on both
stores)."""

from typing import Any

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.dispatch.sweeper import sweep
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.queue import set_priority
from jobsched.jobs.templates import TemplatePatch, update_template
from jobsched.models import GroupMode, JobStatus, JobTemplate, RetryPolicy, RunStatus
from jobsched.models.concurrency import ConcurrencyLimit
from jobsched.models.steps import AcquireKeys, ReleaseKeys, StepFailedError
from jobsched.models.units import Claim, Outcome
from jobsched.ports import Stores
from tests.support.dispatch import Clock, Edges

LEASE = 600.0  # DispatchConfig's default startup lease
KEYED = "keyed"


def _keyed(stores: Stores, limit: int = 1, max_attempts: int = 1) -> str:
    """Jobs limited per customer."""
    stores.templates.create(
        JobTemplate(
            template_id=KEYED,
            name="Keyed",
            workload="echo",
            params_schema={"type": "object", "properties": {"customer": {"type": "string"}}},
            retry=RetryPolicy(max_attempts=max_attempts, backoff_seconds=30),
            concurrency=[ConcurrencyLimit(key="params.customer", limit=limit)],
        )
    )
    return KEYED


def _job(stores: Stores, customer: str | None) -> str:
    params: dict[str, Any] = {} if customer is None else {"customer": customer}
    return enqueue(stores, JobCreate(template_id=KEYED, params=params))[0].job_id


def _slots(stores: Stores, clock: Clock, slots: int) -> Dispatcher:
    return Dispatcher(stores, stores.dispatch, DispatchConfig(slots=slots), clock=clock)


def _job_of(claim: Claim | None) -> str:
    assert claim is not None
    assert claim.job is not None
    return claim.job.job_id


def test_a_claim_passes_over_a_full_key_and_the_job_keeps_its_place(
    wired: Stores, clock: Clock
) -> None:
    _keyed(wired)
    a, b, c = _job(wired, "acme"), _job(wired, "acme"), _job(wired, "globex")
    dispatcher = _slots(wired, clock, 3)

    assert _job_of(dispatcher.claim()) == a
    assert _job_of(dispatcher.claim()) == c  # b's key is full: passed over
    assert dispatcher.claim() is None  # a slot is free, but b must wait for a
    assert wired.jobs.get(b).status == JobStatus.QUEUED
    assert [entry.job_id for entry in wired.queue.dispatch_head(10)] == [b]
    set_priority(wired, b, 90)  # a new place keeps the job's keys
    assert dispatcher.claim() is None


def test_a_job_without_the_param_is_not_limited(wired: Stores, clock: Clock) -> None:
    _keyed(wired)
    first, second = _job(wired, None), _job(wired, None)
    dispatcher = _slots(wired, clock, 2)
    assert wired.jobs.get(first).concurrency_keys == []
    assert {_job_of(dispatcher.claim()), _job_of(dispatcher.claim())} == {first, second}


def test_a_finish_that_frees_the_key_runs_the_job_it_held_back(
    wired: Stores, clock: Clock, edges: Edges
) -> None:
    """Two slots: a (acme) runs in one, b (acme) waits although the other is free, c (globex)
    takes it; when a finishes, b runs (in the same transaction's handover on DynamoDB the
    counter would appear twice: the end is recorded first)."""
    _keyed(wired)
    a, b = _job(wired, "acme"), _job(wired, "acme")
    dispatcher = _slots(wired, clock, 2)
    first = dispatcher.claim()
    assert _job_of(first) == a
    assert dispatcher.claim() is None  # b is held back, the second slot stays free
    c = _job(wired, "globex")
    assert _job_of(dispatcher.claim()) == c
    kicks = edges.kicks

    assert first is not None
    after = dispatcher.finish(first, Outcome(exit_code=0))
    assert _job_of(after) == b
    assert edges.kicks == kicks  # b took the freed place in a's slot: nothing to wake
    assert wired.jobs.get(a).status == JobStatus.FINISHED


def test_a_freed_key_whose_slot_goes_to_other_work_wakes_the_idle_slot(
    wired: Stores, clock: Clock, edges: Edges
) -> None:
    """Three slots: a (acme) and c (globex) run, b (acme) waits with the third slot idle; x,
    urgent, arrives unclaimed (its kick lost). a's handover takes x; b, let in by a's freed
    key, must not wait for a sweep: the finish kicks, and the idle slot takes b."""
    _keyed(wired)
    a, b, c = _job(wired, "acme"), _job(wired, "acme"), _job(wired, "globex")
    dispatcher = _slots(wired, clock, 3)
    first = dispatcher.claim()
    assert [_job_of(first), _job_of(dispatcher.claim())] == [a, c]
    assert dispatcher.claim() is None
    x = enqueue(
        wired, JobCreate(template_id=KEYED, params={"customer": "initech"}, priority="high")
    )[0].job_id
    kicks = edges.kicks

    assert first is not None
    assert _job_of(dispatcher.finish(first, Outcome(exit_code=0))) == x
    assert edges.kicks == kicks + 1
    assert _job_of(dispatcher.claim()) == b  # what the kick does


def test_a_retried_job_frees_its_key_while_it_waits(wired: Stores, clock: Clock) -> None:
    _keyed(wired, max_attempts=2)
    a, b = _job(wired, "acme"), _job(wired, "acme")
    dispatcher = _slots(wired, clock, 1)
    first = dispatcher.claim()
    assert first is not None
    after = dispatcher.finish(first, Outcome(exit_code=1))  # fails: requeued with a backoff
    assert _job_of(after) == b
    assert wired.jobs.get(a).status == JobStatus.QUEUED


def test_a_cancelled_running_job_frees_its_key(wired: Stores, clock: Clock) -> None:
    _keyed(wired)
    a, b = _job(wired, "acme"), _job(wired, "acme")
    dispatcher = _slots(wired, clock, 2)
    first = dispatcher.claim()
    assert _job_of(first) == a
    assert dispatcher.claim() is None
    cancel_job(wired, a)
    assert _job_of(dispatcher.claim()) == b
    # The cancelled run's own finish comes later and frees nothing more: c still waits on b.
    c = _job(wired, "acme")
    assert first is not None
    assert dispatcher.finish(first, Outcome(exit_code=143)) is None
    assert wired.jobs.get(c).status == JobStatus.QUEUED


def test_a_run_the_sweeper_declares_lost_frees_its_key(wired: Stores, clock: Clock) -> None:
    _keyed(wired)
    a, b = _job(wired, "acme"), _job(wired, "acme")
    dispatcher = _slots(wired, clock, 2)
    first = dispatcher.claim()
    assert _job_of(first) == a
    assert dispatcher.claim() is None
    clock.advance(LEASE + 1)
    assert first is not None
    assert sweep(dispatcher, clock).recovered == [first.unit_id]
    assert wired.runs.get(first.unit_id).status == RunStatus.FAILED
    assert _job_of(dispatcher.claim()) == b


def test_a_job_keeps_the_limits_of_the_version_it_was_queued_with(
    wired: Stores, clock: Clock
) -> None:
    _keyed(wired, limit=1)
    a, b = _job(wired, "acme"), _job(wired, "acme")
    update_template(
        wired, KEYED, TemplatePatch(concurrency=[ConcurrencyLimit(key="params.customer", limit=3)])
    )
    c = _job(wired, "acme")
    dispatcher = _slots(wired, clock, 3)
    assert _job_of(dispatcher.claim()) == a
    assert _job_of(dispatcher.claim()) == c  # b is held to limit 1, c (version 2) to 3
    assert dispatcher.claim() is None
    assert [key.limit for key in wired.jobs.get(b).concurrency_keys] == [1]


def test_a_release_is_idempotent_by_run_id(wired: Stores) -> None:
    _keyed(wired, limit=2)
    keys = tuple(wired.jobs.get(_job(wired, "acme")).concurrency_keys)
    counters = tuple(key.counter for key in keys)
    wired.dispatch.commit([AcquireKeys("run-1", keys)])
    wired.dispatch.commit([AcquireKeys("run-2", keys)])
    with pytest.raises(StepFailedError) as failed:
        wired.dispatch.commit([AcquireKeys("run-3", keys)])
    assert isinstance(failed.value.step, AcquireKeys)
    wired.dispatch.commit([ReleaseKeys("run-1", counters)])
    wired.dispatch.commit([ReleaseKeys("run-1", counters)])  # retried: frees nothing more
    wired.dispatch.commit([AcquireKeys("run-3", keys)])
    with pytest.raises(StepFailedError):
        wired.dispatch.commit([AcquireKeys("run-4", keys)])


def test_a_parallel_groups_jobs_are_not_limited_a_sequential_groups_are(wired: Stores) -> None:
    _keyed(wired)
    specs = [GroupJobSpec(template_id=KEYED, params={"customer": "acme"}) for _ in range(2)]
    for mode, expected in ((GroupMode.PARALLEL, 0), (GroupMode.SEQUENTIAL, 1)):
        group = create_group(wired, GroupCreate(mode=mode, jobs=specs))[0]
        keys = [len(wired.jobs.get(job_id).concurrency_keys) for job_id in group.job_ids]
        assert keys == [expected, expected]
