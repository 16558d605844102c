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
    """Built once per container by the AWS composition root, as for the schedule fire."""
    from jobsched.adapters.aws.wiring import schedule_stores

    return schedule_stores(get_settings())


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    from jobsched.schedules.writes import repair_drift

    # A failed repair is logged there and retried on the next run: nothing to raise.
    report = repair_drift(stores())
    return {"applied": report.applied, "deleted": report.deleted, "failed": report.failed}
