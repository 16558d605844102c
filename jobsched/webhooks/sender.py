"""Delivery: POST the signed JSON body to the checked, pinned address, retrying with backoff.

Retried: network errors, a host that does not resolve, 5xx and 429 (Retry-After honoured up to
the backoff cap). Not retried: any other 4xx, a redirect (never followed: it could lead to an
address we did not check) and an address the guard refuses.
"""

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from jobsched.constants import (
    WEBHOOK_ATTEMPTS,
    WEBHOOK_BACKOFF_SECONDS,
    WEBHOOK_DELIVERY_HEADER,
    WEBHOOK_MAX_BACKOFF_SECONDS,
    WEBHOOK_TIMEOUT_SECONDS,
)
from jobsched.errors import ValidationFailedError
from jobsched.retry_after import retry_after_seconds
from jobsched.webhooks.addresses import HostNotResolvedError, WebhookTarget, resolve_target
from jobsched.webhooks.signing import signature_headers

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

_USER_AGENT = "jobsched-webhooks/1"


def redacted(url: object) -> str:
    """A URL fit for a log: scheme, host, port and path; no user, password, query or fragment
    (a receiver's token often rides in the query)."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class RedactUrls(logging.Filter):
    """On httpx's logger, which writes every request's full URL at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redacted(arg) if "://" in str(arg) else arg for arg in record.args)
        return True


def redact_httpx_logs() -> None:
    http_logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactUrls) for f in http_logger.filters):
        http_logger.addFilter(RedactUrls())


redact_httpx_logs()


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # attempts used up, or an answer that is not worth retrying
    REFUSED = "refused"  # never sent: the address guard (or a missing secret) said no


@dataclass(frozen=True)
class Delivery:
    """What became of one webhook: its outcome, how many requests it took, the last answer."""

    delivery_id: str
    status: DeliveryStatus
    attempts: int
    status_code: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == DeliveryStatus.DELIVERED


@dataclass(frozen=True)
class _Attempt:
    retry: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None


def deliver(
    url: str,
    payload: Mapping[str, Any],
    secret: str | SecretStr,
    *,
    attempts: int = WEBHOOK_ATTEMPTS,
    backoff: float = WEBHOOK_BACKOFF_SECONDS,
    max_backoff: float = WEBHOOK_MAX_BACKOFF_SECONDS,
    timeout: float = WEBHOOK_TIMEOUT_SECONDS,
    allow_private: bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST `payload` as JSON to `url`, signed with `secret`; up to `attempts` requests, waiting
    `backoff`, then twice as long each time (at most `max_backoff`) between them."""
    import httpx  # here, not at module level: importing the webhooks package stays cheap

    key = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    delivery_id = uuid.uuid4().hex
    outcome = _Attempt(retry=True)
    made = 0
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for made in range(1, max(attempts, 1) + 1):
            try:
                target = resolve_target(url, allow_private=allow_private)
            except HostNotResolvedError as exc:
                outcome = _Attempt(retry=True, error=exc.detail)
            except ValidationFailedError as exc:
                logger.warning("webhook refused", extra={"delivery_id": delivery_id})
                return Delivery(delivery_id, DeliveryStatus.REFUSED, made - 1, error=exc.detail)
            else:
                outcome = _post(client, target, body, key, delivery_id)
            if outcome.status_code is not None and 200 <= outcome.status_code < 300:
                return Delivery(delivery_id, DeliveryStatus.DELIVERED, made, outcome.status_code)
            logger.warning(
                "webhook attempt failed",
                extra={
                    "delivery_id": delivery_id,
                    "attempt": made,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                },
            )
            if not outcome.retry or made >= attempts:
                break
            delay = min(backoff * 2 ** (made - 1), max_backoff)
            if outcome.retry_after is not None:
                delay = min(outcome.retry_after, max_backoff)
            sleep(delay)
    return Delivery(delivery_id, DeliveryStatus.FAILED, made, outcome.status_code, outcome.error)


def _post(
    client: "httpx.Client", target: WebhookTarget, body: bytes, secret: str, delivery_id: str
) -> _Attempt:
    import httpx

    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
        WEBHOOK_DELIVERY_HEADER: delivery_id,
        **signature_headers(body, secret, int(time.time())),
    }
    # The URL names the checked address; TLS still checks the certificate against the host.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        response = client.post(
            target.pinned_url(), content=body, headers=headers, extensions=extensions
        )
    except httpx.TransportError as exc:
        return _Attempt(retry=True, error=f"{type(exc).__name__}: {exc}")
    code = response.status_code
    if 200 <= code < 300:
        return _Attempt(retry=False, status_code=code)
    retry = code == 429 or code >= 500
    return _Attempt(
        retry=retry,
        status_code=code,
        error=f"HTTP {code}",
        retry_after=retry_after_seconds(response.headers.get("Retry-After")) if retry else None,
    )
