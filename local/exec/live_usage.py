"""What a local worker used so far, read from its log's `model_call` events as they come: the
executor's renewals carry it, as a worker's own heartbeat does on AWS, so a budget that stops
runs (on_exceed: stop) sees a run crossing it. Read on from where the last read stopped."""

import json
import math
import threading
from pathlib import Path

from jobsched.models.usage import Usage


class LiveUsage:
    def __init__(self, log: Path) -> None:
        self._log = log
        self._offset = 0
        self._calls = 0
        self._prompt = 0
        self._completion = 0
        self._costs: list[float] = []
        self._unpriced = 0
        self._lock = threading.Lock()

    def __call__(self) -> Usage | None:
        """The totals so far; None when the log cannot be read (the renewal goes on)."""
        with self._lock:
            try:
                with self._log.open("rb") as log:
                    log.seek(self._offset)
                    chunk = log.read()
            except OSError:
                return None
            complete = chunk.rfind(b"\n") + 1  # a line still being written is read next time
            self._offset += complete
            for line in chunk[:complete].splitlines():
                self._count(line)
            return Usage(
                calls=self._calls,
                prompt_tokens=self._prompt,
                completion_tokens=self._completion,
                cost_usd=math.fsum(self._costs),
                unpriced_calls=self._unpriced,
            )

    def _count(self, line: bytes) -> None:
        if b'"model_call"' not in line:  # cheap filter before parsing each line
            return
        try:
            event = json.loads(line)
        except ValueError:
            return
        if not isinstance(event, dict) or event.get("event") != "model_call":
            return
        prompt, completion = event.get("prompt_tokens"), event.get("completion_tokens")
        if not isinstance(prompt, int) or not isinstance(completion, int):
            return
        self._calls += 1
        self._prompt += max(0, prompt)
        self._completion += max(0, completion)
        cost = event.get("cost_usd")
        if isinstance(cost, int | float) and math.isfinite(cost) and cost >= 0:
            self._costs.append(float(cost))
        else:
            self._unpriced += 1
