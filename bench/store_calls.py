"""DynamoDB calls per queue operation at growing queue lengths (moto, in process).

Invariant 6 says a move or a re-prioritisation writes O(1) items and the next-job lookup reads
O(1) items whatever the queue length; this prints the calls, transaction items and items read of
each operation at each length. moto scans and copies whole tables, so its milliseconds grow with
the table: they are shown for orientation only, they are not DynamoDB's.
"""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.adapters.dynamodb.bulk import put_queued_jobs, queued_jobs
from jobsched.adapters.dynamodb.metering import CallMeter
from jobsched.adapters.dynamodb.tables import create_tables
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.queue import MoveRequest, move_job, set_priority
from jobsched.models import JobTemplate
from jobsched.ports import Stores
from jobsched.priority import DEFAULT_PRIORITY
from jobsched.ranks import band_of
from jobsched.settings import Settings

LENGTHS = (10, 1_000, 10_000)
TEMPLATE = "bench"

# moto's fake credentials; and no endpoint override, or boto3 would leave moto for a server.
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
ENDPOINT_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "JOBSCHED_AWS_ENDPOINT_URL")


@dataclass
class BenchQueue:
    stores: Stores
    dynamo: Dynamo
    ids: list[str]  # bulk-added jobs, in the order they were added

    def grow_to(self, length: int) -> None:
        last = self.stores.queue.last_in_band(band_of(DEFAULT_PRIORITY))
        jobs = queued_jobs(TEMPLATE, length - len(self.ids), DEFAULT_PRIORITY, last)
        put_queued_jobs(self.dynamo, jobs)
        self.ids += [job.job_id for job in jobs]

    @property
    def middle(self) -> str:
        return self.ids[len(self.ids) // 2]


Operation = Callable[[BenchQueue], object]

OPERATIONS: dict[str, Operation] = {
    "enqueue": lambda q: enqueue(q.stores, JobCreate(template_id=TEMPLATE)),
    "move to position 3": lambda q: move_job(q.stores, q.ids[-1], MoveRequest(position=3)),
    "move before": lambda q: move_job(q.stores, q.ids[-1], MoveRequest(before=q.middle)),
    "move after": lambda q: move_job(q.stores, q.ids[1], MoveRequest(after=q.middle)),
    "set priority": lambda q: set_priority(q.stores, q.middle, 75),
    # A cancelled job leaves the list, so the next length cancels another one.
    "cancel": lambda q: cancel_job(q.stores, q.ids.pop(len(q.ids) // 3)),
    "next-job lookup": lambda q: q.stores.queue.head(1),
}


@dataclass(frozen=True)
class Row:
    operation: str
    length: int
    calls: dict[str, int]
    transact_items: int
    items_read: int
    moto_ms: float


@contextmanager
def moto_queue() -> Iterator[BenchQueue]:
    from moto import mock_aws  # a dev dependency: imported only when the benchmark runs

    with mock.patch.dict(os.environ, FAKE_ENV):
        for name in ENDPOINT_VARS:
            os.environ.pop(name, None)  # patch.dict restores them on exit
        with mock_aws():
            settings = Settings(table_prefix="bench", aws_endpoint_url=None)
            dynamo = Dynamo(settings)
            create_tables(dynamo)
            stores = build_stores(settings, dynamo)
            stores.templates.create(JobTemplate(template_id=TEMPLATE, name="b", workload="echo"))
            yield BenchQueue(stores, dynamo, [])


def measure(lengths: tuple[int, ...] = LENGTHS) -> list[Row]:
    rows: list[Row] = []
    with moto_queue() as queue:
        for length in lengths:
            started = time.perf_counter()
            queue.grow_to(length)
            print(f"  filled {length:,} jobs in {time.perf_counter() - started:.1f} s", flush=True)
            for name, operation in OPERATIONS.items():
                with CallMeter(queue.dynamo.client) as meter:
                    started = time.perf_counter()
                    operation(queue)
                    elapsed = (time.perf_counter() - started) * 1000
                calls = dict(meter.by_operation)
                rows.append(
                    Row(name, length, calls, meter.transact_items, meter.items_read, elapsed)
                )
    return rows


def render(rows: list[Row]) -> str:
    apis = sorted({api for row in rows for api in row.calls})
    header = ["operation", "queue", *apis, "tx items", "items read", "moto ms"]
    table = [header]
    for row in sorted(rows, key=lambda r: (list(OPERATIONS).index(r.operation), r.length)):
        counts = [str(row.calls.get(api, 0)) for api in apis]
        table.append(
            [
                row.operation,
                f"{row.length:,}",
                *counts,
                str(row.transact_items),
                str(row.items_read),
                f"{row.moto_ms:.0f}",
            ]
        )
    return aligned(table)


def aligned(table: list[list[str]]) -> str:
    """A header row, a rule, then the rows: the first column left-aligned, the rest right."""
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def constant_calls(rows: list[Row]) -> dict[str, bool]:
    """Per operation: the same calls and transaction items at every length."""
    seen: dict[str, set[tuple[tuple[tuple[str, int], ...], int]]] = {}
    for row in rows:
        seen.setdefault(row.operation, set()).add(
            (tuple(sorted(row.calls.items())), row.transact_items)
        )
    return {name: len(costs) == 1 for name, costs in seen.items()}


def main() -> None:
    print(f"DynamoDB calls per operation, moto in process, queue lengths {LENGTHS}")
    rows = measure()
    print()
    print(render(rows))
    print()
    for name, same in constant_calls(rows).items():
        print(f"  {name}: {'same calls at every length' if same else 'CALLS CHANGE WITH LENGTH'}")


if __name__ == "__main__":
    main()
