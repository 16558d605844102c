"""Lambda entry point of the schedule fire: EventBridge Scheduler invokes it with
`{"schedule_id": ..., "scheduled_time": "<aws.scheduler.scheduled-time>"}` (the target input
set in jobsched/adapters/aws/scheduler.py) and it enqueues that fire's job, or records why not.

Delivery is at least once; the fire is idempotent per (schedule_id, scheduled_time). A store
failure raises, so EventBridge (and Lambda's own async retries) deliver again; a fire that can
never succeed is recorded and returns normally.
"""

from functools import cache
from typing import TYPE_CHECKING, Any

from jobsched.settings import get_settings

if TYPE_CHECKING:
    from jobsched.ports import Stores


@cache
def stores() -> "Stores":
    """Built once per container by the AWS composition root: kicks reach the dispatcher state
    machine, and a leftover EventBridge schedule (one without a record) can be deleted."""
    from jobsched.adapters.aws.wiring import schedule_stores

    return schedule_stores(get_settings())


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    from jobsched.schedules.fire import FireEvent, fire

    request = FireEvent.model_validate(event)
    fired = fire(stores(), request.schedule_id, request.scheduled_time)
    return {
        "result": fired.result.value,
        "schedule_id": fired.schedule_id,
        "job_id": fired.job_id,
        "run_id": fired.run_id,
        "reason": fired.reason,
    }
