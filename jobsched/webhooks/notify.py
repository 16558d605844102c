"""Telling an ended group's webhook, at most once: what the GroupNotifier edges run.

`send_group_webhook` claims the group's notification with a conditional write and sends only
when it won the claim, so however many times a group's end is reported (the dispatcher, a
cancel, a retried Lambda event) at most one `group.finished` delivery goes out, its retries
sharing one delivery id (docs/decisions.md, "Webhooks"). The edges run it away from the dispatch
step that ended the group, because a delivery with its retries may take minutes:
`local.notifier.ThreadNotifier` in a thread pool (the local runtime),
`jobsched.adapters.aws.notifier.LambdaNotifier` through an asynchronous
invoke of the webhook Lambda (AWS).
"""

import logging

from jobsched import transitions
from jobsched.models import WebhookResult, utcnow
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
    delivery = notify_group_finished(group, settings)
    if delivery is not None:  # kept on the group: a refused or failed webhook says why
        result = WebhookResult(
            status=delivery.status.value,
            attempts=delivery.attempts,
            status_code=delivery.status_code,
            error=delivery.error,
            delivery_id=delivery.delivery_id or None,
        )
        stores.groups.record_webhook(group_id, result)
    return delivery
