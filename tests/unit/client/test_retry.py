"""The client's retry rule (jobsched_client/retry.py): when a call is sent again, and after how
long."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from jobsched_client import NO_RETRY, RetryPolicy
from jobsched_client.retry import parse_retry_after


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("0", 0.0), ("7", 7.0), (" 120 ", 120.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_in_seconds(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_as_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    earlier = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)

    waited = parse_retry_after(later)
    assert waited is not None
    # Whole seconds in the header, and the clock moves between the two lines: a margin of both.
    assert 3600 - 120 < waited <= 3600
    assert parse_retry_after(earlier) == 0.0  # a date gone by: send now
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37") == 0.0  # no zone: read as UTC


def test_a_retry_after_is_capped_by_max_wait() -> None:
    policy = RetryPolicy(backoff=0.5, max_wait=30.0)

    assert policy.delay(1, "5") == 5.0
    assert policy.delay(1, "3600") == 30.0
    later = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    assert policy.delay(3, later) == 30.0


def test_the_backoff_doubles_with_jitter_between_half_and_whole() -> None:
    policy = RetryPolicy(backoff=0.5, max_wait=1000.0)

    for attempt, full in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)):
        waits = [policy.delay(attempt) for _ in range(200)]
        assert all(full / 2 <= wait <= full for wait in waits)
        assert len(set(waits)) > 1  # jittered: clients refused together do not return together


def test_the_backoff_never_waits_over_max_wait() -> None:
    policy = RetryPolicy(backoff=1.0, max_wait=3.0)

    assert all(policy.delay(10) <= 3.0 for _ in range(100))
    assert policy.delay(1, "junk") <= 1.0  # a junk Retry-After is the backoff's


def test_no_retry_makes_one_attempt() -> None:
    assert NO_RETRY.attempts == 1
    assert RetryPolicy().attempts > 1
