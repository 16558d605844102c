"""The API tests' own fixtures (the tier's are in tests/integration/conftest.py)."""

from tests.support.eta import timed
from tests.support.lambda_events import handler

__all__ = ["handler", "timed"]
