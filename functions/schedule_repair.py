"""Lambda entry point of the schedule drift repair (every five minutes, an EventBridge Scheduler
schedule): re-apply each schedule record whose EventBridge write was left unfinished, and finish
the deletes left half done (jobsched.schedules.writes.repair_drift); then catch up the fire
times missed (undelivered, or passed while a schedule was disabled) under each schedule's
catch-up policy (jobsched.schedules.catch_up.catch_up_all)."""

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
    from jobsched.schedules.catch_up import catch_up_all
    from jobsched.schedules.writes import repair_drift

    # A failed repair is logged there and retried on the next run: nothing to raise.
    report = repair_drift(stores())
    caught_up = catch_up_all(stores(), get_settings().catch_up_max_fires)
    return {
        "applied": report.applied,
        "deleted": report.deleted,
        "failed": report.failed,
        "caught_up": {
            "fired": caught_up.fired,
            "skipped": caught_up.skipped,
            "failed": caught_up.failed,
        },
    }
