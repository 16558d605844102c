"""Store round trips per job lifecycle (enqueue -> claim -> finish): the budget is 3 on a busy
queue, where a finishing job hands its slot to the next in the same transaction."""

from jobsched.adapters.dynamodb import Dynamo
from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from tests.support.aws_calls import CallMeter

JOBS = 20


def test_a_busy_queue_costs_three_round_trips_per_job(
    dispatcher: Dispatcher, wired: Stores, template: str, dynamo: Dynamo
) -> None:
    wired.templates.get(template)  # a warm process: the template is cached
    with CallMeter(dynamo.client) as enqueues:
        for _ in range(JOBS):
            enqueue(wired, JobCreate(template_id=template))
    first = dispatcher.claim()  # the first claim of a burst reads the slots too
    with CallMeter(dynamo.client) as dispatching:
        claim = first
        while claim is not None:
            claim = dispatcher.finish(claim, Outcome(exit_code=0))
    assert enqueues.by_operation == {"TransactWriteItems": JOBS}
    # finish of job n + claim of job n+1: one head query and one transaction; the last finish
    # finds the queue empty (one query), frees the slot (one transaction) and reads the head
    # once more (work enqueued meanwhile saw the slot held, so it did not kick).
    assert dispatching.by_operation == {"Query": JOBS + 1, "TransactWriteItems": JOBS}
    per_job = (len(enqueues.calls) + len(dispatching.calls)) / JOBS
    assert per_job == 3 + 1 / JOBS


def test_an_idle_dispatcher_reads_two_items_and_writes_nothing(
    dispatcher: Dispatcher, dynamo: Dynamo
) -> None:
    with CallMeter(dynamo.client) as meter:
        assert dispatcher.claim() is None
    assert meter.by_operation == {"Query": 2}  # the slots, the queue's head
