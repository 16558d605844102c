"""Entities to rows and back: each row holds the entity as JSON (`doc`) beside the few columns
its table is keyed, indexed and conditioned on, which are always derived from the entity."""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from jobsched.errors import ValidationFailedError

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
    raw = json.dumps({"k": key, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[list[Any] | None, int]:
    if not cursor:
        return None, 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key, offset = data["k"], int(data.get("o", 0))
        if not isinstance(key, list) or offset < 0:
            raise ValueError("bad cursor shape")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailedError.on("cursor", "is not a cursor this API issued") from exc
    return key, offset
