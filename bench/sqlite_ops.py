"""Queue operations on the SQLite store at growing queue lengths, in process (no HTTP): the
milliseconds of each and what it asks of the database, at 10 / 1,000 / 10,000 / 100,000
queued jobs. Invariant 6 wants each one O(1) whatever the length, so the figure to read is the
ratio of the longest queue to the shortest (goal: within 2x).

Per operation: the median of REPEATS runs, its write transactions (each one commit, so one
fsync of the WAL under synchronous=FULL), its reads (`db.read` blocks, a nested one included),
and the SQLite VM instructions it ran (a progress handler's count, in thousands): a read that
walks an index grows there even when its statement count does not.

The queue is filled in one transaction (load.py put_entities), with the ranks jobsched/ranks.py
gives a batch at the end of a band, as dynamodb/bulk.py does for DynamoDB.
"""

import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jobsched.adapters.sqlite import build_stores
from jobsched.adapters.sqlite.db import DB_FILE, Database
from jobsched.adapters.sqlite.load import Entities, put_entities
from jobsched.adapters.sqlite.schema import create_schema
from jobsched.dispatch.dispatcher import HEAD_WINDOW, DispatchConfig, Dispatcher
from jobsched.ids import new_id
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue, get_job, list_jobs
from jobsched.jobs.queue import MoveRequest, move_job, set_priority
from jobsched.models import Job, JobTemplate, QueueEntry
from jobsched.models.units import Claim, Outcome
from jobsched.ports import JobFilter, Stores
from jobsched.priority import DEFAULT_PRIORITY
from jobsched.ranks import band_of, ranks_after
from jobsched.settings import Settings

LENGTHS = (10, 1_000, 10_000, 100_000)  # `python -m bench.sqlite_ops 1000000` for more
REPEATS = 15
LIST_PAGE = 50  # the API's default page
RUNS = 2 * REPEATS + 1  # timed with FULL, timed with NORMAL, and one counted
TEMPLATE = "bench"
VM_STEP = 10  # the progress handler is called every this many VM instructions
GOAL_RATIO = 2.0
FSYNC_SAMPLES = 50
PAGE = 4096
COMMIT_PAGES = 8  # about what an enqueue writes: the job's row and indexes, its queue place
SEED = 6


class MeteredDatabase(Database):
    """A Database that tells its writes from its reads, and on request counts the VM
    instructions of this thread's connection (the only one here) or syncs less."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "FULL")
        self.writes: Counter[str] = Counter()
        self.vm_steps = 0

    @contextmanager
    def counting_instructions(self) -> Iterator[None]:
        conn = self.connection()
        conn.set_progress_handler(self._step, VM_STEP)
        try:
            yield
        finally:
            conn.set_progress_handler(None, 0)

    def _step(self) -> int:
        self.vm_steps += VM_STEP
        return 0  # go on

    @contextmanager
    def synchronous_normal(self) -> Iterator[None]:
        """WAL with synchronous=NORMAL: a commit writes the WAL but does not fsync it."""
        conn = self.connection()
        conn.execute("PRAGMA synchronous = NORMAL")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")

    @contextmanager
    def write(self, kind: str = "write") -> Iterator[sqlite3.Connection]:
        self.writes[kind] += 1
        with super().write(kind) as conn:
            yield conn


@dataclass
class Queue:
    db: MeteredDatabase
    settings: Settings
    stores: Stores
    ids: list[str] = field(default_factory=list)  # queued jobs, in the order they came
    dispatcher: Dispatcher | None = None
    claims: list[Claim] = field(default_factory=list)  # claimed, for "finish" to end
    claimed: set[str] = field(default_factory=set)  # job ids that left the queue so
    newest: str = ""  # the last job enqueued: the end of the queue
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))

    def grow_to(self, length: int) -> None:
        band = band_of(DEFAULT_PRIORITY)
        last = self.stores.queue.last_in_band(band)
        ids = [new_id("job") for _ in range(length - len(self.ids))]
        ranks = ranks_after(last, band, ids)
        jobs = [
            Job(job_id=r.job_id, template_id=TEMPLATE, priority=DEFAULT_PRIORITY, rank=r.key)
            for r in ranks
        ]
        entries = [QueueEntry.of_job(job, rank) for job, rank in zip(jobs, ranks, strict=True)]
        put_entities(self.db, self.settings, Entities(jobs=jobs, queue=entries))
        self.ids += ids
        self.newest = ids[-1] if ids else self.newest

    def pick(self, fraction: float) -> str:
        """A queued job about `fraction` of the way down the list."""
        index = int((len(self.ids) - 1) * fraction)
        while self.ids[index] in self.claimed:
            index += 1
        return self.ids[index]

    def other(self, than: str) -> str:
        """A random queued job other than `than`: each repetition moves another one."""
        while (job_id := self.rng.choice(self.ids)) == than or job_id in self.claimed:
            pass
        return job_id

    def take(self) -> str:
        """A random queued job, picked no more (it leaves the queue or its band). Swapped
        with the last before the pop: O(1), the order of `ids` hardly matters."""
        while True:
            index = self.rng.randrange(len(self.ids))
            self.ids[index], self.ids[-1] = self.ids[-1], self.ids[index]
            job_id = self.ids.pop()
            if job_id not in self.claimed:
                return job_id

    def enqueue(self) -> None:
        job, _ = enqueue(self.stores, JobCreate(template_id=TEMPLATE))
        self.ids.append(job.job_id)
        self.newest = job.job_id

    def claim(self) -> None:
        assert self.dispatcher is not None
        claim = self.dispatcher.claim()
        assert claim is not None, "a free slot and a queued job to claim"
        assert claim.job is not None
        self.claimed.add(claim.job.job_id)  # a set: the bookkeeping is timed too
        self.claims.append(claim)

    def finish(self) -> None:
        """End the last claim, freeing its slot (no next claim: that is `claim`'s figure)."""
        assert self.dispatcher is not None
        self.dispatcher.finish(self.claims.pop(), Outcome(exit_code=0), claim_next=False)


Operation = Callable[[Queue], object]

# Each is run REPEATS times in a row; those that take a job off the queue take another each time.
OPERATIONS: dict[str, Operation] = {
    "enqueue": Queue.enqueue,
    "get (with its position)": lambda q: get_job(q.stores, q.newest),  # GET /jobs/{id}
    # GET /jobs: the newest 50, each with its position (the newest are the queue's last)
    "list (50, with positions)": lambda q: list_jobs(q.stores, JobFilter(), LIST_PAGE, None),
    "move to position 3": lambda q: move_job(q.stores, q.other(""), MoveRequest(position=3)),
    "move before": lambda q: move_job(
        q.stores, q.other(q.pick(0.5)), MoveRequest(before=q.pick(0.5))
    ),
    "move after": lambda q: move_job(
        q.stores, q.other(q.pick(0.5)), MoveRequest(after=q.pick(0.5))
    ),
    "set priority": lambda q: set_priority(q.stores, q.take(), 75),
    "cancel": lambda q: cancel_job(q.stores, q.take()),
    "next-job lookup (dispatch_head)": lambda q: q.stores.queue.dispatch_head(HEAD_WINDOW),
    "claim (slot + start)": Queue.claim,
    "finish (end + free slot)": Queue.finish,
}


@dataclass(frozen=True)
class Row:
    operation: str
    length: int
    ms: float  # the median, synchronous=FULL (the default)
    ms_normal: float  # the median with synchronous=NORMAL: the same without the fsync
    writes: float  # per operation
    reads: float
    vm_k: float  # thousands of VM instructions (of one run, counted apart from the timed ones)


@contextmanager
def sqlite_queue() -> Iterator[Queue]:
    with tempfile.TemporaryDirectory(prefix="jobsched-ops-") as data:
        settings = Settings(data_dir=data)
        db = MeteredDatabase(Path(data) / DB_FILE)
        create_schema(db)
        stores = build_stores(settings, db)
        stores.templates.create(JobTemplate(template_id=TEMPLATE, name="b", workload="echo"))
        stores.templates.get_cached(TEMPLATE)  # a running process has it cached
        queue = Queue(db, settings, stores)
        # A slot per run: the claims are run back to back, then their finishes.
        slots = DispatchConfig(slots=RUNS)
        queue.dispatcher = Dispatcher(stores, stores.dispatch, slots)
        try:
            yield queue
        finally:
            db.close()


def timed(queue: Queue, operation: Operation) -> float:
    """The median milliseconds of REPEATS runs."""
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        operation(queue)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(queue: Queue, name: str, length: int) -> Row:
    operation, db = OPERATIONS[name], queue.db
    calls, writes = Counter(db.calls), Counter(db.writes)
    ms = timed(queue, operation)
    with db.synchronous_normal():
        ms_normal = timed(queue, operation)
    steps = db.vm_steps
    with db.counting_instructions():
        operation(queue)
    runs = RUNS
    wrote = sum((db.writes - writes).values())
    read = sum((db.calls - calls).values()) - wrote
    vm_k = (db.vm_steps - steps) / 1000
    return Row(name, length, ms, ms_normal, wrote / runs, read / runs, vm_k)


def measure(lengths: tuple[int, ...] = LENGTHS) -> list[Row]:
    rows: list[Row] = []
    with sqlite_queue() as queue:
        for length in lengths:
            started = time.perf_counter()
            queue.grow_to(length + RUNS)
            took = time.perf_counter() - started
            print(
                f"  filled {length:,} jobs (+{RUNS} for the runs) in {took:.1f} s",
                flush=True,
            )
            for name in OPERATIONS:
                queue.grow_to(length + RUNS)  # what the runs before took off the queue
                rows.append(run(queue, name, length))
    return rows


def fsync_ms(directory: Path, append: bool) -> float:
    """The median cost of one fdatasync after writing COMMIT_PAGES pages here: appended (the
    file grows, so its size is synced too: a WAL growing) or over the same pages (a WAL
    reused after a checkpoint)."""
    path = directory / "fsync.probe"
    chunk = PAGE * COMMIT_PAGES
    path.write_bytes(bytes(chunk))
    times = []
    with path.open("r+b") as probe:
        for _ in range(FSYNC_SAMPLES):
            probe.seek(0, os.SEEK_END if append else os.SEEK_SET)
            probe.write(b"x" * chunk)
            probe.flush()
            started = time.perf_counter()
            os.fdatasync(probe.fileno())
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def render(rows: list[Row], lengths: tuple[int, ...]) -> str:
    header = ["operation", "queue", "ms", "ms (NORMAL)", "writes", "reads", "VM k-instr"]
    table = [header]
    for name in OPERATIONS:
        for row in (r for r in rows if r.operation == name):
            table.append(
                [
                    name,
                    f"{row.length:,}",
                    f"{row.ms:.2f}",
                    f"{row.ms_normal:.2f}",
                    f"{row.writes:.3g}",
                    f"{row.reads:.3g}",
                    f"{row.vm_k:.1f}",
                ]
            )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join("  " + line for line in lines)


def ratios(rows: list[Row], lengths: tuple[int, ...]) -> list[str]:
    shortest, longest = lengths[0], lengths[-1]
    lines = []
    for name in OPERATIONS:
        by_length = {r.length: r for r in rows if r.operation == name}
        low, high = by_length[shortest], by_length[longest]
        ratio, normal = high.ms / low.ms, high.ms_normal / low.ms_normal
        vm = f"{high.vm_k / low.vm_k:7.1f}x" if low.vm_k else "      -"
        verdict = "within" if ratio <= GOAL_RATIO else "ABOVE"
        lines.append(
            f"  {name:<32} {ratio:5.1f}x the time ({verdict} {GOAL_RATIO:g}x); "
            f"NORMAL {normal:5.1f}x; VM instructions {vm}"
        )
    return lines


def main(lengths: tuple[int, ...] = LENGTHS) -> None:
    print(f"SQLite store, queue operations in process, queue lengths {lengths}")
    rows = measure(lengths)
    with tempfile.TemporaryDirectory(prefix="jobsched-fsync-") as probe:
        overwrite, append = fsync_ms(Path(probe), append=False), fsync_ms(Path(probe), True)
    print()
    print(render(rows, lengths))
    print()
    print(f"  {lengths[-1]:,} jobs against {lengths[0]}: (goal: within {GOAL_RATIO:g}x)")
    print("\n".join(ratios(rows, lengths)))
    print(
        f"  one fdatasync of {COMMIT_PAGES} pages here: {append:.2f} ms appended, "
        f"{overwrite:.2f} ms overwritten. synchronous=FULL syncs the WAL at each commit "
        "(`writes`), NORMAL only at checkpoints: `ms` - `ms (NORMAL)` is what durability costs"
    )


if __name__ == "__main__":
    import sys

    main(tuple(int(n) for n in sys.argv[1:]) or LENGTHS)
