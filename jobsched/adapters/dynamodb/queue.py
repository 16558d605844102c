"""Reads of the queue order (strongly consistent, through the local index) and the pause state."""

from collections.abc import Iterator, Sequence
from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.client import Dynamo, store_errors
from jobsched.adapters.dynamodb.codec import decode, encode
from jobsched.adapters.dynamodb.jobs import entry_of, queue_key
from jobsched.adapters.dynamodb.pagination import Query, count, read_page
from jobsched.models import QueueEntry, QueueState
from jobsched.ports import Direction, QueuePage
from jobsched.ranks import JOBS_START, QueueRank

STATE_KEY = {"pk": {"S": c.QUEUE_STATE_PK}, "sk": {"S": c.QUEUE_STATE_SK}}


class DynamoQueueStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("jobs")
        self.lock_table = dynamo.table("lock")

    def _query(
        self, condition: str, values: dict[str, Any], limit: int, **params: Any
    ) -> list[QueueRank]:
        """Up to `limit` ranks. DynamoDB ends a page at 1 MB read, so keep reading until the
        limit or the end: a short page is not the end of the queue."""
        ranks: list[QueueRank] = []
        while len(ranks) < limit:
            with store_errors():
                response = self.dynamo.client.query(
                    TableName=self.table,
                    IndexName=c.QUEUE_RANK_INDEX,
                    KeyConditionExpression=f"pk = :queue{condition}",
                    ExpressionAttributeValues={":queue": {"S": c.QUEUE_PK}, **values},
                    ExpressionAttributeNames={"#rank": "rank"},
                    ProjectionExpression="#rank",
                    ConsistentRead=True,
                    Limit=limit - len(ranks),
                    **params,
                )
            ranks += [QueueRank.parse(item["rank"]["S"]) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return ranks

    def last_in_band(self, band: str) -> QueueRank | None:
        found = self._query(
            " AND begins_with(#rank, :band)",
            {":band": {"S": band}},
            limit=1,
            ScanIndexForward=False,
        )
        return found[0] if found else None

    def first_in_band(self, band: str) -> QueueRank | None:
        found = self._query(" AND begins_with(#rank, :band)", {":band": {"S": band}}, limit=1)
        return found[0] if found else None

    def head(self, limit: int) -> list[QueueRank]:
        """The first jobs (pending reservations, ahead of them, are not counted)."""
        return self._query(" AND #rank >= :jobs", {":jobs": {"S": JOBS_START}}, limit)

    def dispatch_head(self, limit: int) -> list[QueueEntry]:
        """The first units to dispatch, reservations first, with what the dispatcher needs."""
        with store_errors():
            response = self.dynamo.client.query(
                TableName=self.table,
                IndexName=c.QUEUE_RANK_INDEX,
                KeyConditionExpression="pk = :queue",
                ExpressionAttributeValues={":queue": {"S": c.QUEUE_PK}},
                ConsistentRead=True,
                Limit=limit,
            )
        return [entry_of(item) for item in response.get("Items", [])]

    def reservations(self) -> list[QueueEntry]:
        with store_errors():
            response = self.dynamo.client.query(
                TableName=self.table,
                IndexName=c.QUEUE_RANK_INDEX,
                KeyConditionExpression="pk = :queue AND #rank < :jobs",
                ExpressionAttributeNames={"#rank": "rank"},
                ExpressionAttributeValues={":queue": {"S": c.QUEUE_PK}, ":jobs": {"S": JOBS_START}},
                ConsistentRead=True,
            )
        return [entry_of(item) for item in response.get("Items", [])]

    def neighbour(self, rank: QueueRank, direction: Direction, skip: str) -> QueueRank | None:
        """The job just before or after `rank`, ignoring the job `skip` (the one being moved)."""
        operator = "<" if direction == "previous" else ">"
        found = self._query(
            f" AND #rank {operator} :rank",
            {":rank": {"S": rank.key}},
            limit=2,
            ScanIndexForward=direction == "next",
        )
        found = [r for r in found if r.job_id != skip]
        if not found or found[0].is_reservation:
            return None  # reservations are not jobs: there is no job on that side
        return found[0]

    def rank_of(self, job_id: str) -> QueueRank | None:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key=queue_key(job_id), ConsistentRead=True
            )
        item = response.get("Item")
        return QueueRank.parse(item["rank"]["S"]) if item else None

    def position_of(self, rank: QueueRank) -> int:
        """1-based: the queued jobs up to this rank, itself included (BETWEEN is inclusive)."""
        return count(
            self.dynamo,
            TableName=self.table,
            IndexName=c.QUEUE_RANK_INDEX,
            KeyConditionExpression="pk = :queue AND #rank BETWEEN :jobs AND :rank",
            ExpressionAttributeNames={"#rank": "rank"},
            ExpressionAttributeValues={
                ":queue": {"S": c.QUEUE_PK},
                ":jobs": {"S": JOBS_START},
                ":rank": {"S": rank.key},
            },
            ConsistentRead=True,
        )

    def positions_of(self, ranks: Sequence[QueueRank]) -> list[int]:
        """One count each: a key condition cannot say "after this rank, up to that one" (its
        BETWEEN includes both ends), so no stretch between two ranks is counted alone."""
        return [self.position_of(rank) for rank in ranks]

    def _page_query(self) -> Query:
        return Query(
            table=self.table,
            index=c.QUEUE_RANK_INDEX,
            key_condition="pk = :queue AND #rank >= :jobs",
            names={"#rank": "rank"},
            values={":queue": {"S": c.QUEUE_PK}, ":jobs": {"S": JOBS_START}},
            key_attributes=("pk", "sk", "rank"),
            consistent=True,
        )

    def page(self, limit: int, cursor: str | None) -> QueuePage:
        items, next_cursor, offset = read_page(self.dynamo, self._page_query(), limit, cursor)
        return [(offset + i + 1, entry_of(item)) for i, item in enumerate(items)], next_cursor

    def entries(self) -> Iterator[QueueEntry]:
        cursor: str | None = None
        while True:
            items, cursor, _ = read_page(self.dynamo, self._page_query(), 500, cursor)
            yield from (entry_of(item) for item in items)
            if cursor is None:
                return

    def state(self) -> QueueState:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.lock_table, Key=STATE_KEY, ConsistentRead=True
            )
        item = response.get("Item")
        return decode(QueueState, item) if item else QueueState()

    def set_state(self, state: QueueState) -> QueueState:
        with store_errors():
            self.dynamo.client.put_item(
                TableName=self.lock_table, Item={**encode(state), **STATE_KEY}
            )
        return state
