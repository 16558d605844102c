"""Budgets: how many tokens and/or US$ a template's (or a schedule's) runs may use per day or per
month, in a time zone (issue 17, point 2).

A budget is counted by one counter per period (`<scope>:<id>:<period>:<zone>:<local date>`):
what the runs claimed in that period used, plus one unit for each such run still running. The
claim charges that unit with the condition "committed below the limit" (steps.ChargeBudget), so
two claims cannot both pass a budget's last unit; the run's end settles it (adds what the run
used, less the unit). A new period is a new counter: nothing needs resetting. See
docs/decisions.md, "Budgets".

Kept apart from the entities (which hold them) so that they import nothing of the package.
"""

import calendar
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

MAX_BUDGETS = 4  # each one applying to a job is one more item in its claim's transaction
MAX_TOKENS = 10**15
MAX_USD = 10**9
MICRO = 1_000_000


class BudgetPeriod(StrEnum):
    DAY = "day"
    MONTH = "month"


class OnExceed(StrEnum):
    HOLD_NEW = "hold_new"  # spent: no new run starts; running ones finish
    STOP = "stop"  # spent: running ones are stopped too


class BudgetScope(StrEnum):
    TEMPLATE = "template"
    SCHEDULE = "schedule"


class Budget(BaseModel):
    """At most `tokens` (prompt + completion) and/or `usd` per `period`, counted in `timezone`
    (the schedule's, or UTC for a template, when not given)."""

    # Closed; its numbers strict (a request's "100" is not 100), its enums read from text, as
    # they are stored.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        # The rule of _limited, stated in its JSON schema (null counts as absent).
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("tokens", "usd")
            ]
        },
    )

    period: BudgetPeriod = Field(description="day or month, in `timezone`")
    tokens: Annotated[int, Strict()] | None = Field(default=None, ge=1, le=MAX_TOKENS)
    usd: Annotated[float, Strict()] | None = Field(
        default=None, gt=0, le=MAX_USD, allow_inf_nan=False
    )
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="an IANA time zone; by default the schedule's (a template's: UTC)",
    )
    on_exceed: OnExceed = Field(
        default=OnExceed.HOLD_NEW,
        description="hold_new: a spent budget starts no new run; stop: it also stops running ones",
    )

    @model_validator(mode="after")
    def _limited(self) -> Self:
        if self.tokens is None and self.usd is None:
            raise ValueError("a budget limits tokens, usd or both")
        return self

    @property
    def micro_usd(self) -> int | None:
        return None if self.usd is None else max(1, round(self.usd * MICRO))


class BudgetHold(BaseModel):
    """One budget a claimed run charged: its period's counter and the limits it was held to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    counter: str
    scope: BudgetScope
    scope_id: str
    period: BudgetPeriod
    period_key: str = Field(description="the local date (2026-12-04) or month (2026-12)")
    timezone: str
    tokens: int | None = None
    micro_usd: int | None = None
    on_exceed: OnExceed = OnExceed.HOLD_NEW
    resets_at: datetime = Field(description="when the period turns (UTC)")


class BudgetSpend(BaseModel):
    """A counter's committed units: what its period's runs used, plus one per running run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens: int = 0
    micro_usd: int = 0

    def spent(self, hold: BudgetHold) -> bool:
        """Whether no new run may charge it: a limit is reached."""
        return (hold.tokens is not None and self.tokens >= hold.tokens) or (
            hold.micro_usd is not None and self.micro_usd >= hold.micro_usd
        )


def period_of(period: BudgetPeriod, zone: ZoneInfo, now: datetime) -> tuple[str, datetime]:
    """(the period's key, when it ends in UTC) for the local period holding `now`."""
    local = now.astimezone(zone)
    if period == BudgetPeriod.DAY:
        key = local.strftime("%Y-%m-%d")
        start = datetime(local.year, local.month, local.day, tzinfo=zone)
        turn = start + timedelta(days=1)
        end = datetime(turn.year, turn.month, turn.day, tzinfo=zone)
    else:
        key = local.strftime("%Y-%m")
        days = calendar.monthrange(local.year, local.month)[1]
        turn = datetime(local.year, local.month, days, tzinfo=zone) + timedelta(days=1)
        end = datetime(turn.year, turn.month, 1, tzinfo=zone)
    return key, end.astimezone(UTC)


def hold_of(
    budget: Budget, scope: BudgetScope, scope_id: str, default_zone: str, now: datetime
) -> BudgetHold:
    zone_name = budget.timezone or default_zone
    key, resets_at = period_of(budget.period, ZoneInfo(zone_name), now)
    return BudgetHold(
        counter=f"{scope.value}:{scope_id}:{budget.period.value}:{zone_name}:{key}",
        scope=scope,
        scope_id=scope_id,
        period=budget.period,
        period_key=key,
        timezone=zone_name,
        tokens=budget.tokens,
        micro_usd=budget.micro_usd,
        on_exceed=budget.on_exceed,
        resets_at=resets_at,
    )


def describe(hold: BudgetHold, spend: BudgetSpend) -> str:
    """Why a job waits, in words: which budget, how much of it is used, when it turns."""
    which = "daily" if hold.period == BudgetPeriod.DAY else "monthly"
    limits = []
    if hold.tokens is not None:
        limits.append(f"{spend.tokens:,} of {hold.tokens:,} tokens")
    if hold.micro_usd is not None:
        limits.append(f"US${spend.micro_usd / MICRO:,.2f} of US${hold.micro_usd / MICRO:,.2f}")
    return (
        f"the {which} budget of {hold.scope.value} {hold.scope_id!r} ({hold.period_key}, "
        f"{hold.timezone}) is spent: {' and '.join(limits)} committed; it turns at "
        f"{hold.resets_at.isoformat()}"
    )
