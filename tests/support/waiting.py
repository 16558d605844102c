"""Waiting in tests: poll a condition, with a bound that only ends a hung test.

No test may depend on the machine's speed: a wait polls what it waits for, and its bound is
generous (two minutes) so that a loaded machine (CI, `pytest -n 8` on two cores) is slow, not
failing. A test that sees a wait run out has found a hang, not a slow machine.
"""

import time
from collections.abc import Callable
from typing import Any

import pytest

BOUND_SECONDS = 120.0
POLL_SECONDS = 0.05


def wait_until(
    check: Callable[[], Any],
    timeout: float = BOUND_SECONDS,
    what: str = "",
    every: float = POLL_SECONDS,
) -> Any:
    """Poll `check` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what or check}")
