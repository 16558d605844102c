"""Telling an ended group's webhook, at most once: the GroupNotifier edges and what they run.

`send_group_webhook` claims the group's notification with a conditional write and sends only
when it won the claim, so however many times a group's end is reported (the dispatcher, a
cancel, a retried Lambda event) at most one `group.finished` goes out (docs/decisions.md,
"Webhooks"). The edges run it away from the dispatch step that ended the group, because a
delivery with its retries may take minutes: `ThreadNotifier` in a thread pool (the local
runtime), `LambdaNotifier` through an asynchronous invoke of the webhook Lambda (AWS).
"""

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from typing import Any

from pydantic import SecretStr

from jobsched import transitions
from jobsched.models import utcnow
from jobsched.ports import Stores
from jobsched.settings import Settings
from jobsched.webhooks.events import notify_group_finished
from jobsched.webhooks.sender import Delivery

logger = logging.getLogger(__name__)

# The statuses a group never leaves: completed, failed, partial, cancelled.
_ENDED = frozenset(status for status, moves in transitions.GROUP.items() if not moves)


def send_group_webhook(stores: Stores, settings: Settings, group_id: str) -> Delivery | None:
    """Send the group's `group.finished` if it has a webhook_url and this caller wins the
    claim. None when nothing was sent by this call: no webhook_url, the group has not ended,
    or the notification was claimed already. A failed delivery is returned, not raised."""
    group = stores.groups.get(group_id)
    if not group.webhook_url:
        return None
    if group.status not in _ENDED:
        # Whoever ends it reports the end again; claiming now would leave it unsent.
        logger.warning(
            "group has not ended; no webhook sent",
            extra={"group_id": group_id, "status": group.status.value},
        )
        return None
    if not stores.groups.claim_notification(group_id, utcnow()):
        logger.info("group webhook claimed already; not sent again", extra={"group_id": group_id})
        return None
    # notify_group_finished logs the outcome (group id, delivery id, attempts; no secret).
    return notify_group_finished(group, settings)


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


class LambdaNotifier:
    """GroupNotifier on AWS: an asynchronous (`Event`) invoke of the webhook Lambda named by
    `webhook_function`, which runs `send_group_webhook`. Lambda queues the event and answers
    at once, so a dispatch step pays one short call. Errors are logged, not raised: a missed
    notification must not fail the dispatch step that ended the group."""

    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self._warned = False
        if client is not None:
            self.__dict__["client"] = client

    @cached_property
    def client(self) -> Any:
        import boto3

        from jobsched.adapters.aws.clients import client_options

        return boto3.client("lambda", **client_options(self.settings))

    def group_ended(self, group_id: str) -> None:
        function = self.settings.webhook_function
        if not function:
            if not self._warned:
                self._warned = True
                logger.warning("no JOBSCHED_WEBHOOK_FUNCTION: ended groups' webhooks are not sent")
            return
        from botocore.exceptions import BotoCoreError, ClientError

        payload = json.dumps({"group_id": group_id}).encode()
        try:
            self.client.invoke(FunctionName=function, InvocationType="Event", Payload=payload)
        except (BotoCoreError, ClientError):
            logger.exception("webhook not handed over", extra={"group_id": group_id})


def with_webhook_secret(settings: Settings, client: Any = None) -> Settings:
    """The settings with `webhook_secret` read from Secrets Manager when only
    `webhook_secret_arn` is set (the webhook Lambda). The value is never logged."""
    if settings.webhook_secret is not None or not settings.webhook_secret_arn:
        return settings
    if client is None:
        import boto3

        from jobsched.adapters.aws.clients import client_options

        client = boto3.client("secretsmanager", **client_options(settings))
    value = client.get_secret_value(SecretId=settings.webhook_secret_arn)["SecretString"]
    return settings.model_copy(update={"webhook_secret": SecretStr(value)})
