"""The retry policy: how many attempts, and how long a failed job waits before the next."""

from jobsched.models import RetryPolicy

NOT_RETRIED = frozenset({"cancelled"})


def should_retry(policy: RetryPolicy, attempt: int, error: str | None) -> bool:
    """`attempt` is the one that just failed (1-based)."""
    return attempt < policy.max_attempts and error not in NOT_RETRIED


def backoff_seconds(policy: RetryPolicy, attempt: int) -> float:
    """Exponential: backoff * multiplier^(attempt-1), for the wait after attempt `attempt`."""
    return float(policy.backoff_seconds * policy.backoff_multiplier ** (attempt - 1))
