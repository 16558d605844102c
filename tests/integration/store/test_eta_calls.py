"""Issue 14, point 1: an ETA reads the page it estimates (or the head up to the job), the slots
and their holders, and cached duration statistics: never the whole queue. Metered on DynamoDB
as test_call_counts.py meters the queue's operations, on a short queue and a long one."""

import pytest

from jobsched.adapters.dynamodb import Dynamo
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.foresight.durations import duration_stats
from jobsched.foresight.estimates import entry_eta, queue_etas
from jobsched.ports import Stores
from tests.integration.store.test_call_counts import LONG, SHORT, TEMPLATE, Cost, Queue
from tests.support.aws_calls import CallMeter

pytestmark = [pytest.mark.slow, pytest.mark.dynamodb_only]
PAGE = 50


def cost(dynamo: Dynamo, operation: object) -> Cost:
    with CallMeter(dynamo.client) as meter:
        operation()  # type: ignore[operator]
    return Cost(dict(meter.by_operation), meter.transact_items, meter.items_read)


def page_etas(stores: Stores) -> object:
    entries, _ = stores.queue.page(PAGE, None)
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
        cost(dynamo, lambda: page_etas(stores)),
        cost(dynamo, lambda: fifth_job_eta(stores, queue)),
    )
    queue.grow(LONG - SHORT)
    long = (
        cost(dynamo, lambda: page_etas(stores)),
        cost(dynamo, lambda: fifth_job_eta(stores, queue)),
    )

    assert short[0].calls == long[0].calls
    assert short[1] == long[1]
    # a page: the page (both partitions), the reservations, the queue's state, the slots and
    # the running job's run
    assert long[0].calls == {"Query": 4, "GetItem": 2}
    assert long[0].items_read <= PAGE + 2 * 3  # the page (both partitions), slots, state, run
    # one job: its place, its position (counted to its depth), the head up to it (both
    # partitions), the reservations, the queue's state, the slots and the running job's run
    assert long[1].calls == {"Query": 6, "GetItem": 3}
