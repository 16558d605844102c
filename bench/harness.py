"""What the dispatch benchmarks share: a store as `jobsched local` runs it, fresh, with a no-op
template; the local dispatcher loop; and an executor that runs nothing.

Two stores: moto's server (the atomic emulator, over HTTP on 127.0.0.1, `rig`), where the API
and the dispatcher get a DynamoDB client each, as two processes would, so each side's calls can
be metered apart; and the SQLite file of the default (`sqlite_rig`), one Database for both
sides as the runtime has (a connection per thread), its calls counted in `db.calls`.
"""

import gc
import os
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from jobsched.adapters import sqlite
from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.adapters.dynamodb.tables import create_tables
from jobsched.adapters.sqlite.db import DB_FILE, Database, Synchronous
from jobsched.adapters.sqlite.schema import create_schema
from jobsched.models import JobTemplate
from jobsched.models.units import Claim, Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.exec.dispatcher_loop import LocalDispatcher, LoopConfig

LOOPBACK = "127.0.0.1"
# The echo workload doing nothing: no sleep, no output file. The seeded echo template's schema
# does not list `output`, so the benchmarks bring their own template.
NOOP = JobTemplate(
    template_id="noop",
    name="No-op",
    workload="echo",
    default_params={"message": "noop", "sleep_seconds": 0, "output": False},
)
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
SWEEP_SECONDS = 60.0  # the AWS period (the sweeper's first look comes after a whole period)
WAIT_SECONDS = 120.0  # only a broken runtime takes this long; the figures never fail on time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def fake_aws_env() -> Iterator[None]:
    """Fake credentials and no endpoint override from the caller's shell, restored on exit."""
    with mock.patch.dict(os.environ, FAKE_ENV):
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
            os.environ.pop(name, None)
        yield


@contextmanager
def moto_server() -> Iterator[str]:
    """The local runtime's emulator on a free port; yields its URL."""
    from local.emulator import atomic_moto_server

    port = free_port()
    server = atomic_moto_server(LOOPBACK, port)
    server.start()
    try:
        with fake_aws_env():
            yield f"http://{LOOPBACK}:{port}"
    finally:
        server.stop()


@dataclass
class StoreRig:
    settings: Settings
    api: Stores  # what enqueues
    loop_stores: Stores  # what the dispatcher loop uses


@dataclass
class Rig(StoreRig):
    api_dynamo: Dynamo  # the API's own client
    loop_dynamo: Dynamo  # the dispatcher's


@dataclass
class SqliteRig(StoreRig):
    db: Database  # both sides', as in the runtime


@contextmanager
def rig() -> Iterator[Rig]:
    """Fresh tables on a fresh emulator, the no-op template, and warm template caches."""
    with moto_server() as url, tempfile.TemporaryDirectory(prefix="jobsched-bench-") as data:
        settings = Settings(
            # moto's backends outlive a server in the same process: fresh tables each time
            table_prefix=f"bench{uuid.uuid4().hex[:8]}",
            aws_endpoint_url=url,
            data_dir=data,
            sweep_seconds=SWEEP_SECONDS,
        )
        api_dynamo, loop_dynamo = Dynamo(settings), Dynamo(settings)
        create_tables(api_dynamo)
        api, loop_stores = build_stores(settings, api_dynamo), build_stores(settings, loop_dynamo)
        api.templates.create(NOOP)
        for stores in (api, loop_stores):
            stores.templates.get(NOOP.template_id)  # a running process has it cached
        yield Rig(settings, api, loop_stores, api_dynamo=api_dynamo, loop_dynamo=loop_dynamo)


@contextmanager
def sqlite_rig(synchronous: Synchronous = "FULL") -> Iterator[SqliteRig]:
    """A fresh database file (WAL; FULL is the runtime's durability), the no-op template, and
    a warm template cache."""
    with tempfile.TemporaryDirectory(prefix="jobsched-bench-") as data:
        settings = Settings(data_dir=data, sweep_seconds=SWEEP_SECONDS)
        db = Database(Path(data) / DB_FILE, synchronous)
        create_schema(db)
        stores = sqlite.build_stores(settings, db)
        stores.templates.create(NOOP)
        stores.templates.get(NOOP.template_id)  # a running process has it cached
        try:
            yield SqliteRig(settings, stores, stores, db=db)
        finally:
            db.close()


class InstantExecutor:
    """A UnitExecutor (and TaskStopper) that runs nothing: it notes when each claim arrives
    and when it hands back its success, and calls `on_run` first."""

    def __init__(self, on_run: Callable[[Claim], None] | None = None) -> None:
        self.on_run = on_run
        self.arrivals: list[float] = []  # time.perf_counter() of each run() call
        self.ends: list[float] = []  # just before each run() returns
        self._cond = threading.Condition()

    def run(self, claim: Claim) -> Outcome:
        arrived = time.perf_counter()
        if self.on_run is not None:
            self.on_run(claim)
        with self._cond:
            self.arrivals.append(arrived)
            self.ends.append(time.perf_counter())
            self._cond.notify_all()
        return Outcome(exit_code=0)

    def stop_all(self, reason: str) -> None:
        pass

    def stop(self, unit_id: str, reason: str) -> None:
        pass

    def wait_for_runs(self, count: int, timeout: float = WAIT_SECONDS) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.arrivals) >= count, timeout):
                raise RuntimeError(f"only {len(self.arrivals)} of {count} units ran in {timeout} s")


@dataclass
class Loop:
    """A LocalDispatcher over the rig's loop stores, and the API's stores wired to kick it."""

    loop: LocalDispatcher
    api: Stores
    dispatch_stores: Stores

    def start(self) -> None:
        self.loop.start(self.dispatch_stores)


@contextmanager
def dispatcher_loop(rig: StoreRig, executor: InstantExecutor, slots: int = 1) -> Iterator[Loop]:
    """The loop, not started yet (work enqueued first waits as a backlog); stopped on exit."""
    config = LoopConfig(slots=slots, sweep_seconds=rig.settings.sweep_seconds)
    loop = LocalDispatcher(executor, config)
    api = rig.api.with_edges(kicker=loop, tasks=executor)
    dispatch_stores = rig.loop_stores.with_edges(kicker=loop, tasks=executor)
    try:
        yield Loop(loop, api, dispatch_stores)
    finally:
        loop.stop(timeout=10)


def wait_idle(loop: LocalDispatcher, slots: int = 1, timeout: float = WAIT_SECONDS) -> None:
    """Until every slot thread sleeps (its last finish is recorded). Reads memory only."""
    deadline = time.monotonic() + timeout
    while loop.idle < slots:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the dispatcher loop did not settle in {timeout} s")
        time.sleep(0.002)


def percentile(values: Sequence[float], pct: int) -> float:
    """The pct-th percentile (inclusive method: p50 of an even count is the middle mean)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


class FullCollections:
    """The pauses of Python's full (generation 2) garbage collections while active. moto keeps
    its tables in this process, as `jobsched local` does, so these land in the latency tails."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __enter__(self) -> "FullCollections":
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif info.get("generation") == 2:
            self.pauses.append(time.perf_counter() - self._started)

    def __str__(self) -> str:
        if not self.pauses:
            return "no full garbage collection"
        longest = fmt_ms(max(self.pauses))
        count = len(self.pauses)
        return f"{count} full garbage collection{'s' if count > 1 else ''}, the longest {longest}"
