"""Waiting, for the sync client (the async client's is `_async/io.py`)."""

from time import monotonic, sleep

__all__ = ["monotonic", "sleep"]
