"""Crash safety of `jobsched local`: kill -9 at random moments, restart on the same data dir,
count what went wrong. The SQLite store (the default) against the emulator (`--store dynamodb`,
moto in the process, saved to state.json every few seconds) as the baseline, in the same run.

A cycle: up to 3 s of the runtime working, jobs queued behind a long one running, a burst of
POST /jobs (every 201 noted), then SIGKILL of the runtime: within 50 ms of the burst's last
201, during the burst, or up to 2 s after it, in turn. Workers run in sessions of their own
and outlive the kill; the restart adopts those still alive (SQLite). After every restart, and
once more after the queue drained, it counts:

- missing: jobs answered 201 that the store does not have;
- completed twice: jobs with more than one completed run in the store; "ran twice" is the
  same read from the workers' logs on disk (a log ending `finished`, exit 0), which also sees
  runs the store forgot;
- completed, marked lost: a failed run whose worker's log says it finished with exit 0 (or a
  failed run with exit code 0); "forgotten": such a log whose run the store does not have.

Runs that failed otherwise are told apart by what their worker was at the restart (its pid
from runs/<run id>/worker.json): never started (the claim committed, the kill came before the
spawn), dead (it died with the runtime), or alive and still not adopted. Their retries are
expected re-runs, not double runs. The template retries a lost run (3 attempts, no backoff), so
a run wrongly declared lost shows up as a job completed twice.
"""

import argparse
import contextlib
import json
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import WAIT_SECONDS
from bench.runtime_process import LocalProcess, Ports, restart, start
from local.exec.adopt import live_worker
from local.exec.executor import read_exit_code
from local.exec.logs import LOG_FILE, RUNS_DIR, WORKER_FILE, read_worker_note
from local.snapshot import STATE_FILE

CYCLES = 20  # `python -m bench.crash --cycles N --baseline-cycles M --seed S` for others
BASELINE_CYCLES = 6  # the emulator: each restart there loses seconds of work, fewer show it
BURST = 10  # POST /jobs per cycle, from BURST_CLIENTS threads
BURST_CLIENTS = 2
QUEUED_BEFORE = 2  # short jobs queued behind the running one before each burst
LONG_SLEEP = (1.0, 4.0)  # seconds: the job running at the kill; some outlive the restart
AFTER_BURST_MAX = 2.0  # seconds: the latest kill of the third kind
# Seconds the runtime works before a cycle's jobs: it drains the backlog, and the emulator may
# save (every 5 s) what was acknowledged before.
SETTLE = (0.0, 3.0)
ACK_WINDOW = 0.050  # "within 50 ms of the last 201"
DRAIN_SECONDS = 600.0  # the final drain's bound: only a broken runtime needs it
# No job changing state for this long ends the drain: the sweeper would have recovered a lost
# unit by then (a 30 s startup lease, a sweep every 5 s), so what is left is stuck.
STALL_SECONDS = 45.0
SEED = 20261202
TEMPLATE = "crash-echo"
TEMPLATE_BODY = {
    "template_id": TEMPLATE,
    "name": "Echo, retried",
    "workload": "echo",
    "default_params": {"message": "crash", "sleep_seconds": 0},
    "retry": {"max_attempts": 3, "backoff_seconds": 0},
}
KILL_MODES = ("0-50 ms after the burst", "during the burst", "0-2 s after the burst")
PAGE = 200


@dataclass
class Acks:
    """Every job answered 201, with when (perf_counter), across all cycles."""

    jobs: dict[str, float] = field(default_factory=dict)
    refused: Counter[int] = field(default_factory=Counter)  # other statuses
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job_id: str, at: float) -> None:
        with self.lock:
            self.jobs[job_id] = at

    @property
    def last(self) -> float:
        with self.lock:
            return max(self.jobs.values(), default=0.0)


@dataclass
class Look:
    """What one look at the store and the data dir found (ids of jobs or runs)."""

    missing: set[str] = field(default_factory=set)
    completed_twice: set[str] = field(default_factory=set)  # jobs, by the store
    ran_twice: set[str] = field(default_factory=set)  # jobs, by the workers' logs
    marked_lost: set[str] = field(default_factory=set)  # runs: exit 0, recorded failed
    marked_lost_jobs: set[str] = field(default_factory=set)
    forgotten: set[str] = field(default_factory=set)  # runs: exit 0 on disk, not in the store
    unlisted: set[str] = field(default_factory=set)  # runs GET /runs/{id} has, GET /runs not
    never_started: set[str] = field(default_factory=set)  # failed runs, by their worker
    worker_died: set[str] = field(default_factory=set)
    worker_alive: set[str] = field(default_factory=set)
    rerun_dead_worker: set[str] = field(default_factory=set)  # jobs re-run after such a run
    unfinished: set[str] = field(default_factory=set)  # jobs (the final look only)
    details: dict[str, str] = field(default_factory=dict)  # a wrong run: what its files say

    def merge(self, other: "Look") -> None:
        for name, ids in vars(other).items():
            getattr(self, name).update(ids)


@dataclass
class Result:
    store: str
    cycles: int
    acks: Acks
    total: Look
    final: Look
    kill_gaps: list[float]  # kill -> the last 201 before it, seconds
    kills: list[float]  # when, epoch seconds
    modes: Counter[str]
    restarts: list[float]  # seconds to healthy
    reconciled: Counter[str]  # what the restarts' logs say they adopted, recorded, lost
    drain_seconds: float


# --- one cycle --------------------------------------------------------------------------------


def submit(api: httpx.Client, acks: Acks, sleep_seconds: float) -> bool:
    """POST one job; False once the runtime is gone."""
    body = {"template_id": TEMPLATE, "params": {"sleep_seconds": sleep_seconds}}
    try:
        response = api.post("/jobs", json=body)
    except httpx.TransportError:
        return False
    if response.status_code == 201:
        acks.add(response.json()["job_id"], time.perf_counter())
    else:
        with acks.lock:
            acks.refused[response.status_code] += 1
    return True


def burst(clients: list[httpx.Client], acks: Acks) -> None:
    def send(api: httpx.Client) -> None:
        for _ in range(BURST // len(clients)):
            if not submit(api, acks, 0):
                return

    threads = [threading.Thread(target=send, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def wait_running(api: httpx.Client) -> None:
    """Until some job runs (the queue is never empty here); bounded, never fatal."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if api.get("/jobs", params={"status": "running", "limit": 1}).json()["items"]:
            return
        time.sleep(0.02)


def cycle(local: LocalProcess, acks: Acks, mode: str, rng: random.Random, burst_s: float) -> float:
    """Let the runtime work a while, queue jobs behind a long one, burst, kill -9 as `mode`
    says; returns how long the burst took."""
    with contextlib.ExitStack() as stack:
        api, *clients = (stack.enter_context(local.client()) for _ in range(BURST_CLIENTS + 1))
        time.sleep(rng.uniform(*SETTLE))
        submit(api, acks, rng.uniform(*LONG_SLEEP))
        for _ in range(QUEUED_BEFORE):
            submit(api, acks, 0.1)
        wait_running(api)
        started = time.perf_counter()
        if mode == KILL_MODES[1]:
            killer = threading.Timer(rng.uniform(0, burst_s), local.kill9)
            killer.start()
            burst(clients, acks)
            killer.join()
            return burst_s
        burst(clients, acks)
        took = time.perf_counter() - started
        window = ACK_WINDOW if mode == KILL_MODES[0] else AFTER_BURST_MAX
        time.sleep(rng.uniform(0, window))
        local.kill9()
        return took


def alive_workers(data_dir: Path) -> set[str]:
    """The runs whose worker process still runs (the pid and start time of worker.json)."""
    runs = data_dir / RUNS_DIR
    if not runs.is_dir():
        return set()
    return {d.name for d in runs.iterdir() if live_worker(d, d / LOG_FILE)}


# --- a look at the state ----------------------------------------------------------------------


def pages(api: httpx.Client, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        query = {**params, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
        response = api.get(path, params=query)
        response.raise_for_status()
        body = response.json()
        yield from body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return


@dataclass(frozen=True)
class DiskRun:
    job_id: str | None
    exit_code: int | None  # of the worker's "finished" event
    noted: bool  # worker.json was written: the worker was spawned


def disk_runs(data_dir: Path) -> dict[str, DiskRun]:
    found = {}
    runs = data_dir / RUNS_DIR
    for unit in runs.iterdir() if runs.is_dir() else ():
        log = unit / LOG_FILE
        found[unit.name] = DiskRun(_job_of(log), read_exit_code(log), (unit / WORKER_FILE).exists())
    return found


def _job_of(log: Path) -> str | None:
    try:
        with log.open(encoding="utf-8", errors="replace") as lines:
            first = json.loads(lines.readline() or "{}")
    except (OSError, ValueError):
        return None
    job_id = first.get("job_id") if isinstance(first, dict) else None
    return job_id if isinstance(job_id, str) else None


def look(local: LocalProcess, data_dir: Path, acks: Acks, alive: set[str]) -> Look:
    """`alive`: runs whose worker was alive at some restart (so never declared lost rightly).
    The runtime works on meanwhile: a run is committed before its worker starts, so a log
    found before the runs are listed must be listed; a log read after sees every end."""
    found = Look()
    with local.client() as api:
        jobs = {job["job_id"]: job for job in pages(api, "/jobs")}
        found.missing = {
            job_id
            for job_id in list(acks.jobs)
            if job_id not in jobs and api.get(f"/jobs/{job_id}").status_code == 404
        }
        before = disk_runs(data_dir)
        runs = list(pages(api, "/runs"))
        known = {run["run_id"] for run in runs}
        found.forgotten = {r for r, d in before.items() if d.exit_code == 0 and r not in known}
        for run_id in list(found.forgotten):
            direct = api.get(f"/runs/{run_id}")
            if direct.status_code == 200:  # the store has it: the listing left it out
                found.forgotten.discard(run_id)
                found.unlisted.add(run_id)
                found.details[run_id] = "not listed by GET /runs: " + describe(
                    data_dir, direct.json()
                )
    after = disk_runs(data_dir)
    _count_completions(found, runs, after)
    _classify_failures(found, runs, after, alive, data_dir)
    return found


def _count_completions(found: Look, runs: list[dict[str, Any]], disk: dict[str, DiskRun]) -> None:
    completed = Counter(run["job_id"] for run in runs if run["status"] == "completed")
    found.completed_twice = {job_id for job_id, n in completed.items() if n > 1}
    ran = Counter(d.job_id for d in disk.values() if d.exit_code == 0 and d.job_id)
    found.ran_twice = {job_id for job_id, n in ran.items() if n > 1}


def _classify_failures(
    found: Look,
    runs: list[dict[str, Any]],
    disk: dict[str, DiskRun],
    alive: set[str],
    data_dir: Path,
) -> None:
    runs_of: dict[str, int] = Counter(run["job_id"] for run in runs)
    for run in runs:
        if run["status"] != "failed":
            continue
        on_disk = disk.get(run["run_id"], DiskRun(None, None, noted=False))
        if run["exit_code"] == 0 or on_disk.exit_code == 0:
            found.marked_lost.add(run["run_id"])
            found.marked_lost_jobs.add(run["job_id"])
            found.details[run["run_id"]] = describe(data_dir, run)
            continue
        if run["run_id"] in alive:
            found.worker_alive.add(run["run_id"])
            continue
        (found.worker_died if on_disk.noted else found.never_started).add(run["run_id"])
        if runs_of[run["job_id"]] > 1:
            found.rerun_dead_worker.add(run["job_id"])


def describe(data_dir: Path, run: dict[str, Any]) -> str:
    """A run the store got wrong, as its files tell it: the worker note and the log's events."""
    unit = data_dir / RUNS_DIR / run["run_id"]
    note = read_worker_note(unit)
    noted = f"pid {note.pid} started {_clock(note.created)}" if note else "no worker.json"
    events = []
    for line in (unit / LOG_FILE).read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            event = json.loads(line)
            events.append(f"{event['event']} {event['ts'][11:23]}")
    return (
        f"{run['run_id']} (job {run['job_id']}, attempt {run['attempt']}): run started "
        f"{run['started_at'][11:23]}, ended {(run['finished_at'] or '')[11:23]} "
        f"{run['status']} ({run['error']}); {noted}; log: {', '.join(events)}"
    )


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S.%f")[:12]


def reconciled(output: Path) -> Counter[str]:
    """The restart's own report (local/runtime.py _reconcile): runs adopted, recorded, lost."""
    counts: Counter[str] = Counter()
    for line in output.read_text(errors="replace").splitlines():
        for what in ("adopted", "recorded", "found lost"):
            if f"restart: {what}" in line:
                counts[what] += len(line.split(", "))
    return counts


# --- the whole run ----------------------------------------------------------------------------


def drain(local: LocalProcess) -> float:
    """Until nothing is queued or running, or nothing changed for STALL_SECONDS (what is left
    then is stuck); returns the seconds it took."""
    started = time.monotonic()
    changed, seen = started, set[tuple[str, str, int]]()
    with local.client() as api:
        while time.monotonic() - started < DRAIN_SECONDS:
            busy = {
                (job["job_id"], job["status"], job["attempt"])
                for status in ("queued", "running")
                for job in pages(api, "/jobs", status=status)
            }
            if not busy or time.monotonic() - changed > STALL_SECONDS:
                break
            if busy != seen:
                changed, seen = time.monotonic(), busy
            time.sleep(0.25)
    return time.monotonic() - started


def measure(store: str, cycles: int, rng: random.Random) -> Result:
    with tempfile.TemporaryDirectory(prefix=f"jobsched-crash-{store}-") as tmp:
        data_dir = Path(tmp) / "data"
        local = start(data_dir, store, Ports.free(), Path(tmp) / "start-0.log")
        with local.client() as api:
            api.post("/templates", json=TEMPLATE_BODY).raise_for_status()
        if store == "dynamodb":
            _wait_saved(data_dir)
        acks, total, alive = Acks(), Look(), set[str]()
        gaps, kills, restarts = list[float](), list[float](), list[float]()
        modes, counts = Counter[str](), Counter[str]()
        burst_s = 0.2
        for index in range(cycles):
            mode = KILL_MODES[index % len(KILL_MODES)]
            burst_s = cycle(local, acks, mode, rng, burst_s)
            modes[mode] += 1
            gaps.append((local.killed_at or time.perf_counter()) - acks.last)
            kills.append(time.time() - (time.perf_counter() - (local.killed_at or 0.0)))
            alive |= alive_workers(data_dir)
            output = Path(tmp) / f"start-{index + 1}.log"
            local = restart(local, data_dir, store, output)
            restarts.append(local.started_in)
            counts += reconciled(output)
            total.merge(look(local, data_dir, acks, alive))
            acked = len(acks.jobs)
            print(f"  {store} cycle {index + 1}/{cycles}: {mode}, {acked} acked", flush=True)
        drained = drain(local)
        final = look(local, data_dir, acks, alive)
        with local.client() as api:
            final.unfinished = {
                job["job_id"]
                for status in ("queued", "running")
                for job in pages(api, "/jobs", status=status)
            }
        total.merge(final)
        local.stop()
        _end_strays(data_dir)
    return Result(store, cycles, acks, total, final, gaps, kills, modes, restarts, counts, drained)


def _wait_saved(data_dir: Path) -> None:
    """Until the emulator's snapshot holds the template, which a user's would long have."""
    state = data_dir / STATE_FILE
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if state.is_file() and TEMPLATE in state.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the emulator did not save {state} in {WAIT_SECONDS} s")


def _end_strays(data_dir: Path) -> None:
    """Workers the runtime did not adopt (the emulator's) and that still run: end them."""
    deadline = time.monotonic() + WAIT_SECONDS
    while (alive := alive_workers(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for run_id in alive:
        worker = live_worker(data_dir / RUNS_DIR / run_id, data_dir / RUNS_DIR / run_id / LOG_FILE)
        if worker is not None:
            worker.kill()


# --- the table --------------------------------------------------------------------------------


def rows(result: Result) -> list[tuple[str, str]]:
    total, final = result.total, result.final
    near = sum(1 for gap in result.kill_gaps if gap <= ACK_WINDOW)
    missing = f"{len(total.missing)} / {len(final.missing)}"
    wrong = total.marked_lost
    return [
        ("cycles (kill -9 each)", str(result.cycles)),
        ("  kills that came <= 50 ms after a 201", str(near)),
        *((f"  kills {mode}", str(result.modes[mode])) for mode in KILL_MODES),
        ("jobs acknowledged (201)", str(len(result.acks.jobs))),
        ("  answers other than 201", _counts(result.acks.refused)),
        ("acknowledged but missing (any look / final)", missing),
        ("completed twice (store runs)", str(len(total.completed_twice))),
        ("ran to exit 0 twice (worker logs)", str(len(total.ran_twice))),
        ("completed but marked lost (runs)", str(len(total.marked_lost))),
        ("ran to exit 0, run forgotten by the store", str(len(total.forgotten))),
        ("runs left out of GET /runs (GET /runs/{id} has them)", str(len(total.unlisted))),
        # An earlier look may have seen a run marked lost before its log ended: it counts there.
        ("failed runs: worker never started", str(len(total.never_started - wrong))),
        ("failed runs: worker died with the runtime", str(len(total.worker_died - wrong))),
        ("failed runs: worker alive at the restart", str(len(total.worker_alive - wrong))),
        (
            "jobs re-run after their worker died/never ran",
            str(len(total.rerun_dead_worker - total.marked_lost_jobs)),
        ),
        ("restarts' own report", _counts(result.reconciled)),
        ("jobs still queued/running after the drain", str(len(final.unfinished))),
        ("restart to healthy, p50", f"{statistics.median(result.restarts):.2f} s"),
        ("final drain", f"{result.drain_seconds:.1f} s"),
    ]


def _counts(counter: Counter[Any]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items())) or "none"


def render(results: list[Result]) -> str:
    table = [("", *(r.store for r in results))]
    columns = [rows(r) for r in results]
    for index, (label, _) in enumerate(columns[0]):
        table.append((label, *(column[index][1] for column in columns)))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in table]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join("  " + line.rstrip() for line in lines)


def main(cycles: int = CYCLES, baseline_cycles: int = BASELINE_CYCLES, seed: int = SEED) -> None:
    print(
        f"Crash safety of `jobsched local`: kill -9 and restart, {cycles} cycles on SQLite, "
        f"{baseline_cycles} on the emulator (--store dynamodb); seed {seed}"
    )
    rng = random.Random(seed)
    results = [measure("sqlite", cycles, rng)]
    if baseline_cycles:
        results.append(measure("dynamodb", baseline_cycles, rng))
    print()
    print(render(results))
    sqlite = results[0].total
    figures = (len(sqlite.missing), len(sqlite.completed_twice), len(sqlite.marked_lost))
    for result in results:
        for detail in result.total.details.values():
            print(f"  {result.store}: {detail}")
        if result.total.details:
            print(f"  {result.store}: kills at {', '.join(_clock(k) for k in result.kills)}")
        if result.final.unfinished:
            stuck = ", ".join(sorted(result.final.unfinished))
            print(f"  {result.store}: queued or running after the drain: {stuck}")
    verdict = "met" if figures == (0, 0, 0) else "NOT met"
    print(f"  SQLite missing / completed twice / marked lost: {figures}; goal (0, 0, 0) {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__)
    parser.add_argument("--cycles", type=int, default=CYCLES)
    parser.add_argument("--baseline-cycles", type=int, default=BASELINE_CYCLES)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    main(args.cycles, args.baseline_cycles, args.seed)
