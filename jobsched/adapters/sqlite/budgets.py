"""Budget counters (dynamodb/budgets.py's SQLite twin): one row per budget period, its committed
tokens and micro-US$. Written inside the dispatch transaction (steps.py), so a charge's check
and its add see no other writer."""

import sqlite3
from collections.abc import Iterable

from jobsched.models import steps as s
from jobsched.models.budgets import BudgetSpend
from jobsched.models.usage import Usage


def charge_budget(conn: sqlite3.Connection, step: s.ChargeBudget) -> bool:
    hold = step.hold
    spend = spend_of(conn, [hold.counter]).get(hold.counter, BudgetSpend())
    if spend.spent(hold):
        return False
    add_to(conn, [hold.counter], 1, 1)
    return True


def settle(
    conn: sqlite3.Connection, counters: Iterable[str], usage: Usage | None, charged: int
) -> None:
    """Add a run's usage to its counters, less the `charged` unit its claim added."""
    tokens = usage.total_tokens if usage is not None else 0
    micro_usd = usage.cost_micro_usd if usage is not None else 0
    add_to(conn, counters, tokens - charged, micro_usd - charged)


def add_to(conn: sqlite3.Connection, counters: Iterable[str], tokens: int, micro_usd: int) -> None:
    conn.executemany(
        "INSERT INTO budget_counters (counter, tokens, micro_usd) VALUES (?, ?, ?) "
        "ON CONFLICT (counter) DO UPDATE SET tokens = tokens + excluded.tokens, "
        "micro_usd = micro_usd + excluded.micro_usd",
        [(counter, tokens, micro_usd) for counter in counters],
    )


def spend_of(conn: sqlite3.Connection, counters: list[str]) -> dict[str, BudgetSpend]:
    """The counters that exist (a period nothing charged yet has no row: nothing committed)."""
    if not counters:
        return {}
    marks = ", ".join("?" for _ in counters)
    rows = conn.execute(
        f"SELECT counter, tokens, micro_usd FROM budget_counters WHERE counter IN ({marks})",  # noqa: S608 - our SQL
        counters,
    ).fetchall()
    return {
        row["counter"]: BudgetSpend(tokens=row["tokens"], micro_usd=row["micro_usd"])
        for row in rows
    }
