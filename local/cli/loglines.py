"""A run's log lines as people read them. The worker writes one JSON object a line
(container/worker/events.py: `ts`, `event`, the unit's ids, then the event's fields), the local
executor adds its own in the same shape; anything else (a traceback on stderr) is shown as is."""

import json
from datetime import datetime
from typing import Any

# Every line carries these; shown once by the command, not on each line.
IDENTITY = frozenset({"ts", "event", "level", "unit_id", "job_id", "source"})
# Shown first and bare: what the line says.
TEXT_FIELDS = ("message", "error")


def readable(line: str) -> str:
    """`12:03:04 echo hello count=3`; a line that is not an event comes back unchanged."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "event" not in record:
        return line
    head = [_clock(record.get("ts")), str(record.get("level") or record["event"])]
    if record.get("level"):
        head.append(str(record["event"]))
    if record.get("source"):
        head[-1] += f" ({record['source']})"
    text = [str(record[name]) for name in TEXT_FIELDS if isinstance(record.get(name), str)]
    extra = [
        f"{name}={_value(value)}"
        for name, value in record.items()
        if name not in IDENTITY and not (name in TEXT_FIELDS and isinstance(value, str))
    ]
    return " ".join(part for part in [*head, *text, *extra] if part)


def is_error(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and "error" in (
        str(record.get("level", "")),
        str(record.get("event", "")),
    )


def _clock(stamp: Any) -> str:
    if not isinstance(stamp, str):
        return ""
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%H:%M:%S")
    except ValueError:
        return stamp


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else json.dumps(value)
    return json.dumps(value, ensure_ascii=False, default=str)
