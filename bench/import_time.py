"""Cold-start cost of the API's Lambda entry module against a bare FastAPI + Mangum app.

Each figure is the median of fresh interpreters running `python -X importtime`, summing the
cumulative time of the top-level imports made by `import <module>` (startup imports excluded
by a marker written just before it). The goal: `api.handler` within 1.2x of the baseline.

A cold start also pays for its first request: FastAPI builds an included router's routes (per
prefix it is included under) when a request first routes through them. So the first call of
`api.handler.handler` is timed too, in fresh interpreters, for a path of each API and for a
404 (which routes through every route).
"""

import json
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
# Unauthenticated GETs: the guard and the route's key check answer 401 without reading a store
# (the stub stands in for the AWS wiring, whose boto3 import is not what this measures), and
# the body limit is given so that the settings are not parsed.
FIRST_PATHS = ("/api/v2/jobs", "/scheduler/jobs", "/jobs", "/api/v1/jobs", "/no/such/route")
FIRST_REQUEST = """\
import json, sys, time
from types import SimpleNamespace
import api.handler as entry
entry.app.state.stores = lambda: SimpleNamespace(keys=None)
entry.app.state.max_body_bytes = 1 << 20
path = sys.argv[1]
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
    "headers": {"host": "api.example.com"}, "isBase64Encoded": False,
    "requestContext": {"http": {"method": "GET", "path": path, "sourceIp": "203.0.113.7",
                                "protocol": "HTTP/1.1"}, "stage": "$default"},
}
start = time.perf_counter()
status = entry.handler(event, None)["statusCode"]
print(json.dumps({"ms": (time.perf_counter() - start) * 1000, "status": status}))
"""


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


def first_request(path: str, runs: int = RUNS) -> tuple[float, int]:
    """Median milliseconds of the first request to `path` after the import, and its status."""
    times: list[float] = []
    status = 0
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", FIRST_REQUEST, path],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        times.append(float(answer["ms"]))
        status = int(answer["status"])
    return statistics.median(times), status


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
    print(f"First request after the import, median of {RUNS} fresh interpreters")
    for path in FIRST_PATHS:
        ms, status = first_request(path)
        print(f"  GET {path:<20} {status}  {ms:8.1f} ms")


if __name__ == "__main__":
    main()
