"""The lease of a unit whose worker has no store connection (the SQLite store): the executor,
the worker's parent, renews it while the worker lives, as the worker's own heartbeat does on
AWS, and stops the worker once the unit was ended elsewhere (cancelled, declared lost).

The lease is three periods long, as the worker's (container/worker/heartbeat.py): one late or
failed renewal is not enough to lose a healthy unit. A worker that hangs keeps its lease only
while its process lives; the template's timeout still ends it.
"""

import logging
import math
import threading
import time
from collections.abc import Callable

from jobsched.models.units import Claim
from jobsched.models.usage import Usage
from jobsched.ports.dispatch import DispatchStore

logger = logging.getLogger(__name__)

LEASE_PERIODS = 3


class LeaseKeeper:
    def __init__(
        self,
        dispatch: DispatchStore,
        claim: Claim,
        period: float,
        on_ended: Callable[[], None],
        first: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
        usage: Callable[[], Usage | None] | None = None,
    ) -> None:
        self.ended = threading.Event()  # set once the unit is known to be ended elsewhere
        self._usage = usage  # what the worker used so far, sent with each renewal
        self._dispatch = dispatch
        self._claim = claim
        self._period = period
        self._on_ended = on_ended
        self._first = first  # done in the keeper's thread before it first waits
        self._clock = clock
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def renew(self) -> bool:
        """Renew once; False when the unit was ended elsewhere (its worker must stop)."""
        now = self._clock()
        try:
            usage = self._usage() if self._usage is not None else None
            live = self._dispatch.renew(
                self._claim, now, math.ceil(now + LEASE_PERIODS * self._period), usage
            )
        except Exception:  # the store busy or gone: try again next period, as a worker would
            logger.warning("could not renew the lease of %s", self._claim.unit_id, exc_info=True)
            return True
        if not live and not self.ended.is_set():
            self.ended.set()
            self._on_ended()
        return live

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"lease-{self._claim.unit_id}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        if self._first is not None:
            self._first()
        while not self._halt.wait(self._period):
            if not self.renew():
                return
