"""The API tests' own fixtures (the tier's are in tests/integration/conftest.py)."""

from tests.support.eta import timed

__all__ = ["timed"]
