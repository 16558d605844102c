"""A run's log lines for people: the worker writes one JSON object a line (container/worker/
events.py: `ts`, `event`, the unit's ids, then the event's fields); shown as
`10:00:01 info  echo: hello count=2`. A line that is not such an object (a traceback, a
workload's own print) is shown as it is."""

import json
from datetime import UTC, datetime
from typing import Any

# On every line of a run: saying them again says nothing.
IDENTITY = frozenset({"ts", "event", "unit_id", "job_id"})
LEVEL_FIELDS = ("level", "levelname", "severity")
MESSAGE_FIELDS = ("message", "msg")
WARNING_EVENTS = frozenset({"cancelled", "stopped"})


def format_log_line(line: str) -> str:
    """One log line as `HH:MM:SS level event: message key=value ...` (UTC), or as it is."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or not ("event" in record or _first(record, MESSAGE_FIELDS)):
        return line
    event = record.get("event")
    message = _first(record, MESSAGE_FIELDS)
    traceback = record.get("traceback")
    skipped = IDENTITY | set(LEVEL_FIELDS) | set(MESSAGE_FIELDS) | {"traceback"}
    fields = " ".join(f"{k}={_value(v)}" for k, v in record.items() if k not in skipped)
    head = ": ".join(str(part) for part in (event, message) if part not in (None, ""))
    text = f"{_clock(record.get('ts'))} {_level(record):<5} {head}"
    if fields:
        text += f" {fields}"
    if isinstance(traceback, str) and traceback.strip():
        text += "\n" + traceback.rstrip("\n")
    return text


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if record.get(name) not in (None, ""):
            return record[name]
    return None


def _clock(ts: Any) -> str:
    if not isinstance(ts, str):
        return "--:--:--"
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return ts
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%H:%M:%S")


def _level(record: dict[str, Any]) -> str:
    """The line's own level if it has one; else what the worker's event means."""
    given = _first(record, LEVEL_FIELDS)
    if isinstance(given, str):
        return given.lower().replace("warning", "warn")
    event = str(record.get("event") or "")
    if event == "error":
        return "error"
    if event in WARNING_EVENTS or event.endswith("_failed"):
        return "warn"  # the worker goes on (retries, keeps what it has)
    return "error" if "error" in record else "info"


def _value(value: Any) -> str:
    if isinstance(value, str):
        plain = value and not any(c.isspace() or c in '"=' for c in value)
        return value if plain else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


def is_error(line: str) -> bool:
    """Whether the line reports an error (shown in red at a terminal)."""
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and _level(record) == "error"
