"""The emulator answers one request at a time, as DynamoDB applies each request atomically."""

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from local.emulator import _serialised


def test_requests_never_overlap_inside_the_application() -> None:
    inside = 0
    most = 0
    guard = threading.Lock()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        time.sleep(0.01)
        with guard:
            inside -= 1
        yield b"ok"

    handle = _serialised(app)
    threads = [threading.Thread(target=lambda: list(handle({}, lambda *a: None))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most == 1
