"""The run's heartbeat: extend its lease every period, and notice when it was ended elsewhere.

The sweeper declares a run lost when its lease expires, so the lease is three periods long: one
late or failed beat (throttling, a network blip) is not enough to lose a healthy run.
"""

import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from worker.aws import TransactWriter
from worker.events import EventLog
from worker.transact import LEASE_UNTIL, NOW, USAGE, Sent, send
from worker.usage import Usage

LEASE_PERIODS = 3


def beat_values(now: float, period: float, usage: Usage | None = None) -> dict[str, str]:
    # Whole epoch seconds; the lease rounds up so it is never shorter than three periods.
    values = {NOW: str(int(now)), LEASE_UNTIL: str(math.ceil(now + LEASE_PERIODS * period))}
    # What the run used so far: a budget that stops its runs is checked against it.
    values[USAGE] = json.dumps(usage, separators=(",", ":")) if usage is not None else ""
    return values


class Heartbeat:
    """Sends the dispatcher's heartbeat template; on a failed condition, stops the workload."""

    def __init__(
        self,
        connect: Callable[[], TransactWriter],
        template: Mapping[str, Any],
        period: float,
        log: EventLog,
        stop: threading.Event,
        clock: Callable[[], float] = time.time,
        usage: Callable[[], Usage] | None = None,
    ) -> None:
        self.ended = threading.Event()  # set once the run is known to be ended elsewhere
        self._usage = usage
        self._connect = connect
        self._template = template
        self._period = period
        self._log = log
        self._stop = stop
        self._clock = clock
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """Send one heartbeat; False when the run was ended elsewhere (the worker must stop)."""
        usage = self._usage() if self._usage is not None else None
        values = beat_values(self._clock(), self._period, usage)
        outcome = send(self._connect, self._template, values)
        if outcome.sent is Sent.ENDED:
            if not self.ended.is_set():
                self.ended.set()
                self._log.emit("cancelled", reason="run ended elsewhere", error=outcome.error)
                self._stop.set()  # after the log line, so "cancelled" precedes the final events
            return False
        if outcome.sent is Sent.FAILED:
            self._log.emit("heartbeat_failed", error=outcome.error)  # retried next period
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop beating (before the result is sent, so the two never race on the run's item)."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._halt.wait(self._period):
            if not self.beat():
                return
