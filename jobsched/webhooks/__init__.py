"""Signed webhooks with an address guard (docs/decisions.md, "Webhooks").

`signing` (the scheme, and `verify` for receivers), `addresses` (where a webhook may go),
`sender` (delivery with retries; imports httpx only when it sends), `events` (payloads).
"""

from jobsched.webhooks.addresses import check_webhook_url, forbidden_reason, resolve_target
from jobsched.webhooks.events import (
    GROUP_FINISHED,
    group_finished_payload,
    notify_group_finished,
)
from jobsched.webhooks.sender import Delivery, DeliveryStatus, deliver
from jobsched.webhooks.signing import sign, signature_headers, verify

__all__ = [
    "GROUP_FINISHED",
    "Delivery",
    "DeliveryStatus",
    "check_webhook_url",
    "deliver",
    "forbidden_reason",
    "group_finished_payload",
    "notify_group_finished",
    "resolve_target",
    "sign",
    "signature_headers",
    "verify",
]
