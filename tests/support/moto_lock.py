"""In-process moto applies a request in several unlocked steps, so two threads can interleave
inside one request, which AWS never does: two conditional claims both pass the check, or a
parallel group's Map iterations (threads invoking our step handlers in-process) corrupt a
backend ("dictionary changed size during iteration"). Holding one lock per request makes each
request whole, as on AWS, so the interleavings a test exercises are the real ones: between our
reads and our writes. The lock is re-entrant because an invoke's handler makes its own requests
on the same thread while the invoke's request is open."""

import threading
from typing import Any

import pytest


def atomic_moto_requests(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make every in-process moto request atomic until the test ends. The Event is set once a
    request had to wait for another: a test that holds a request midway can tell that the next
    one is queued behind it, without timing anything."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__
    lock = threading.RLock()
    queued = threading.Event()

    def atomic(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        if not lock.acquire(blocking=False):
            queued.set()
            lock.acquire()
        try:
            return original(self, *args, **kwargs)
        finally:
            lock.release()

    monkeypatch.setattr(BotocoreStubber, "__call__", atomic)
    return queued
