"""In-process moto applies a request in several unlocked steps, and the state machine's Map runs
its iterations in threads, each invoking our step handlers in-process: two iterations can
interleave inside one moto request, which AWS never does (seen as "dictionary changed size
during iteration" in a parallel group's fan-out under load). Holding one re-entrant lock per
request makes each request whole, as on AWS; re-entrant because an invoke's handler makes its own
DynamoDB requests on the same thread while the invoke's request is open."""

import threading
from typing import Any

import pytest


def atomic_moto_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every in-process moto request atomic until the test ends."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__
    lock = threading.RLock()

    def atomic(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", atomic)
