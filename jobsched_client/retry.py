"""When a call is sent again, and after how long. The same rule serves the sync and the async
client: a 429 or 503 (the API says nothing was written) is retried after its `Retry-After`; a
request that never reached the deployment (refused connection) is retried; a lost answer (a read
timeout, a cut connection, a gateway's 502/504) only where sending it twice is harmless: a GET, or
a create carrying its `Idempotency-Key`."""

import random
from dataclasses import dataclass

import httpx

from jobsched.retry_after import retry_after_seconds

ALWAYS_RETRIED = frozenset({429, 503})
RETRIED_IF_SAFE = frozenset({502, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` in all (1: never retry); waits grow from `backoff` seconds, doubling, with
    jitter, never over `max_wait`, which also caps a `Retry-After`."""

    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1` (attempt counts from 1)."""
        told = retry_after_seconds(retry_after)
        if told is not None:
            return min(told, self.max_wait)
        grown = self.backoff * 2.0 ** (attempt - 1)
        return min(grown * (0.5 + random.random() / 2), self.max_wait)  # noqa: S311 - jitter


NO_RETRY = RetryPolicy(attempts=1)


parse_retry_after = retry_after_seconds  # the name the client has exported


def is_replay_safe(request: httpx.Request) -> bool:
    return request.method in SAFE_METHODS or "idempotency-key" in request.headers


def should_retry_status(request: httpx.Request, status: int) -> bool:
    return status in ALWAYS_RETRIED or (status in RETRIED_IF_SAFE and is_replay_safe(request))


def should_retry_error(request: httpx.Request, error: httpx.TransportError) -> bool:
    # A refused or timed-out connect never reached the app; anything later may have.
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    return is_replay_safe(request)
