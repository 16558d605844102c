"""The local runtime's GroupNotifier: each ended group's webhook is sent from a small thread
pool, so a dispatcher step never waits for a receiver."""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from jobsched.ports import Stores
from jobsched.settings import Settings
from jobsched.webhooks.notify import send_group_webhook
from jobsched.webhooks.sender import Delivery

logger = logging.getLogger(__name__)


class ThreadNotifier:
    """GroupNotifier of the local runtime: each ended group's webhook is sent from a small
    thread pool, so a dispatcher step never waits for a receiver. Errors are logged."""

    def __init__(
        self,
        stores: Stores | Callable[[], Stores],
        settings: Settings,
        max_workers: int = 2,
    ) -> None:
        self._stores = stores
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="webhook")
        self._pending: set[Future[Delivery | None]] = set()
        self._lock = threading.Lock()

    def group_ended(self, group_id: str) -> None:
        try:
            future = self._pool.submit(self._send, group_id)
        except RuntimeError:  # closed: the runtime is stopping
            logger.warning("webhook notifier closed; group %s not notified", group_id)
            return
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def close(self, wait: bool = True) -> None:
        """Stop taking groups. `wait`: send what was handed over first; otherwise drop what
        has not started (those groups stay unclaimed) and let running deliveries finish."""
        with self._lock:
            pending = len(self._pending)
        if wait and pending:
            logger.info("waiting for %d group webhook(s)", pending)
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def _send(self, group_id: str) -> Delivery | None:
        try:
            stores = self._stores() if callable(self._stores) else self._stores
            return send_group_webhook(stores, self.settings, group_id)
        except Exception:
            logger.exception("group webhook failed", extra={"group_id": group_id})
            return None

    def _done(self, future: "Future[Delivery | None]") -> None:
        with self._lock:
            self._pending.discard(future)
