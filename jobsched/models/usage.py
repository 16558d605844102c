"""What a run's model calls used: tokens and US$, in total and by model (issue 17, point 1).

The worker counts them and reports one `usage` object at exit (container/README.md); the run
records it and the usage ledger adds it up per template and per schedule, by the hour. A worker
is not trusted: what it reports is checked here, and a report that does not fit is dropped
(the run still ends, with no usage), never a reason to fail the run's end.
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_MODELS = 50  # by_model entries kept from one report: bounds the run's record
MAX_MODEL_NAME = 200
MICRO = 1_000_000  # the ledger counts cost in micro-US$: integers add up exactly

Count = Annotated[int, Field(ge=0, le=10**15)]
Cost = Annotated[float, Field(ge=0, le=10**9, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ModelUsage(_Model):
    model: str = Field(max_length=MAX_MODEL_NAME)
    calls: Count = 0
    prompt_tokens: Count = 0
    completion_tokens: Count = 0
    cost_usd: Cost = 0.0  # of the priced calls
    unpriced_calls: Count = 0  # calls whose cost the provider could not tell


class Usage(_Model):
    calls: Count = 0
    prompt_tokens: Count = 0
    completion_tokens: Count = 0
    cost_usd: Cost = 0.0
    unpriced_calls: Count = 0
    by_model: list[ModelUsage] = Field(default_factory=list, max_length=MAX_MODELS)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_micro_usd(self) -> int:
        return round(self.cost_usd * MICRO)

    @classmethod
    def reported(cls, text: str | None) -> "Usage | None":
        """The worker's report (JSON text), or None when there is none or it does not fit (an
        older image leaves the placeholder unfilled; a broken one may send anything)."""
        if not text:
            return None
        try:
            data: Any = json.loads(text)
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("by_model"), list):
            data = {**data, "by_model": data["by_model"][:MAX_MODELS]}
        try:
            return cls.model_validate(data)
        except ValidationError:
            return None


class UsageTotals(_Model):
    """A sum of runs' usage: one template's or schedule's over a time range, or everything's."""

    runs: Count = 0  # runs that reported usage
    calls: Count = 0
    prompt_tokens: Count = 0
    completion_tokens: Count = 0
    cost_micro_usd: Count = 0
    unpriced_calls: Count = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> float:
        return self.cost_micro_usd / MICRO

    @classmethod
    def of(cls, usage: Usage) -> "UsageTotals":
        return cls(
            runs=1,
            calls=usage.calls,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_micro_usd=usage.cost_micro_usd,
            unpriced_calls=usage.unpriced_calls,
        )

    def plus(self, other: "UsageTotals") -> "UsageTotals":
        return UsageTotals(
            runs=self.runs + other.runs,
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_micro_usd=self.cost_micro_usd + other.cost_micro_usd,
            unpriced_calls=self.unpriced_calls + other.unpriced_calls,
        )


# The ledger's counters, as both stores name them (a bucket's columns, an item's attributes).
COUNTERS = (
    "runs",
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "cost_micro_usd",
    "unpriced_calls",
)


class UsageScope:
    """What the ledger adds usage up by."""

    TEMPLATE = "template"
    SCHEDULE = "schedule"
    ALL = (TEMPLATE, SCHEDULE)


def hour_of(moment: datetime) -> str:
    """The ledger's bucket: the UTC hour a run ended in, as sortable text (2026-12-03T19)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def charges(template_id: str, schedule_id: str | None) -> list[tuple[str, str]]:
    """The (scope, id) pairs one run's usage is added to."""
    pairs = [(UsageScope.TEMPLATE, template_id)]
    if schedule_id:
        pairs.append((UsageScope.SCHEDULE, schedule_id))
    return pairs
