"""Priorities: named levels immediate > high > normal > low, or an int 0-100.

`immediate` sits in a band of its own above 100, so it goes ahead of every other queued job.
"""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from jobsched.constants import PRIORITY_IMMEDIATE, PRIORITY_MAX, PRIORITY_MIN


class PriorityLevel(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    IMMEDIATE = "immediate"


LEVEL_VALUES: dict[PriorityLevel, int] = {
    PriorityLevel.LOW: 25,
    PriorityLevel.NORMAL: 50,
    PriorityLevel.HIGH: 75,
    PriorityLevel.IMMEDIATE: PRIORITY_IMMEDIATE,
}
_VALUE_LEVELS = {value: level for level, value in LEVEL_VALUES.items()}

DEFAULT_PRIORITY = LEVEL_VALUES[PriorityLevel.NORMAL]


def parse_priority(raw: Any) -> int:
    """Turn a level name or an int 0-100 into the stored int; raise ValueError otherwise."""
    if isinstance(raw, bool):
        raise ValueError("priority must be a level name or an integer 0-100")
    if isinstance(raw, int):
        if PRIORITY_MIN <= raw <= PRIORITY_MAX:
            return raw
        raise ValueError(f"priority must be between {PRIORITY_MIN} and {PRIORITY_MAX}")
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text.isascii() and text.isdigit():
            return parse_priority(int(text))
        try:
            return LEVEL_VALUES[PriorityLevel(text)]
        except ValueError:
            names = ", ".join(level.value for level in PriorityLevel)
            raise ValueError(f"unknown priority {raw!r}; use one of {names} or 0-100") from None
    raise ValueError("priority must be a level name or an integer 0-100")


def display_priority(value: int) -> str | int:
    """The name of a level when the value is one, else the int."""
    level = _VALUE_LEVELS.get(value)
    return level.value if level else value


def parse_stored_priority(raw: Any) -> int:
    """Like parse_priority, but also takes `immediate`'s internal value, as read from a store."""
    if raw == PRIORITY_IMMEDIATE and not isinstance(raw, bool):
        return PRIORITY_IMMEDIATE
    return parse_priority(raw)


_serializer = PlainSerializer(display_priority)  # the return type comes from its annotation

# Field types: accept names or ints, hold the int, serialise the name where there is one.
# PriorityInput is what a client may send; PriorityValue is what an entity holds.
# The schema says what both take and give: a level name or an int within the bounds.
PRIORITY_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "string", "enum": [level.value for level in PriorityLevel]},
            {"type": "integer", "minimum": PRIORITY_MIN, "maximum": PRIORITY_MAX},
        ],
        "description": "a level name or an integer 0-100 (immediate goes ahead of all)",
    }
)
PriorityInput = Annotated[int, BeforeValidator(parse_priority), _serializer, PRIORITY_SCHEMA]
PriorityValue = Annotated[int, BeforeValidator(parse_stored_priority), _serializer, PRIORITY_SCHEMA]
