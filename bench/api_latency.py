"""API latency of `jobsched local` (a real process, real HTTP on 127.0.0.1) under concurrent
clients: the SQLite store against the emulator (`--store dynamodb`, moto in the runtime's own
process) as the baseline, in the same run.

The queue is paused, so every job stays queued. After PREFILL jobs and a warm-up, each store
gets three phases of the same mix (enqueue, get, move, list):

- 1 client, one request at a time: a request's latency alone; GET /health beside it is the
  floor of the HTTP stack (no key, no store);
- CLIENTS clients paced, together PACED_RATE requests/s: latency is measured from when each
  request was due, so time spent waiting behind a slow answer counts (no coordinated
  omission);
- CLIENTS clients back to back: the requests per second the runtime can answer, and the
  latency at that saturation (by Little's law about CLIENTS / throughput).

Clients are threads of this process, on the same machine: their CPU time is printed beside
the runtime's, since both share the cores.
"""

import math
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.harness import fmt_ms, percentile
from bench.runtime_process import LocalProcess, running

CLIENTS = 20
PACED_RATE = 150.0  # requests/s of all clients together: about half SQLite's saturation here
PHASE_SECONDS = 15.0  # each timed phase; raise for tighter tails
ALONE = 200  # requests of the one-client phase (cut at PHASE_SECONDS: the emulator is slow)
PREFILL = 300
WARMUP = 40
MIX = {"enqueue": 25, "get": 35, "move": 15, "list": 25}  # weights
GOAL_P50_SECONDS = 0.010
GOAL_P99_SECONDS = 0.100
SEED = 7


@dataclass(frozen=True)
class Sample:
    kind: str
    seconds: float
    status: int


@dataclass
class Jobs:
    """Queued job ids the clients pick from; enqueues add to it."""

    ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job_id: str) -> None:
        with self.lock:
            self.ids.append(job_id)

    def pick(self, rng: random.Random) -> str:
        with self.lock:
            return rng.choice(self.ids)


Request = Callable[[httpx.Client, Jobs, random.Random], httpx.Response]


def enqueue(api: httpx.Client, jobs: Jobs, rng: random.Random) -> httpx.Response:
    response = api.post("/jobs", json={"template_id": "echo", "params": {"message": "bench"}})
    if response.status_code == 201:
        jobs.add(response.json()["job_id"])
    return response


def get(api: httpx.Client, jobs: Jobs, rng: random.Random) -> httpx.Response:
    return api.get(f"/jobs/{jobs.pick(rng)}")


def move(api: httpx.Client, jobs: Jobs, rng: random.Random) -> httpx.Response:
    """POST /queue/{job_id}/move (api/routers/queue.py): a position, or before/after a job."""
    job_id, other = jobs.pick(rng), jobs.pick(rng)
    body: dict[str, Any] = rng.choice(
        [{"position": rng.randint(1, 50)}, {"before": other}, {"after": other}]
    )
    if other == job_id and "position" not in body:
        body = {"position": 1}
    return api.post(f"/queue/{job_id}/move", json=body)


def list_jobs(api: httpx.Client, jobs: Jobs, rng: random.Random) -> httpx.Response:
    return api.get("/jobs")  # the first page, newest first (50 jobs, each with its position)


def health(api: httpx.Client, jobs: Jobs, rng: random.Random) -> httpx.Response:
    return api.get(api.base_url.copy_with(path="/health"))  # outside /api/v2: no key, no store


REQUESTS: dict[str, Request] = {
    "enqueue": enqueue,
    "get": get,
    "move": move,
    "list": list_jobs,
    "health": health,
}


@dataclass(frozen=True)
class Load:
    """What each client of a phase sends: how many, which, and how often (None: back to back)."""

    clients: int
    per_client: int
    mix: dict[str, int]
    interval: float | None = None


def client_loop(api: httpx.Client, jobs: Jobs, load: Load, seed: int) -> list[Sample]:
    """The client's requests until it has sent them all or the phase is over; a paced
    client that fell behind sends at once what is due."""
    rng = random.Random(seed)
    samples = []
    start = time.perf_counter()
    offset = rng.uniform(0, load.interval) if load.interval else 0.0  # clients out of step
    kinds = rng.choices(list(load.mix), list(load.mix.values()), k=load.per_client)
    for index, kind in enumerate(kinds):
        now = time.perf_counter()
        if now - start > PHASE_SECONDS:
            break
        due = start + offset + index * load.interval if load.interval else now
        time.sleep(max(0.0, due - now))
        response = REQUESTS[kind](api, jobs, rng)
        samples.append(Sample(kind, time.perf_counter() - due, response.status_code))
    return samples


@dataclass
class Phase:
    name: str
    load: Load
    samples: list[Sample]
    wall: float
    client_cpu: float  # this process's CPU seconds over the phase
    runtime_cpu: float | None  # the runtime process's (Linux /proc), or None

    @property
    def rate(self) -> float:
        return len(self.samples) / self.wall


def run_phase(local: LocalProcess, jobs: Jobs, load: Load, name: str) -> Phase:
    results: list[list[Sample]] = [[] for _ in range(load.clients)]
    barrier = threading.Barrier(load.clients + 1)

    def client(index: int) -> None:
        # Made and connected before the phase: a Client builds an SSL context, a tenth of a
        # second of CPU, and twenty at once would be timed as a second-long first request.
        with local.client() as api:
            health(api, jobs, random.Random())
            barrier.wait()
            results[index] = client_loop(api, jobs, load, SEED * 1000 + index)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(load.clients)]
    for thread in threads:
        thread.start()
    cpu, runtime_cpu = time.process_time(), process_cpu(local.process.pid)
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    spent = process_cpu(local.process.pid)
    runtime = spent - runtime_cpu if spent is not None and runtime_cpu is not None else None
    samples = [sample for result in results for sample in result]
    return Phase(name, load, samples, wall, time.process_time() - cpu, runtime)


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of `pid` (with its threads), from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(store: str) -> list[Phase]:
    paced_count = math.ceil(PHASE_SECONDS * PACED_RATE / CLIENTS)
    back_to_back = 10_000  # cut at PHASE_SECONDS
    with tempfile.TemporaryDirectory(prefix=f"jobsched-api-{store}-") as tmp:
        output = Path(tmp) / "local.log"
        with running(Path(tmp) / "data", store, output) as local:
            with local.client() as api:
                api.post("/queue/pause").raise_for_status()
            jobs = Jobs()
            run_phase(local, jobs, Load(4, PREFILL // 4, {"enqueue": 1}), "fill")
            run_phase(local, jobs, Load(1, WARMUP, MIX), "warm-up")
            phases = [
                run_phase(local, jobs, Load(1, ALONE, MIX | {"health": 10}), "1 client"),
                run_phase(
                    local,
                    jobs,
                    Load(CLIENTS, paced_count, MIX, CLIENTS / PACED_RATE),
                    f"{CLIENTS} paced",
                ),
                run_phase(local, jobs, Load(CLIENTS, back_to_back, MIX), f"{CLIENTS} b2b"),
            ]
            print(f"  {store}: {len(jobs.ids):,} jobs queued at the end", flush=True)
    return phases


# --- the figures ------------------------------------------------------------------------------


def quantile(values: list[float], pct: int) -> str:
    if not values:
        return "-"
    return fmt_ms(values[0] if len(values) == 1 else percentile(values, pct))


def rows(store: str, phase: Phase) -> list[list[str]]:
    lines = []
    kinds = [k for k in REQUESTS if any(s.kind == k for s in phase.samples)]
    for kind in [*kinds, "all"]:
        if kind == "all":  # the mix, without the floor
            samples = [s for s in phase.samples if s.kind != "health"]
        else:
            samples = [s for s in phase.samples if s.kind == kind]
        seconds = [s.seconds for s in samples]
        errors = Counter(s.status for s in samples if s.status >= 300)
        lines.append(
            [
                store,
                phase.name,
                kind,
                str(len(samples)),
                quantile(seconds, 50),
                quantile(seconds, 99),
                fmt_ms(max(seconds)) if seconds else "-",
                ", ".join(f"{code} x{n}" for code, n in sorted(errors.items())) or "-",
            ]
        )
    return lines


def render(results: dict[str, list[Phase]]) -> str:
    header = ["store", "phase", "request", "n", "p50", "p99", "max", "not 2xx"]
    table = [header] + [row for s, phases in results.items() for p in phases for row in rows(s, p)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 3 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join("  " + line for line in lines)


def throughput(results: dict[str, list[Phase]]) -> list[str]:
    lines = []
    for store, phases in results.items():
        for phase in phases:
            runtime = f"{phase.runtime_cpu:.1f} s" if phase.runtime_cpu is not None else "?"
            per_request = ""
            if phase.runtime_cpu is not None and phase.samples:
                per_request = f" ({fmt_ms(phase.runtime_cpu / len(phase.samples))} a request)"
            unsent = ""
            if phase.load.interval:
                due = phase.load.clients * phase.load.per_client
                if len(phase.samples) < due:
                    unsent = f"; {due - len(phase.samples)} of {due} due never sent (too slow)"
            lines.append(
                f"  {store:<8} {phase.name:<10} {phase.rate:6.1f} requests/s over "
                f"{phase.wall:.1f} s; CPU: runtime {runtime}{per_request}, "
                f"clients {phase.client_cpu:.1f} s{unsent}"
            )
    return lines


def mixed(phase: Phase) -> list[float]:
    return [s.seconds for s in phase.samples if s.kind != "health"]


def ratios(results: dict[str, list[Phase]]) -> list[str]:
    lines = []
    for phase, base in zip(results["sqlite"], results["dynamodb"], strict=True):
        ours, theirs = mixed(phase), mixed(base)
        if len(ours) < 2 or len(theirs) < 2:
            continue
        p50 = percentile(theirs, 50) / percentile(ours, 50)
        p99 = percentile(theirs, 99) / percentile(ours, 99)
        lines.append(
            f"  {phase.name}: SQLite p50 {p50:.1f}x and p99 {p99:.1f}x lower than the "
            f"emulator's; {phase.rate / base.rate:.1f}x its requests/s"
        )
    return lines


def verdict(phase: Phase) -> str:
    seconds = mixed(phase)
    p50, p99 = percentile(seconds, 50), percentile(seconds, 99)
    met = "met" if p50 <= GOAL_P50_SECONDS and p99 <= GOAL_P99_SECONDS else "NOT met"
    goal = f"p50 <= {fmt_ms(GOAL_P50_SECONDS)}, p99 <= {fmt_ms(GOAL_P99_SECONDS)}"
    return f"  SQLite, {phase.name}: p50 {fmt_ms(p50)}, p99 {fmt_ms(p99)}; goal {goal} {met}"


def main() -> None:
    print(
        f"API latency of `jobsched local` over HTTP, queue paused, mix {MIX}; "
        f"{os.cpu_count()} CPUs shared by the runtime and the clients"
    )
    results = {}
    for store in ("sqlite", "dynamodb"):
        results[store] = measure(store)
    print()
    print(render(results))
    print()
    print("\n".join(throughput(results)))
    print("\n".join(ratios(results)))
    for phase in results["sqlite"]:
        print(verdict(phase))


if __name__ == "__main__":
    main()
