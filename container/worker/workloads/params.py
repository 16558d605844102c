"""Reading a workload's params: typed, bounded, with defaults; InvalidParams when unusable."""

import uuid
from typing import Any

from worker.context import InvalidParams, WorkloadContext

MAX_SEED_LENGTH = 200


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def typed(params: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = params.get(name, default)
    # bool is an int in Python; a JSON true is not a count, an exit code or a duration.
    if isinstance(value, bool) and kind is not bool:
        raise InvalidParams(f"{name} must be {_kind_name(kind)}, not a boolean")
    if not isinstance(value, kind):
        raise InvalidParams(f"{name} must be {_kind_name(kind)}, not {type(value).__name__}")
    return value


def integer(params: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value: int = typed(params, name, int, default)
    if not low <= value <= high:
        raise InvalidParams(f"{name} must be between {low} and {high}, not {value}")
    return value


def text(params: dict[str, Any], name: str, max_length: int, default: str) -> str:
    """A string param of 1 to `max_length` characters (surrounding blanks removed)."""
    value = optional_text(params, name, max_length)
    return default if value is None else value


def optional_text(params: dict[str, Any], name: str, max_length: int) -> str | None:
    """A string param, or None when it is absent, null or blank."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParams(f"{name} must be str, not {type(value).__name__}")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidParams(f"{name} must be at most {max_length} characters")
    return value or None


def seed(params: dict[str, Any], ctx: WorkloadContext) -> str:
    """The `seed` param, else the unit's id: two runs differ, and a rerun of one repeats it."""
    return optional_text(params, "seed", MAX_SEED_LENGTH) or ctx.unit_id or uuid.uuid4().hex
