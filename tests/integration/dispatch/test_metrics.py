"""What dispatch reports to its MetricsSink: a run's queue wait at its claim, its end and duration
at its finish (the dispatcher's, and the sweeper's recovery), the sweeper's queue depth and
recoveries; and nothing for a step whose commit failed."""

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.dispatch.sweeper import sweep
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.queue import pause
from jobsched.jobs.reservations import reserve
from jobsched.models import GroupMode, JobRun
from jobsched.models.units import Claim, Outcome
from jobsched.ports import Stores
from jobsched.ports.metrics import (
    QUEUE_DEPTH,
    QUEUE_WAIT,
    RUN_DURATION,
    RUNS_COMPLETED,
    RUNS_FAILED,
    RUNS_RECOVERED,
    NoMetrics,
)
from tests.support.dispatch import Clock, Recorded

LEASE = 600.0  # DispatchConfig's default startup lease


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture
def reporting(wired: Stores, recorded: Recorded) -> Stores:
    return wired.with_metrics(recorded)


@pytest.fixture
def dispatcher(reporting: Stores, clock: Clock) -> Dispatcher:
    return Dispatcher(reporting, reporting.dispatch, DispatchConfig(slots=1), clock=clock)


def _claim(dispatcher: Dispatcher) -> Claim:
    claim = dispatcher.claim()
    assert claim is not None
    return claim


def _seconds(run: JobRun) -> float:
    assert run.finished_at is not None
    return (run.finished_at - run.started_at).total_seconds()


def test_stores_report_nothing_unless_given_a_sink(stores: Stores) -> None:
    assert isinstance(stores.metrics, NoMetrics)


def test_a_run_reports_its_wait_at_the_claim_and_its_end_and_duration_at_the_finish(
    dispatcher: Dispatcher, reporting: Stores, recorded: Recorded, template: str
) -> None:
    job, _ = enqueue(reporting, JobCreate(template_id=template))
    claim = _claim(dispatcher)
    run = reporting.runs.get(claim.unit_id)
    assert recorded.metrics == [
        ("Seconds", QUEUE_WAIT, (run.started_at - job.created_at).total_seconds(), {})
    ]
    recorded.metrics.clear()

    assert dispatcher.finish(claim, Outcome(exit_code=0)) is None

    ended = reporting.runs.get(claim.unit_id)
    assert recorded.metrics == [
        ("Count", RUNS_COMPLETED, 1, {}),
        ("Seconds", RUN_DURATION, _seconds(ended), {}),
    ]


def test_a_failed_run_is_counted_failed_and_its_retry_reports_no_second_wait(
    dispatcher: Dispatcher,
    reporting: Stores,
    recorded: Recorded,
    template: str,
    clock: Clock,
) -> None:
    enqueue(reporting, JobCreate(template_id=template))  # max_attempts=2
    claim = _claim(dispatcher)
    recorded.metrics.clear()
    assert dispatcher.finish(claim, Outcome(exit_code=3)) is None  # the retry waits 30 s
    assert recorded.take() == [RUNS_FAILED, RUN_DURATION]

    clock.advance(31)
    retry = _claim(dispatcher)
    assert retry.run is not None
    assert retry.run.attempt == 2
    # Its wait since creation holds the first attempt and the backoff: not a queue wait.
    assert recorded.take() == []
    dispatcher.finish(retry, Outcome(exit_code=0))
    assert recorded.take() == [RUNS_COMPLETED, RUN_DURATION]


def test_the_next_claim_of_a_finish_reports_its_wait(
    dispatcher: Dispatcher, reporting: Stores, recorded: Recorded, template: str
) -> None:
    for _ in range(2):
        enqueue(reporting, JobCreate(template_id=template))
    first = _claim(dispatcher)
    recorded.metrics.clear()
    following = dispatcher.finish(first, Outcome(exit_code=0))
    assert following is not None
    # One transaction ended the first run and started the next.
    assert sorted(recorded.names()) == sorted([RUNS_COMPLETED, RUN_DURATION, QUEUE_WAIT])


def test_a_finish_whose_commit_fails_reports_nothing(
    dispatcher: Dispatcher, reporting: Stores, recorded: Recorded, template: str
) -> None:
    """A cancel ended the run first: the dispatcher's late finish records, and reports, nothing
    (a cancel is not a failed run)."""
    job, _ = enqueue(reporting, JobCreate(template_id=template))
    claim = _claim(dispatcher)
    cancel_job(reporting, job.job_id)
    recorded.metrics.clear()

    assert dispatcher.finish(claim, Outcome(exit_code=0)) is None

    assert recorded.metrics == []


def test_a_claim_whose_commit_fails_reports_no_wait(
    dispatcher: Dispatcher, reporting: Stores, recorded: Recorded, template: str
) -> None:
    enqueue(reporting, JobCreate(template_id=template))
    pause(reporting)
    assert dispatcher.claim() is None  # the transaction's pause check failed
    assert recorded.metrics == []


def test_a_late_finish_after_the_sweeper_recovered_the_run_reports_it_once(
    dispatcher: Dispatcher, reporting: Stores, recorded: Recorded, template: str, clock: Clock
) -> None:
    enqueue(reporting, JobCreate(template_id=template))
    claim = _claim(dispatcher)
    recorded.metrics.clear()
    clock.advance(LEASE + 1)

    sweep(dispatcher, clock)
    assert sorted(recorded.take()) == sorted(
        [RUNS_FAILED, RUN_DURATION, RUNS_RECOVERED, QUEUE_DEPTH]
    )
    dispatcher.finish(claim, Outcome(exit_code=0))  # the dispatcher was only slow
    assert recorded.take() == []


def test_a_reservation_reports_like_a_run(
    dispatcher: Dispatcher, reporting: Stores, recorded: Recorded, template: str
) -> None:
    reservation = reserve(reporting, template, {})
    claim = _claim(dispatcher)
    started = reporting.dispatch.reservation(reservation.reservation_id).started_at
    assert started is not None
    assert recorded.metrics == [
        ("Seconds", QUEUE_WAIT, (started - reservation.created_at).total_seconds(), {})
    ]
    recorded.metrics.clear()

    dispatcher.finish(claim, Outcome(exit_code=1))

    ended = reporting.dispatch.reservation(reservation.reservation_id)
    assert ended.finished_at is not None
    assert recorded.metrics == [
        ("Count", RUNS_FAILED, 1, {}),
        ("Seconds", RUN_DURATION, (ended.finished_at - started).total_seconds(), {}),
    ]


def test_a_parallel_group_reports_its_jobs_runs_not_itself(
    dispatcher: Dispatcher, reporting: Stores, recorded: Recorded, template: str
) -> None:
    _, jobs = create_group(
        reporting,
        GroupCreate(mode=GroupMode.PARALLEL, jobs=[GroupJobSpec(template_id=template)] * 2),
    )
    group_claim = _claim(dispatcher)
    assert recorded.take() == []  # the group is a unit, not a run
    claims = [dispatcher.claim_group_job(group_claim, job.job_id) for job in jobs]
    assert recorded.take() == [QUEUE_WAIT, QUEUE_WAIT]
    for index, claim in enumerate(claims):
        assert claim is not None
        dispatcher.finish_group_job(claim, Outcome(exit_code=index))
    assert recorded.take() == [RUNS_COMPLETED, RUN_DURATION, RUNS_FAILED, RUN_DURATION]
    dispatcher.finish(group_claim, Outcome(exit_code=0))
    assert recorded.take() == []


def test_the_sweeper_reports_queue_depth_and_recovered_units_every_sweep(
    dispatcher: Dispatcher, reporting: Stores, recorded: Recorded, template: str, clock: Clock
) -> None:
    sweep(dispatcher, clock)
    assert recorded.metrics == [
        ("Count", RUNS_RECOVERED, 0, {}),
        ("Count", QUEUE_DEPTH, 0, {}),
    ]
    recorded.metrics.clear()
    for _ in range(3):
        enqueue(reporting, JobCreate(template_id=template))
    _claim(dispatcher)
    clock.advance(LEASE + 1)
    recorded.metrics.clear()

    sweep(dispatcher, clock)

    # The lost run ended failed and went back to the queue for its retry: 3 queued again.
    assert [m for m in recorded.metrics if m[1] in (RUNS_RECOVERED, QUEUE_DEPTH)] == [
        ("Count", RUNS_RECOVERED, 1, {}),
        ("Count", QUEUE_DEPTH, 3, {}),
    ]
    assert recorded.values(RUNS_FAILED) == [1]
