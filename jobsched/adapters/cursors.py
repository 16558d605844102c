"""The opaque list cursors both store adapters hand out: a key of the adapter's own shape (the
last item returned) and the position reached, as base64url JSON. A cursor is client input: a
malformed one, or one of another list, is a 422 on `cursor`, never a store error."""

import base64
import binascii
import json
from typing import Any

from jobsched.errors import ValidationFailedError


def encode_cursor(key: Any, offset: int = 0) -> str:
    raw = json.dumps({"k": key, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, key_type: type) -> tuple[Any, int]:
    """(key, offset); (None, 0) for no cursor. The key must be a `key_type` (the adapter's)."""
    if not cursor:
        return None, 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key, offset = data["k"], int(data.get("o", 0))
        if not isinstance(key, key_type) or offset < 0:
            raise ValueError("bad cursor shape")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailedError.on("cursor", "is not a cursor this API issued") from exc
    return key, offset


def foreign_cursor() -> ValidationFailedError:
    return ValidationFailedError.on("cursor", "is not a cursor this API issued for this list")
