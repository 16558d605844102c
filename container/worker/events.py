"""Structured logs: one JSON object per line on stdout, each naming the unit and the job.

stdout is what the awslogs driver ships to CloudWatch and what the local executor writes to the
run's log file, so one line per event keeps both followable and machine-readable.
"""

import json
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

# A params key containing any of these is treated as a credential and never logged.
SECRET_MARKERS = ("key", "token", "secret", "password")
MASK = "***"


def mask_secrets(value: Any) -> Any:
    """A copy of `value` in which every secret-looking key of every nested object is masked."""
    if isinstance(value, dict):
        return {
            key: MASK
            if any(marker in str(key).lower() for marker in SECRET_MARKERS)
            else mask_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventLog:
    """Writes events; safe to share between the main, heartbeat and workload threads."""

    def __init__(self, unit_id: str, job_id: str, stream: TextIO | None = None) -> None:
        self.unit_id = unit_id
        self.job_id = job_id
        self._stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()  # whole lines only, never two threads' output interleaved

    def emit(self, event: str, /, **fields: Any) -> None:
        record: dict[str, Any] = {
            "ts": _now(),
            "event": event,
            "unit_id": self.unit_id,
            "job_id": self.job_id,
        }
        for name, value in fields.items():
            record.setdefault(name, value)  # a field never overrides the line's identity
        line = json.dumps(record, default=str)  # an odd value is logged as text, not a crash
        with self._lock:
            try:
                self._stream.write(line + "\n")
                self._stream.flush()  # followers (CloudWatch, the log file) see it at once
            except (OSError, ValueError):
                pass  # stdout gone (closed pipe): losing a log line must not fail the job
