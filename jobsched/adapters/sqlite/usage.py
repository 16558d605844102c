"""The usage ledger's rows (dynamodb/usage.py's SQLite twin): one per scope, id and UTC hour."""

import sqlite3
from datetime import datetime

from jobsched.models.usage import COUNTERS, Usage, UsageTotals, charges, hour_of

_COLUMNS = ", ".join(COUNTERS)
_ADD = ", ".join(f"{name} = {name} + excluded.{name}" for name in COUNTERS)


def add_usage(
    conn: sqlite3.Connection,
    usage: Usage,
    template_id: str,
    schedule_id: str | None,
    ended_at: datetime,
) -> None:
    """Add one run's usage to its template's bucket (and its schedule's), in the caller's
    transaction: the run's record and the ledger change together or not at all."""
    totals = UsageTotals.of(usage)
    values = tuple(getattr(totals, name) for name in COUNTERS)
    hour = hour_of(ended_at)
    for scope, scope_id in charges(template_id, schedule_id):
        conn.execute(
            f"INSERT INTO usage (scope, hour, scope_id, {_COLUMNS}) "  # noqa: S608 - our SQL
            f"VALUES (?, ?, ?, {', '.join('?' for _ in COUNTERS)}) "
            f"ON CONFLICT (scope, hour, scope_id) DO UPDATE SET {_ADD}",
            (scope, hour, scope_id, *values),
        )


def usage_sums(
    conn: sqlite3.Connection, scope: str, since_hour: str, until_hour: str
) -> dict[str, UsageTotals]:
    """Each id's totals over the buckets from `since_hour` to `until_hour`, both included."""
    sums = ", ".join(f"sum({name}) AS {name}" for name in COUNTERS)
    rows = conn.execute(
        f"SELECT scope_id, {sums} FROM usage WHERE scope = ? AND hour >= ? AND hour <= ? "  # noqa: S608 - our SQL
        "GROUP BY scope_id ORDER BY scope_id",
        (scope, since_hour, until_hour),
    ).fetchall()
    return {row["scope_id"]: UsageTotals(**{name: row[name] for name in COUNTERS}) for row in rows}
