"""No lost wake-up: an enqueue kicks the dispatcher only when it sees a free slot (on AWS a kick
is an execution: 4 transitions and a Lambda call), so a finish that frees its slot must see
work that came in while it was looking. Either the enqueue sees the slot free and kicks, or
the finish sees the work and takes it: never neither."""

from dataclasses import dataclass, field, replace
from typing import Any

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher, free_slots
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import QueueEntry
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from tests.support.dispatch import Clock


@dataclass
class SlotCheckingKicker:
    """The AWS kicker's decision (adapters/aws/kicker.py), recorded instead of executed."""

    stores: Stores | None = None
    kicks: list[bool] = field(default_factory=list)

    def kick(self) -> None:
        assert self.stores is not None
        self.kicks.append(bool(free_slots(self.stores.dispatch, 1)))


class EnqueueDuringRead:
    """The queue as the finish reads it, with a job enqueued right after the finish's first
    head read: the interleaving that would strand the job."""

    def __init__(self, queue: Any, enqueue_one: Any) -> None:
        self._queue = queue
        self._enqueue_one = enqueue_one
        self.armed = False

    def dispatch_head(self, limit: int) -> list[QueueEntry]:
        head: list[QueueEntry] = self._queue.dispatch_head(limit)
        if self.armed:
            self.armed = False
            self._enqueue_one()
        return head

    def __getattr__(self, name: str) -> Any:
        return getattr(self._queue, name)


def test_work_enqueued_while_the_last_finish_looks_is_taken_by_that_finish(
    stores: Stores, template: str, clock: Clock
) -> None:
    kicker = SlotCheckingKicker()
    api = stores.with_edges(kicker=kicker, tasks=stores.tasks)
    kicker.stores = api
    late: list[str] = []
    queue = EnqueueDuringRead(
        stores.queue,
        lambda: late.append(enqueue(api, JobCreate(template_id=template))[0].job_id),
    )
    finishing = replace(api, queue=queue)
    dispatcher = Dispatcher(finishing, finishing.dispatch, DispatchConfig(slots=1), clock=clock)
    enqueue(api, JobCreate(template_id=template))
    first = dispatcher.claim()
    assert first is not None

    queue.armed = True
    taken = dispatcher.finish(first, Outcome(exit_code=0))

    assert kicker.kicks == [True, False]  # the late enqueue saw the slot held: no kick
    assert taken is not None
    assert taken.job is not None
    assert taken.job.job_id == late[0]  # so the finish took it


def test_work_enqueued_after_the_slot_is_freed_kicks(stores: Stores, template: str) -> None:
    kicker = SlotCheckingKicker()
    api = stores.with_edges(kicker=kicker, tasks=stores.tasks)
    kicker.stores = api
    dispatcher = Dispatcher(api, api.dispatch, DispatchConfig(slots=1), clock=Clock())
    enqueue(api, JobCreate(template_id=template))
    first = dispatcher.claim()
    assert first is not None
    enqueue(api, JobCreate(template_id=template))
    second = dispatcher.finish(first, Outcome(exit_code=0))
    assert second is not None

    assert dispatcher.finish(second, Outcome(exit_code=0)) is None  # the slot is free
    enqueue(api, JobCreate(template_id=template))

    assert kicker.kicks == [True, False, True]
