"""Lambda entry point of the schedule drift repair (every five minutes, an EventBridge Scheduler
schedule): re-apply each schedule record whose EventBridge write was left unfinished, and finish
the deletes left half done (jobsched.schedules.writes.repair_drift)."""

from functools import cache
from typing import TYPE_CHECKING, Any

from jobsched.settings import get_settings

if TYPE_CHECKING:
    from jobsched.ports import Stores


@cache
def stores() -> "Stores":
    """Built once per container, as functions/schedule_fire.py builds them."""
    from jobsched.adapters.aws.scheduler import EventBridgeScheduleSync
    from jobsched.adapters.aws.wiring import aws_stores

    settings = get_settings()
    return aws_stores(settings).with_schedule_sync(EventBridgeScheduleSync(settings))


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    from jobsched.schedules.writes import repair_drift

    # A failed repair is logged there and retried on the next run: nothing to raise.
    report = repair_drift(stores())
    return {"applied": report.applied, "deleted": report.deleted, "failed": report.failed}
