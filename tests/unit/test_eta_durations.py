"""The ETA's duration statistics (jobsched.foresight.durations): cached a minute per process,
an empty history only a few seconds (a new deployment's first runs count at once)."""

from datetime import timedelta
from typing import Any

from jobsched.foresight.durations import CACHE_SECONDS, EMPTY_CACHE_SECONDS, DurationStats
from jobsched.models import JobRun, RunStatus, utcnow
from jobsched.ports import Page, RunFilter


class Runs:
    def __init__(self) -> None:
        self.runs: list[JobRun] = []
        self.reads = 0

    def list_page(self, filters: RunFilter, limit: int, cursor: str | None) -> Page[JobRun]:
        self.reads += 1
        chosen = [r for r in self.runs if filters.template_id in (None, r.template_id)]
        return Page(chosen[:limit], None)

    def add(self, template_id: str, seconds: float) -> None:
        end = utcnow()
        self.runs.append(
            JobRun(
                run_id=f"run_{len(self.runs)}",
                job_id="job_x",
                template_id=template_id,
                status=RunStatus.COMPLETED,
                started_at=end - timedelta(seconds=seconds),
                finished_at=end,
            )
        )


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def stats() -> tuple[DurationStats, Runs, Clock]:
    runs, clock = Runs(), Clock()
    any_runs: Any = runs
    return DurationStats(any_runs, clock), runs, clock


def test_a_templates_history_is_read_once_a_minute() -> None:
    durations, runs, clock = stats()
    runs.add("t", 60.0)

    assert durations.of("t").samples == (60.0,)
    runs.add("t", 30.0)
    clock.now = CACHE_SECONDS - 1
    assert durations.of("t").samples == (60.0,)
    assert runs.reads == 1
    clock.now = CACHE_SECONDS + 1
    assert durations.of("t").samples == (30.0, 60.0)


def test_no_history_falls_back_and_is_read_again_soon() -> None:
    durations, runs, clock = stats()

    first = durations.of("t")
    assert (first.basis, first.samples) == ("default", (300.0,))
    runs.add("other", 10.0)
    clock.now = EMPTY_CACHE_SECONDS + 1
    pooled = durations.of("t")
    assert (pooled.basis, pooled.samples) == ("pooled", (10.0,))
    runs.add("t", 20.0)
    clock.now = 2 * EMPTY_CACHE_SECONDS + 2
    assert durations.of("t").basis == "history"
