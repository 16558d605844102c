"""Invariant 6: queue operations cost the same DynamoDB calls whatever the queue length.

Each operation is metered on a short queue, the queue grows by bulk writes, and the same
operation is metered again: calls per API operation, transaction items and items read must not
change. The expected budgets are written out, so a change of cost shows up here.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from jobsched.adapters.dynamodb import Dynamo
from jobsched.adapters.dynamodb.bulk import put_queued_jobs, queued_jobs
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.foresight.durations import duration_stats
from jobsched.foresight.estimates import entry_eta, queue_etas
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.queue import MoveRequest, move_job, set_priority
from jobsched.models import JobTemplate
from jobsched.ports import Stores
from jobsched.priority import DEFAULT_PRIORITY
from jobsched.ranks import band_of
from tests.support.aws_calls import CallMeter

pytestmark = pytest.mark.slow

SHORT, LONG = 10, 1_000
TEMPLATE = "bench-tpl"


@dataclass(frozen=True)
class Cost:
    calls: dict[str, int]
    transact_items: int
    items_read: int


class Queue:
    """A queue of normal-priority jobs grown in bulk; `ids` in the order they were added."""

    def __init__(self, stores: Stores, dynamo: Dynamo) -> None:
        self.stores, self.dynamo = stores, dynamo
        self.ids: list[str] = []
        stores.templates.create(JobTemplate(template_id=TEMPLATE, name="t", workload="echo"))
        stores.templates.get(TEMPLATE)  # a warm process: enqueue reads the template from cache

    def grow(self, count: int) -> None:
        last = self.stores.queue.last_in_band(band_of(DEFAULT_PRIORITY))
        jobs = queued_jobs(TEMPLATE, count, DEFAULT_PRIORITY, last)
        put_queued_jobs(self.dynamo, jobs)
        self.ids += [job.job_id for job in jobs]

    def cost(self, operation: "Operation") -> Cost:
        with CallMeter(self.dynamo.client) as meter:
            operation(self)
        return Cost(dict(meter.by_operation), meter.transact_items, meter.items_read)


Operation = Callable[[Queue], object]


def _enqueue(q: Queue) -> object:
    return enqueue(q.stores, JobCreate(template_id=TEMPLATE))


def _enqueue_at(q: Queue) -> object:
    return enqueue(q.stores, JobCreate(template_id=TEMPLATE, position=3))


def _move_to_position(q: Queue) -> object:
    return move_job(q.stores, q.ids[-1], MoveRequest(position=3))


def _move_before(q: Queue) -> object:
    return move_job(q.stores, q.ids[-1], MoveRequest(before=q.ids[len(q.ids) // 2]))


def _move_after(q: Queue) -> object:
    return move_job(q.stores, q.ids[1], MoveRequest(after=q.ids[len(q.ids) // 2]))


def _set_priority(q: Queue) -> object:
    return set_priority(q.stores, q.ids[len(q.ids) // 2], 75)


def _cancel(q: Queue) -> object:
    return cancel_job(q.stores, q.ids.pop(len(q.ids) // 2))


def _next_job(q: Queue) -> object:
    return q.stores.queue.head(1)


GET, QUERY, TRANSACT = "GetItem", "Query", "TransactWriteItems"

# operation: (calls, transaction items, items read). A write's items: the job and its queue
# place, plus the template check on enqueue. An append reads nothing: the time orders it.
# A read of the queue's order is one query of each partition (queued, held: a held job keeps
# its place); a rerank reads the job's status, which says which partition its place is in.
BUDGETS: dict[str, tuple[Operation, Cost]] = {
    "enqueue": (_enqueue, Cost({TRANSACT: 1}, 3, 0)),
    "enqueue_at_position": (_enqueue_at, Cost({QUERY: 2, TRANSACT: 1}, 3, 4)),
    "move_to_position": (_move_to_position, Cost({GET: 2, QUERY: 2, TRANSACT: 1}, 2, 6)),
    "move_before": (_move_before, Cost({GET: 3, QUERY: 2, TRANSACT: 1}, 2, 5)),
    "move_after": (_move_after, Cost({GET: 3, QUERY: 2, TRANSACT: 1}, 2, 5)),
    "cancel": (_cancel, Cost({TRANSACT: 1, GET: 1}, 2, 1)),
    "next_job": (_next_job, Cost({QUERY: 2}, 0, 1)),
}


@pytest.mark.parametrize("name", list(BUDGETS))
def test_cost_does_not_grow_with_the_queue(name: str, stores: Stores, dynamo: Dynamo) -> None:
    operation, budget = BUDGETS[name]
    queue = Queue(stores, dynamo)
    queue.grow(SHORT)
    short = queue.cost(operation)
    queue.grow(LONG - SHORT)
    long = queue.cost(operation)
    assert short == long
    assert long == budget


def test_set_priority_cost_does_not_grow_with_the_queue(stores: Stores, dynamo: Dynamo) -> None:
    # The job's own place is read; its new place, the end of the new band, needs no read.
    queue = Queue(stores, dynamo)
    queue.grow(SHORT)
    short = queue.cost(_set_priority)
    queue.grow(LONG - SHORT)
    long = queue.cost(_set_priority)
    assert short == long == Cost({GET: 2, TRANSACT: 1}, 2, 2)


def test_a_move_writes_at_most_three_items(stores: Stores, dynamo: Dynamo) -> None:
    queue = Queue(stores, dynamo)
    queue.grow(LONG)
    for move in (_move_to_position, _move_before, _move_after, _set_priority):
        with CallMeter(dynamo.client) as meter:
            move(queue)
        (transaction,) = meter.of(TRANSACT)
        assert transaction.transact_items <= 3
        assert {op for op in meter.by_operation} <= {GET, QUERY, TRANSACT}  # no scans, no batch


def test_next_job_lookup_reads_one_item_strongly_consistently(
    stores: Stores, dynamo: Dynamo
) -> None:
    queue = Queue(stores, dynamo)
    queue.grow(LONG)
    with CallMeter(dynamo.client) as meter:
        (head,) = stores.queue.head(1)
    queued, held = meter.calls  # one query of each partition, merged
    for call in (queued, held):
        assert call.operation == QUERY
        assert call.params["ConsistentRead"] is True
        assert call.params["Limit"] == 1
    assert queued.items_returned == 1
    assert held.items_returned == 0
    assert head.job_id == queue.ids[0]


def test_meter_counts_only_while_active(stores: Stores, dynamo: Dynamo) -> None:
    meter = CallMeter(dynamo.client)
    with meter:
        stores.queue.head(1)
    stores.queue.head(1)
    assert meter.by_operation == {QUERY: 2}
    assert meter.calls[0].items_returned == 0


def test_move_to_a_position_deeper_than_one_query_page(stores: Stores, dynamo: Dynamo) -> None:
    # Long schedule ids make each queue item ~1.2 kB, so 1 MB of index holds ~800 of them.
    stores.templates.create(JobTemplate(template_id=TEMPLATE, name="t", workload="echo"))
    jobs = [
        job.model_copy(update={"schedule_id": "s" * 1_000})
        for job in queued_jobs(TEMPLATE, LONG, DEFAULT_PRIORITY)
    ]
    put_queued_jobs(dynamo, jobs)
    moved = move_job(stores, jobs[-1].job_id, MoveRequest(position=950))
    assert stores.queue.position_of(moved) == 950


# --- Issue 14, point 1: an ETA reads the page it estimates (or the head up to the job), the
# slots and their holders, and cached duration statistics: never the whole queue.

ETA_PAGE = 50


def eta_cost(dynamo: Dynamo, operation: object) -> Cost:
    with CallMeter(dynamo.client) as meter:
        operation()  # type: ignore[operator]
    return Cost(dict(meter.by_operation), meter.transact_items, meter.items_read)


def page_etas(stores: Stores) -> object:
    entries, _ = stores.queue.page(ETA_PAGE, None)
    return queue_etas(stores, 1, entries)


def fifth_job_eta(stores: Stores, queue: Queue) -> object:
    entry = stores.dispatch.entry(queue.ids[5])
    assert entry is not None
    return entry_eta(stores, 1, entry)


def test_an_eta_costs_the_same_on_a_long_queue(stores: Stores, dynamo: Dynamo) -> None:
    queue = Queue(stores, dynamo)
    queue.grow(SHORT)
    assert Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1)).claim() is not None
    duration_stats(stores).of(TEMPLATE)  # a warm process: the statistics are cached

    short = (
        eta_cost(dynamo, lambda: page_etas(stores)),
        eta_cost(dynamo, lambda: fifth_job_eta(stores, queue)),
    )
    queue.grow(LONG - SHORT)
    long = (
        eta_cost(dynamo, lambda: page_etas(stores)),
        eta_cost(dynamo, lambda: fifth_job_eta(stores, queue)),
    )

    assert short[0].calls == long[0].calls
    assert short[1] == long[1]
    # a page: the page (both partitions), the reservations, the queue's state, the slots and
    # the running job's run
    assert long[0].calls == {"Query": 4, "GetItem": 2}
    assert long[0].items_read <= ETA_PAGE + 2 * 3  # the page (both partitions), slots, state, run
    # one job: its place, its position (counted to its depth), the head up to it (both
    # partitions), the reservations, the queue's state, the slots and the running job's run
    assert long[1].calls == {"Query": 6, "GetItem": 3}
