"""The retry policy: how many attempts, and how long a failed job waits before the next."""

from jobsched.models import RetryPolicy
from jobsched.models.units import UNRUNNABLE

NOT_RETRIED = frozenset({"cancelled"})


def should_retry(policy: RetryPolicy, attempt: int, error: str | None) -> bool:
    """`attempt` is the one that just failed (1-based). A cancel, or a unit that can never
    start as given, is not retried."""
    if error in NOT_RETRIED or (error or "").startswith(UNRUNNABLE):
        return False
    return attempt < policy.max_attempts


def backoff_seconds(policy: RetryPolicy, attempt: int) -> float:
    """Exponential: backoff * multiplier^(attempt-1), for the wait after attempt `attempt`."""
    return float(policy.backoff_seconds * policy.backoff_multiplier ** (attempt - 1))
