"""Cursor pagination over DynamoDB queries.

A cursor is the key of the last item returned (plus the position reached, for the queue view),
base64url-encoded. With a filter, DynamoDB may return short pages; we keep reading until the page
is full, and the cursor points after the last item we return, never past an unread one.
"""

from dataclasses import dataclass, field
from typing import Any

from jobsched.adapters import cursors
from jobsched.adapters.cursors import foreign_cursor
from jobsched.adapters.dynamodb.client import Dynamo, error_code, store_errors


@dataclass(frozen=True)
class Cursor:
    key: dict[str, Any] | None
    offset: int = 0


def encode_cursor(key: dict[str, Any], offset: int = 0) -> str:
    return cursors.encode_cursor(key, offset)


def decode_cursor(cursor: str | None) -> Cursor:
    key, offset = cursors.decode_cursor(cursor, dict)
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


def _check_cursor_key(key: dict[str, Any], query: Query) -> None:
    """A cursor is client input: its key must be a key of this query, or DynamoDB errors (5xx)."""
    if key.keys() != set(query.key_attributes):
        raise foreign_cursor()
    for value in key.values():  # every key attribute of every table is a string (tables.py)
        if not (isinstance(value, dict) and len(value) == 1 and isinstance(value.get("S"), str)):
            raise foreign_cursor()


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
                raise foreign_cursor() from exc
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


@dataclass(frozen=True)
class ListIndexes:
    """How a table's lists are read: a global index per filter attribute, and one by kind."""

    table: str
    table_keys: tuple[str, ...]
    kind: str
    sort_key: str  # the indexes' shared sort key, a fixed-width time (codec.sort_time)
    by_attribute: dict[str, str]  # filter attribute -> index, most selective first
    by_kind: str


def filtered_query(
    lists: ListIndexes,
    filters: dict[str, str | None],
    since: str | None = None,
    until: str | None = None,
) -> Query:
    """Newest first. The most selective filter given picks the index; the others become a filter
    expression; since/until bound the sort key."""
    chosen = next((name for name in lists.by_attribute if filters.get(name) is not None), None)
    names = {"#sort": lists.sort_key}
    if chosen is None:
        index, partition, value = lists.by_kind, "kind", lists.kind
    else:
        index, partition, value = lists.by_attribute[chosen], chosen, str(filters[chosen])
    names["#part"] = partition
    values: dict[str, Any] = {":part": {"S": value}}
    condition = "#part = :part"
    if since is not None:
        values[":since"] = {"S": since}
    if until is not None:
        values[":until"] = {"S": until}
    if since is not None and until is not None:
        condition += " AND #sort BETWEEN :since AND :until"
    elif since is not None:
        condition += " AND #sort >= :since"
    elif until is not None:
        condition += " AND #sort <= :until"
    clauses = []
    for number, (name, wanted) in enumerate(sorted(filters.items())):
        if wanted is None or name == chosen:
            continue
        names[f"#f{number}"] = name
        values[f":f{number}"] = {"S": wanted}
        clauses.append(f"#f{number} = :f{number}")
    if since is None and until is None:
        names.pop("#sort")
    return Query(
        table=lists.table,
        index=index,
        key_condition=condition,
        names=names,
        values=values,
        filter=" AND ".join(clauses) or None,
        key_attributes=(*lists.table_keys, partition, lists.sort_key),
        forward=False,
    )


def count(dynamo: Dynamo, **params: Any) -> int:
    """Select=COUNT over every page of a query (DynamoDB counts at most 1 MB a page)."""
    total = 0
    while True:
        with store_errors():
            response = dynamo.client.query(Select="COUNT", **params)
        total += int(response.get("Count", 0))
        if "LastEvaluatedKey" not in response:
            return total
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
