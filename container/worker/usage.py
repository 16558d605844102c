"""What a unit's model calls used: tokens and US$ per call, and the run's totals by model.

Every call a workload makes goes through `MeteredProvider` (the workload context wraps its
provider in one), which adds the call to the unit's `UsageMeter` and logs a `model_call` event.
At the end of the run the worker logs the meter's totals once, as the `usage` event, and sends
them in the result transaction (`__USAGE__`): the shape of `Usage` is what the server reads.
"""

import math
import threading
from dataclasses import dataclass, field
from typing import TypedDict

from worker.events import EventLog
from worker.providers.base import Completion, CompletionRequest, Provider, ProviderError


class ModelUsage(TypedDict):
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # of the priced calls only
    unpriced_calls: int  # calls whose cost the provider could not tell


class Usage(TypedDict):
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    unpriced_calls: int
    by_model: list[ModelUsage]  # sorted by model name


@dataclass
class _Tally:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    costs: list[float] = field(default_factory=list)  # summed with fsum: no drift over a run
    unpriced_calls: int = 0


class UsageMeter:
    """The unit's running totals; safe to feed from the workload's threads while it is read."""

    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = {}
        self._lock = threading.Lock()

    def record(self, spent: Completion) -> None:
        with self._lock:
            tally = self._tallies.setdefault(spent.model, _Tally())
            tally.calls += 1
            tally.prompt_tokens += spent.prompt_tokens
            tally.completion_tokens += spent.completion_tokens
            if spent.cost_usd is None:
                tally.unpriced_calls += 1
            else:
                tally.costs.append(spent.cost_usd)

    def totals(self) -> Usage:
        """The totals so far; zeros and an empty by_model for a run that called no model."""
        with self._lock:
            by_model = [
                ModelUsage(
                    model=model,
                    calls=tally.calls,
                    prompt_tokens=tally.prompt_tokens,
                    completion_tokens=tally.completion_tokens,
                    cost_usd=math.fsum(tally.costs),
                    unpriced_calls=tally.unpriced_calls,
                )
                for model, tally in sorted(self._tallies.items())
            ]
            costs = [cost for tally in self._tallies.values() for cost in tally.costs]
        return Usage(
            calls=sum(entry["calls"] for entry in by_model),
            prompt_tokens=sum(entry["prompt_tokens"] for entry in by_model),
            completion_tokens=sum(entry["completion_tokens"] for entry in by_model),
            cost_usd=math.fsum(costs),
            unpriced_calls=sum(entry["unpriced_calls"] for entry in by_model),
            by_model=by_model,
        )


class MeteredProvider:
    """A provider whose every call is counted and logged: answered calls, and calls answered
    unusably (a ProviderError that says what it spent), since both were paid for."""

    def __init__(self, provider: Provider, meter: UsageMeter, events: EventLog) -> None:
        self._provider = provider
        self._meter = meter
        self._events = events

    @property
    def name(self) -> str:
        return self._provider.name

    def complete(self, request: CompletionRequest) -> Completion:
        try:
            completion = self._provider.complete(request)
        except ProviderError as exc:
            if exc.spent is not None:
                self._record(exc.spent)
            raise
        self._record(completion)
        return completion

    def _record(self, spent: Completion) -> None:
        self._meter.record(spent)
        self._events.emit(
            "model_call",
            model=spent.model,
            prompt_tokens=spent.prompt_tokens,
            completion_tokens=spent.completion_tokens,
            cost_usd=spent.cost_usd,  # null: unpriced
        )
