"""Fill the queue fast, for tests and benchmarks of long queues.

Enqueueing N jobs one by one costs N transactions (slow in moto, which copies tables on each);
here the same items that `DynamoJobStore.insert` writes go in with BatchWriteItem, 25 at a time,
without its conditions. Not for the API path: it checks neither templates nor existing ranks.
"""

import time
from typing import Any

from jobsched.adapters.dynamodb.client import Dynamo, store_errors
from jobsched.adapters.dynamodb.jobs import job_item, queue_item
from jobsched.ids import new_id
from jobsched.models import Job
from jobsched.ranks import QueueRank, band_of, ranks_after

BATCH_SIZE = 25  # DynamoDB's limit per BatchWriteItem


def queued_jobs(
    template_id: str, count: int, priority: int, last_in_band: QueueRank | None = None
) -> list[Job]:
    """`count` queued jobs at the end of `priority`'s band, after `last_in_band` if given."""
    band = band_of(priority)
    ids = [new_id("job") for _ in range(count)]
    return [
        Job(job_id=rank.job_id, template_id=template_id, priority=priority, rank=rank.key)
        for rank in ranks_after(last_in_band, band, ids)
    ]


def put_queued_jobs(dynamo: Dynamo, jobs: list[Job]) -> None:
    """Write each job and its queue place (two items a job)."""
    requests: list[dict[str, Any]] = []
    for job in jobs:
        assert job.rank is not None, "a queued job needs its rank"
        requests.append({"PutRequest": {"Item": job_item(job)}})
        requests.append({"PutRequest": {"Item": queue_item(job, QueueRank.parse(job.rank))}})
    table = dynamo.table("jobs")
    for start in range(0, len(requests), BATCH_SIZE):
        pending: dict[str, list[Any]] = {table: requests[start : start + BATCH_SIZE]}
        for attempt in range(10):  # DynamoDB may hand back writes under load: send them again
            with store_errors():
                response = dynamo.client.batch_write_item(RequestItems=pending)
            pending = {name: list(rest) for name, rest in response["UnprocessedItems"].items()}
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise RuntimeError("DynamoDB kept refusing a batch of queue items")
