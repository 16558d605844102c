"""How DynamoDB sizes an item (its documented rules), so both store adapters refuse what DynamoDB
would refuse, before writing: the SQLite default never keeps what AWS could not, and the
DynamoDB adapter answers a clear 413 rather than a ValidationException from the call."""

import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from jobsched.errors import ContentTooLargeError

MAX_ITEM_BYTES = 400 * 1024
# User JSON held in an item as JSON text (dynamodb/codec.py encodes these fields so). A
# template's `checks` hold JSON Schemas, which may nest past the 32 levels a DynamoDB map takes.
JSON_TEXT_FIELDS = frozenset({"params", "default_params", "params_schema", "result", "checks"})


def dynamodb_size(value: Any) -> int:
    """The bytes DynamoDB counts for a JSON value."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, int | float):
        sign, digits, _ = Decimal(str(value)).normalize().as_tuple()
        return (len(digits) + 1) // 2 + 1 + sign
    if isinstance(value, list):
        return 3 + sum(dynamodb_size(element) + 1 for element in value)
    if isinstance(value, dict):
        return 3 + sum(len(k.encode()) + dynamodb_size(v) + 1 for k, v in value.items())
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def attributes_size(attributes: dict[str, Any]) -> int:
    return sum(len(name.encode()) + dynamodb_size(value) for name, value in attributes.items())


def model_item_size(model: BaseModel, **extra: Any) -> int:
    """The size of the item dynamodb/codec.encode makes of `model` and `extra`."""
    data = model.model_dump(mode="json", exclude_none=True)
    for name in JSON_TEXT_FIELDS & data.keys():
        data[name] = json.dumps(data[name], separators=(",", ":"))
    return attributes_size({**data, **extra})


def refuse_oversized(model: BaseModel, what: str, **extra: Any) -> None:
    size = model_item_size(model, **extra)
    if size > MAX_ITEM_BYTES:
        raise ContentTooLargeError(
            f"{what} is too large to store: {size} bytes as stored; an item holds 400 KB"
        )
