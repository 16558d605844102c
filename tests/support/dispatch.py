"""Dispatch fixtures: a dispatcher over the moto stores with a clock the test moves, and edges
(kicker, task stopper) that record what they were asked."""

from dataclasses import dataclass, field

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.models import JobTemplate, RetryPolicy
from jobsched.ports import Stores


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Edges:
    kicks: int = 0
    stopped: list[tuple[str, str]] = field(default_factory=list)

    def kick(self) -> None:
        self.kicks += 1

    def stop(self, unit_id: str, reason: str) -> None:
        self.stopped.append((unit_id, reason))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock()


@pytest.fixture
def edges() -> Edges:
    return Edges()


@pytest.fixture
def wired(stores: Stores, edges: Edges) -> Stores:
    return stores.with_edges(kicker=edges, tasks=edges)


@pytest.fixture
def template(wired: Stores) -> str:
    wired.templates.create(
        JobTemplate(
            template_id="work",
            name="Work",
            workload="echo",
            retry=RetryPolicy(max_attempts=2, backoff_seconds=30, backoff_multiplier=2),
        )
    )
    return "work"


@pytest.fixture
def dispatcher(wired: Stores, clock: Clock) -> Dispatcher:
    return Dispatcher(wired, wired.dispatch, DispatchConfig(slots=1), clock=clock)


@dataclass
class Recorded:
    """A MetricsSink that keeps what it is given, in order."""

    metrics: list[tuple[str, str, float, dict[str, str]]] = field(default_factory=list)

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        self.metrics.append(("Count", name, value, dimensions))

    def seconds(self, name: str, value: float, **dimensions: str) -> None:
        self.metrics.append(("Seconds", name, value, dimensions))

    def names(self) -> list[str]:
        return [name for _, name, _, _ in self.metrics]

    def values(self, name: str) -> list[float]:
        return [value for _, metric, value, _ in self.metrics if metric == name]

    def take(self) -> list[str]:
        names = self.names()
        self.metrics.clear()
        return names
