"""Cursor pagination over DynamoDB queries.

A cursor is the key of the last item returned (plus the position reached, for the queue view),
base64url-encoded. With a filter, DynamoDB may return short pages; we keep reading until the page
is full, and the cursor points after the last item we return, never past an unread one.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from jobsched.adapters.dynamodb.client import Dynamo, error_code, store_errors
from jobsched.errors import ValidationFailedError


@dataclass(frozen=True)
class Cursor:
    key: dict[str, Any] | None
    offset: int = 0


def encode_cursor(key: dict[str, Any], offset: int = 0) -> str:
    raw = json.dumps({"k": key, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Cursor:
    if not cursor:
        return Cursor(None, 0)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        key, offset = data["k"], int(data.get("o", 0))
        if not isinstance(key, dict) or offset < 0:
            raise ValueError("bad cursor shape")
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailedError.on("cursor", "is not a cursor this API issued") from exc
    return Cursor(key, offset)


@dataclass
class Query:
    """One DynamoDB Query, described once and read page by page."""

    table: str
    key_condition: str
    values: dict[str, Any]
    key_attributes: tuple[str, ...]  # table key + index key: what a cursor must hold
    index: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    filter: str | None = None
    forward: bool = True
    consistent: bool = False

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": self.key_condition,
            "ExpressionAttributeValues": self.values,
            "ScanIndexForward": self.forward,
            "ConsistentRead": self.consistent,
        }
        if self.index:
            params["IndexName"] = self.index
        if self.names:
            params["ExpressionAttributeNames"] = self.names
        if self.filter:
            params["FilterExpression"] = self.filter
        return params


def _foreign_cursor() -> ValidationFailedError:
    return ValidationFailedError.on("cursor", "is not a cursor this API issued for this list")


def _check_cursor_key(key: dict[str, Any], query: Query) -> None:
    """A cursor is client input: its key must be a key of this query, or DynamoDB errors (5xx)."""
    if key.keys() != set(query.key_attributes):
        raise _foreign_cursor()
    for value in key.values():  # every key attribute of every table is a string (tables.py)
        if not (isinstance(value, dict) and len(value) == 1 and isinstance(value.get("S"), str)):
            raise _foreign_cursor()


def read_page(
    dynamo: Dynamo, query: Query, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None, int]:
    """Up to `limit` items after `cursor`; returns (items, next cursor, offset of the first)."""
    start = decode_cursor(cursor)
    if start.key is not None:
        _check_cursor_key(start.key, query)
    items: list[dict[str, Any]] = []
    exclusive_start = start.key
    more = True
    while more and len(items) < limit:
        params = query.params()
        params["Limit"] = limit - len(items) if not query.filter else max(limit, 25)
        if exclusive_start:
            params["ExclusiveStartKey"] = exclusive_start
        try:
            with store_errors():
                response = dynamo.client.query(**params)
        except Exception as exc:
            # DynamoDB rejects a start key that is not one of this index's keys.
            if start.key is not None and error_code(exc) == "ValidationException":
                raise _foreign_cursor() from exc
            raise
        page = response.get("Items", [])
        taken = page[: limit - len(items)]
        items.extend(taken)
        exclusive_start = response.get("LastEvaluatedKey")
        more = exclusive_start is not None
        if len(taken) < len(page):
            more = True  # we stopped inside this page: the cursor must point at our last item
            break
    next_cursor = None
    if items and more:
        last = items[-1]
        next_cursor = encode_cursor(
            {name: last[name] for name in query.key_attributes if name in last},
            start.offset + len(items),
        )
    return items, next_cursor, start.offset
