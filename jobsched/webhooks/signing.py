"""The webhook signature: HMAC-SHA256 of "<timestamp>." + body, sent as "v1=<hex>".

The timestamp is inside the signed bytes, so a captured request cannot be replayed with a fresh
timestamp, and a receiver refuses one older than its tolerance (docs/decisions.md, "Webhooks").
"""

import hashlib
import hmac
import time

from jobsched.constants import (
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_SIGNATURE_VERSION,
    WEBHOOK_TIMESTAMP_HEADER,
    WEBHOOK_TOLERANCE_SECONDS,
)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of `f"{timestamp}." + body` under `secret`."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_headers(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    return {
        WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
        WEBHOOK_SIGNATURE_HEADER: f"{WEBHOOK_SIGNATURE_VERSION}={sign(body, secret, timestamp)}",
    }


def verify(
    body: bytes,
    secret: str,
    timestamp: str | int,
    signature: str,
    *,
    tolerance: float = WEBHOOK_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver runs on the raw body and the two headers: True when the signature is ours
    and the timestamp is within `tolerance` seconds of `now`.

    `signature` is the header's value; several comma-separated `v1=` entries are accepted so a
    sender may sign with an old and a new secret while the secret rotates.
    """
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    expected = sign(body, secret, sent_at)
    prefix = f"{WEBHOOK_SIGNATURE_VERSION}="
    candidates = [part.strip() for part in signature.split(",")]
    return any(
        hmac.compare_digest(part.removeprefix(prefix).encode(), expected.encode())
        for part in candidates
        if part.startswith(prefix)
    )
