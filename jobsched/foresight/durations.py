"""How long a template's runs take: the durations of its newest completed runs, kept a minute
per process so an ETA costs no run reads on most requests."""

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from jobsched.foresight.simulate import Durations
from jobsched.models import RunStatus
from jobsched.ports import RunFilter, RunStore, Stores

HISTORY_RUNS = 50  # a bounded window: recent runs say more about the next one than old ones
CACHE_SECONDS = 60.0
EMPTY_CACHE_SECONDS = 5.0  # no history yet: a new deployment's first runs count at once
DEFAULT_SECONDS = 300.0  # nothing ever completed: an assumed five minutes, said as "default"
POOLED = ""  # the cache's key for the durations of all templates' runs


def durations_of(run_store: RunStore, template_id: str | None) -> tuple[float, ...]:
    """The durations of the newest completed runs (of a template, or of all), one Query."""
    page = run_store.list_page(
        RunFilter(template_id=template_id, status=RunStatus.COMPLETED), HISTORY_RUNS, None
    )
    return tuple(
        sorted(
            (run.finished_at - run.started_at).total_seconds()
            for run in page.items
            if run.finished_at is not None
        )
    )


@dataclass
class DurationStats:
    """Per-process: each template's durations, read once a minute at most."""

    run_store: RunStore
    clock: Callable[[], float] = time.monotonic
    _kept: dict[str, tuple[float, tuple[float, ...]]] = field(default_factory=dict)

    def _samples(self, key: str) -> tuple[float, ...]:
        hit = self._kept.get(key)
        if hit is not None:
            kept_for = CACHE_SECONDS if hit[1] else EMPTY_CACHE_SECONDS
            if self.clock() - hit[0] < kept_for:
                return hit[1]
        samples = durations_of(self.run_store, key or None)
        self._kept[key] = (self.clock(), samples)
        return samples

    def of(self, template_id: str) -> Durations:
        """The template's own history; without one, every template's; without any, the
        default (each basis is said in the estimate)."""
        own = self._samples(template_id)
        return Durations(own, "history") if own else self.pooled()

    def pooled(self) -> Durations:
        pooled = self._samples(POOLED)
        return Durations(pooled, "pooled") if pooled else Durations((DEFAULT_SECONDS,), "default")


_STATS: "weakref.WeakKeyDictionary[RunStore, DurationStats]" = weakref.WeakKeyDictionary()


def duration_stats(stores: Stores) -> DurationStats:
    """The process's statistics for these stores (a Lambda container keeps them warm)."""
    stats = _STATS.get(stores.runs)
    if stats is None:
        stats = _STATS[stores.runs] = DurationStats(stores.runs)
    return stats
