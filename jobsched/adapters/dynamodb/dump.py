"""Every table's items as DynamoDB JSON (the client's own item shape), read and put back: what
the local runtime saves across restarts (local/snapshot.py), so loading puts back exactly what
the stores wrote, for the same adapters to read.

Tables are scanned one after the other, so a transaction landing between two scans could tear
a read (a job claimed in one table, not yet in another): `scan_tables` returns only when two
passes in a row read the same items.
"""

import time
from collections.abc import Callable
from typing import Any

from jobsched.adapters.dynamodb.client import Dynamo, error_code
from jobsched.adapters.dynamodb.tables import TABLES

BATCH_SIZE = 25  # BatchWriteItem's limit
WRITE_ATTEMPTS = 8  # of a batch's unprocessed items, with a growing pause between
SCAN_PASSES = 4  # to read two equal passes in a row while the system works
# What changes a table.
WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)

Item = dict[str, Any]
Tables = dict[str, list[Item]]  # entity -> items


class TablesBusyError(Exception):
    """The tables kept changing while they were read: no consistent copy this time."""


class ItemsRefusedError(Exception):
    """The store refused an item being put back (the message says which table and why)."""


def entities() -> frozenset[str]:
    return frozenset(spec.entity for spec in TABLES)


def scan_tables(dynamo: Dynamo, passes: int = SCAN_PASSES) -> Tables:
    """Every table's items, read until two passes in a row agree (see the module's doc)."""
    previous = _scan_all(dynamo)
    for _ in range(passes - 1):
        current = _scan_all(dynamo)
        if current == previous:
            return current
        previous = current
    raise TablesBusyError(f"the tables changed during each of {passes} reads")


def _scan_all(dynamo: Dynamo) -> Tables:
    return {spec.entity: _scan(dynamo, dynamo.table(spec.entity)) for spec in TABLES}


def _scan(dynamo: Dynamo, table: str) -> list[Item]:
    items: list[Item] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamo.client.scan(**request)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def put_tables(dynamo: Dynamo, tables: Tables) -> int:
    """Put the items back into the (fresh, empty) tables; returns how many."""
    for entity, items in tables.items():
        table = dynamo.table(entity)
        for start in range(0, len(items), BATCH_SIZE):
            try:
                _write_batch(dynamo, table, items[start : start + BATCH_SIZE])
            except Exception as exc:
                if not error_code(exc):  # not the store refusing an item: a bug
                    raise
                raise ItemsRefusedError(f"{entity}: {exc}") from exc
    return sum(len(items) for items in tables.values())


def _write_batch(dynamo: Dynamo, table: str, items: list[Item]) -> None:
    requests: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in items]}
    for attempt in range(WRITE_ATTEMPTS):
        response = dynamo.client.batch_write_item(RequestItems=requests)
        requests = response.get("UnprocessedItems") or {}
        if not requests:
            return
        time.sleep(0.05 * 2**attempt)
    raise TablesBusyError(f"{table}: items still unprocessed after {WRITE_ATTEMPTS} attempts")


def on_write(dynamo: Dynamo, callback: Callable[[], None]) -> None:
    """Call `callback` before each write call this client makes (not other clients': a worker's
    heartbeats are not seen)."""

    def seen(model: Any, **kwargs: Any) -> None:
        if model.name in WRITE_OPERATIONS:
            callback()

    dynamo.client.meta.events.register("before-call.dynamodb", seen)
