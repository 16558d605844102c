"""Entities to rows and back: each row holds the entity as JSON (`doc`) beside the few columns
its table is keyed, indexed and conditioned on, which are always derived from the entity."""

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from jobsched.adapters import cursors

M = TypeVar("M", bound=BaseModel)


def dump(model: BaseModel) -> str:
    return model.model_dump_json()


def load(model: type[M], doc: str) -> M:
    return model.model_validate_json(doc)


def sort_time(moment: datetime) -> str:
    """A fixed-width UTC timestamp, so columns order like the times they hold."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_cursor(key: list[Any], offset: int = 0) -> str:
    """The sort key of the last row returned (and the position reached, for the queue)."""
    return cursors.encode_cursor(key, offset)


def decode_cursor(cursor: str | None) -> tuple[list[Any] | None, int]:
    key, offset = cursors.decode_cursor(cursor, list)
    return key, offset
