"""Lambda entry point of the sweeper (every minute, an EventBridge Scheduler schedule): recover
units whose lease expired and kick the dispatcher when work waits behind a free slot."""

from functools import cache
from typing import TYPE_CHECKING, Any

from functions.metrics import flushed, reporting
from jobsched.settings import get_settings

if TYPE_CHECKING:
    from jobsched.dispatch.dispatcher import Dispatcher


@cache
def dispatcher() -> "Dispatcher":
    from jobsched.adapters.aws.wiring import aws_dispatcher

    return reporting(aws_dispatcher(get_settings()))


@flushed
def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    from jobsched.dispatch.sweeper import sweep

    report = sweep(dispatcher())
    return {"recovered": report.recovered, "kicked": report.kicked}
