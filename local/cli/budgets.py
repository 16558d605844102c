"""How `templates show` and `schedules show` print a budget's current period."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from local.cli.output import when
from local.cli.usage import usd

if TYPE_CHECKING:
    from jobsched_client.models import BudgetStatusOut


def budget_line(status: BudgetStatusOut) -> str:
    """day 2026-12-04 (UTC): 1,200 of 1,000 tokens; spent, turns 2026-12-05 00:00:00Z."""
    used = []
    if status.tokens_limit is not None:
        used.append(f"{status.committed_tokens:,} of {status.tokens_limit:,} tokens")
    if status.usd_limit is not None:
        used.append(f"{usd(status.committed_usd)} of {usd(status.usd_limit)}")
    state = "spent" if status.spent else "open"
    return (
        f"{status.period} {status.period_key} ({status.timezone}): {', '.join(used)}; "
        f"{state}, turns {when(status.resets_at)}"
    )


def budget_rows(statuses: Sequence[BudgetStatusOut]) -> list[tuple[str, str]]:
    return [("budget", budget_line(status)) for status in statuses]
