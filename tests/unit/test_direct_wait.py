"""How long a direct call waits: `Prefer: wait=N` (RFC 7240) within the configured cap."""

import pytest

from jobsched.jobs.direct import preferred_wait, wait_left


@pytest.mark.parametrize(
    ("prefer", "expected"),
    [
        (None, (25.0, False)),
        ("", (25.0, False)),
        ("wait=3", (3.0, True)),
        ("respond-async, wait=10", (10.0, True)),
        ('wait="7"', (7.0, True)),
        ("WAIT = 0", (0.0, True)),
        ("wait=600", (28.0, True)),  # capped: API Gateway would cut the request first
        ("handling=lenient", (25.0, False)),
        ("wait=-1", (25.0, False)),  # not a wait a server can honour: ignored
    ],
)
def test_the_wait_a_prefer_header_asks_for(
    prefer: str | None, expected: tuple[float, bool]
) -> None:
    assert preferred_wait(prefer, default=25, most=28) == expected


def test_the_default_is_capped_too() -> None:
    assert preferred_wait(None, default=60, most=28) == (28.0, False)


@pytest.mark.parametrize(
    ("wait", "waited", "invocation_left", "expected"),
    [
        (28, 0, None, 27),  # the margin (1 s) is kept to read the outcome and answer
        (28, 2, None, 25),  # a 2 s cold start counts against the wait
        (10, 12, None, 0),  # spent already: answer at once
        (28, 0, 5, 4),  # the invocation ends first
        (28, -0.3, None, 27),  # the gateway's clock a little ahead of ours: no extra wait
    ],
)
def test_the_wait_left_counts_from_the_arrival(
    wait: float, waited: float, invocation_left: float | None, expected: float
) -> None:
    left = wait_left(wait, waited=waited, invocation_left=invocation_left, margin=1)

    assert left == pytest.approx(expected)
