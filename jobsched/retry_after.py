"""`Retry-After` (RFC 9110): the seconds to wait, given as delta-seconds or as an HTTP date. Read
the same way by the webhook sender (a receiver's answer) and the client (the API's 429/503)."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait; 0 for a date gone by; None when absent or unreadable. An HTTP date is
    always GMT, so one without a zone is read as UTC."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
