"""Keyset pagination, newest first, as the DynamoDB lists read their indexes.

A cursor holds the sort key and id of the last row returned, so a page costs one indexed range
read at any depth, and rows written meanwhile neither repeat nor vanish from later pages. It
also names the list that issued it (the table and the index it reads), so a cursor of another
list is refused as DynamoDB refuses a start key of another index, rather than read as a key.
"""

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jobsched.adapters.cursors import foreign_cursor
from jobsched.adapters.sqlite.codec import decode_cursor, encode_cursor


@dataclass(frozen=True)
class Listing:
    table: str
    id_column: str
    sort_column: str  # a fixed-width time (codec.sort_time)


def list_name(listing: Listing, equals: Mapping[str, str | None]) -> str:
    """The table and the first filter given: the index the DynamoDB twin reads (its lists
    give their filters most selective first, and filter the rest), so the same cursors pass."""
    index = next((column for column, value in equals.items() if value is not None), "all")
    return f"{listing.table}.{index}"


def newest_first(
    conn: sqlite3.Connection,
    listing: Listing,
    equals: Mapping[str, str | None],
    limit: int,
    cursor: str | None,
    since: str | None = None,
    until: str | None = None,
    condition: str | None = None,
    condition_params: Sequence[object] = (),
) -> tuple[list[str], str | None]:
    """Up to `limit` docs matching every non-None `equals` column (and since <= sort <= until,
    and the caller's own SQL `condition`, never client text), after `cursor`; returns (docs,
    the next cursor or None at the end)."""
    key, offset = decode_cursor(cursor)
    name = list_name(listing, equals)
    clauses: list[str] = []
    params: list[object] = []
    if condition is not None:
        clauses.append(f"({condition})")
        params += condition_params
    for column, value in equals.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        clauses.append(f"{listing.sort_column} >= ?")
        params.append(since)
    if until is not None:
        clauses.append(f"{listing.sort_column} <= ?")
        params.append(until)
    if key is not None:
        if len(key) != 3 or not all(isinstance(part, str) for part in key) or key[2] != name:
            raise foreign_cursor()
        clauses.append(f"({listing.sort_column}, {listing.id_column}) < (?, ?)")
        params += key[:2]
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"SELECT {listing.sort_column}, {listing.id_column}, doc FROM {listing.table} {where} "  # noqa: S608 - identifiers are ours
        f"ORDER BY {listing.sort_column} DESC, {listing.id_column} DESC LIMIT ?",
        [*params, limit + 1],
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor([last[0], last[1], name], offset + len(rows))
    return [row["doc"] for row in rows], next_cursor
