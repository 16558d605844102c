"""The events we send, and the call that sends one when a group ends.

Not wired into the dispatcher yet: the legacy batch step calls `notify_group_finished` once the
group's EndGroup step has been applied.
"""

import logging
from typing import TYPE_CHECKING, Any

from jobsched.constants import WEBHOOK_ATTEMPTS, WEBHOOK_BACKOFF_SECONDS
from jobsched.models import GroupStatus, JobGroup, utcnow
from jobsched.models.instants import rfc3339
from jobsched.ports import Stores
from jobsched.webhooks.sender import Delivery, DeliveryStatus, deliver

if TYPE_CHECKING:  # pydantic-settings stays off the API's cold start
    from jobsched.settings import Settings

logger = logging.getLogger(__name__)

GROUP_FINISHED = "group.finished"
_ENDED = frozenset(
    {GroupStatus.COMPLETED, GroupStatus.FAILED, GroupStatus.PARTIAL, GroupStatus.CANCELLED}
)


def group_finished_payload(group: JobGroup) -> dict[str, Any]:
    finished_at = group.finished_at or utcnow()
    return {
        "event": GROUP_FINISHED,
        "group_id": group.group_id,
        "name": group.name,
        "status": group.status.value,
        "completed": group.completed,
        "failed": group.failed,
        "finished_at": rfc3339(finished_at),
        "job_ids": list(group.job_ids),
    }


def notify_group_finished(
    stores_or_group: Stores | JobGroup,
    settings: "Settings",
    *,
    group_id: str | None = None,
    attempts: int = WEBHOOK_ATTEMPTS,
    backoff: float = WEBHOOK_BACKOFF_SECONDS,
) -> Delivery | None:
    """Send `group.finished` for an ended group that has a webhook_url.

    Pass the group, or the stores and `group_id` (read after its EndGroup was applied). None when
    there is nothing to send: no webhook_url, or the group has not ended.
    """
    if isinstance(stores_or_group, JobGroup):
        group = stores_or_group
    else:
        if group_id is None:
            raise TypeError("group_id is required when stores are passed")
        group = stores_or_group.groups.get(group_id)
    if not group.webhook_url:
        return None
    if group.status not in _ENDED:
        logger.warning(
            "group has not ended; no webhook sent",
            extra={"group_id": group.group_id, "status": group.status.value},
        )
        return None
    if settings.webhook_secret is None:
        logger.error("JOBSCHED_WEBHOOK_SECRET is not set; webhook not sent")
        return Delivery("", DeliveryStatus.REFUSED, 0, error="no webhook secret configured")
    delivery = deliver(
        group.webhook_url,
        group_finished_payload(group),
        settings.webhook_secret,
        attempts=attempts,
        backoff=backoff,
        allow_private=settings.webhook_allow_private,
    )
    logger.info(
        "group webhook",
        extra={
            "group_id": group.group_id,
            "delivery_id": delivery.delivery_id,
            "outcome": delivery.status.value,
            "attempts": delivery.attempts,
        },
    )
    return delivery
