"""Waiting, for the async client (the sync client's is `_sync/io.py`)."""

from asyncio import sleep
from time import monotonic

__all__ = ["monotonic", "sleep"]
