"""Cold-start cost of the API's Lambda entry module against a bare FastAPI + Mangum app.

Each figure is the median of fresh interpreters running `python -X importtime`, summing the
cumulative time of the top-level imports made by `import <module>` (startup imports excluded
by a marker written just before it). The goal: `api.handler` within 1.2x of the baseline.
"""

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repo, so `api` and `bench` import
TARGET = "api.handler"
BASELINE = "bench.baseline_app"
SAME_SIZE = "bench.routes_app"  # a framework-only app with as many routes as ours
RUNS = 7
GOAL_RATIO = 1.2
MARKER = "--jobsched-bench-import--"


@dataclass(frozen=True)
class Measure:
    module: str
    median_ms: float | None
    error: str | None = None


def route_count() -> int:
    """How many routes our app has (counted in a throwaway interpreter)."""
    code = (
        "from fastapi.routing import APIRoute\n"
        "from api.app import create_app\n"
        "app = create_app()\n"
        "try:\n"
        "    from fastapi.routing import iter_route_contexts\n"
        "    routes = [c.original_route for c in iter_route_contexts(app.routes)]\n"
        "except ImportError:\n"
        "    routes = list(app.routes)\n"
        "print(sum(isinstance(r, APIRoute) for r in routes))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip())


def _one_run(module: str, env: dict[str, str] | None = None) -> float:
    """Milliseconds `import module` took in a fresh interpreter; raises on import failure."""
    code = f"import sys; sys.stderr.write({MARKER!r} + '\\n'); import {module}"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise ImportError(last)
    _, _, after = result.stderr.partition(MARKER + "\n")
    return _top_level_ms(after)


def _top_level_ms(report: str) -> float:
    # Lines look like "import time:  self [us] | cumulative | name"; nested imports are indented.
    total_us = 0
    for line in report.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.split("|", 2)
        if not name.startswith("  ") and cumulative.strip().isdigit():
            total_us += int(cumulative)
    return total_us / 1000


def measure(module: str, runs: int = RUNS, env: dict[str, str] | None = None) -> Measure:
    try:
        _one_run(module, env)  # warm-up: writes the .pyc files a deployed package would ship
        times = [_one_run(module, env) for _ in range(runs)]
    except (ImportError, subprocess.TimeoutExpired) as exc:
        return Measure(module, None, str(exc))
    return Measure(module, statistics.median(times))


def main() -> None:
    print(f"Import time, median of {RUNS} fresh interpreters (python -X importtime)")
    routes = route_count()
    baseline = measure(BASELINE)
    same_size = measure(SAME_SIZE, env={"BENCH_ROUTES": str(routes)})
    target = measure(TARGET)
    for result in (baseline, same_size, target):
        if result.median_ms is None:
            print(f"  {result.module:<20} not importable: {result.error}")
        else:
            print(f"  {result.module:<20} {result.median_ms:8.1f} ms")
    if baseline.median_ms and target.median_ms:
        ratio = target.median_ms / baseline.median_ms
        verdict = "within" if ratio <= GOAL_RATIO else "above"
        print(f"  ratio to the bare app {ratio:.2f} ({verdict} the goal of {GOAL_RATIO})")
    if same_size.median_ms and target.median_ms:
        ratio = target.median_ms / same_size.median_ms
        print(
            f"  ratio to a framework-only app with the same {routes} routes {ratio:.2f} "
            "(what our own modules add)"
        )


if __name__ == "__main__":
    main()
