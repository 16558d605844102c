"""Reads of the queue order (strongly consistent, through the local index) and the pause state."""

from collections.abc import Iterator, Sequence
from typing import Any

from jobsched import constants as c
from jobsched.adapters.cursors import decode_cursor, encode_cursor, foreign_cursor
from jobsched.adapters.dynamodb.client import Dynamo, store_errors
from jobsched.adapters.dynamodb.codec import decode, encode
from jobsched.adapters.dynamodb.jobs import entry_of, held_key, queue_key
from jobsched.adapters.dynamodb.pagination import count
from jobsched.models import QueueEntry, QueueState
from jobsched.ports import Direction, QueuePage
from jobsched.ranks import JOBS_START, QueueRank

ENTRIES_PAGE = 500
LIST_NAME = "queue.rank"  # in the cursor: the list that issued it
STATE_KEY = {"pk": {"S": c.QUEUE_STATE_PK}, "sk": {"S": c.QUEUE_STATE_SK}}


class DynamoQueueStore:
    """Queued jobs sit in the `QUEUE` partition, which is what the dispatcher reads; held jobs
    sit in `QUEUE#HELD` with the rank they keep (jobs.py). Every read of the queue's order but
    the dispatcher's merges the two, so a held job is listed, counted and moved at its place."""

    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("jobs")
        self.lock_table = dynamo.table("lock")

    def _read(
        self,
        partition: str,
        condition: str,
        values: dict[str, Any],
        limit: int,
        ranks_only: bool = True,
        **params: Any,
    ) -> list[dict[str, Any]]:
        """Up to `limit` items of one partition in rank order. DynamoDB ends a page at 1 MB
        read, so keep reading until the limit or the end: a short page is not the end."""
        items: list[dict[str, Any]] = []
        if ranks_only:
            params["ProjectionExpression"] = "#rank"
        while len(items) < limit:
            with store_errors():
                response = self.dynamo.client.query(
                    TableName=self.table,
                    IndexName=c.QUEUE_RANK_INDEX,
                    KeyConditionExpression=f"pk = :queue{condition}",
                    ExpressionAttributeValues={":queue": {"S": partition}, **values},
                    ExpressionAttributeNames={"#rank": "rank"},
                    ConsistentRead=True,
                    Limit=limit - len(items),
                    **params,
                )
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return items

    def _merged(
        self,
        condition: str,
        values: dict[str, Any],
        limit: int,
        ranks_only: bool = True,
        **params: Any,
    ) -> list[dict[str, Any]]:
        """The first `limit` items of the queued and the held partitions together, in rank
        order (descending with ScanIndexForward=False)."""
        both = [
            *self._read(c.QUEUE_PK, condition, values, limit, ranks_only, **params),
            *self._read(c.QUEUE_HELD_PK, condition, values, limit, ranks_only, **params),
        ]
        descending = params.get("ScanIndexForward") is False
        both.sort(key=lambda item: str(item["rank"]["S"]), reverse=descending)
        return both[:limit]

    def _query(
        self, condition: str, values: dict[str, Any], limit: int, **params: Any
    ) -> list[QueueRank]:
        return [
            QueueRank.parse(item["rank"]["S"])
            for item in self._merged(condition, values, limit, **params)
        ]

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
        """The first jobs, held ones at their places (pending reservations are not counted)."""
        return self._query(" AND #rank >= :jobs", {":jobs": {"S": JOBS_START}}, limit)

    def dispatch_head(self, limit: int) -> list[QueueEntry]:
        """The first units to dispatch, reservations first, with what the dispatcher needs.
        Held jobs are in their own partition: they cost this read nothing."""
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
        for key in (queue_key(job_id), held_key(job_id)):
            with store_errors():
                response = self.dynamo.client.get_item(
                    TableName=self.table, Key=key, ConsistentRead=True
                )
            item = response.get("Item")
            if item:
                return QueueRank.parse(item["rank"]["S"])
        return None

    def position_of(self, rank: QueueRank) -> int:
        """1-based: the jobs up to this rank, held ones too, itself included (BETWEEN is
        inclusive)."""
        return sum(
            count(
                self.dynamo,
                TableName=self.table,
                IndexName=c.QUEUE_RANK_INDEX,
                KeyConditionExpression="pk = :queue AND #rank BETWEEN :jobs AND :rank",
                ExpressionAttributeNames={"#rank": "rank"},
                ExpressionAttributeValues={
                    ":queue": {"S": partition},
                    ":jobs": {"S": JOBS_START},
                    ":rank": {"S": rank.key},
                },
                ConsistentRead=True,
            )
            for partition in (c.QUEUE_PK, c.QUEUE_HELD_PK)
        )

    def positions_of(self, ranks: Sequence[QueueRank]) -> list[int]:
        """One count each: a key condition cannot say "after this rank, up to that one" (its
        BETWEEN includes both ends), so no stretch between two ranks is counted alone."""
        return [self.position_of(rank) for rank in ranks]

    def page(self, limit: int, cursor: str | None) -> QueuePage:
        """The jobs in order, held ones at their places; the cursor holds the last rank
        returned and its position (the SQLite twin's shape)."""
        key, offset = decode_cursor(cursor, list)
        condition, after = " AND #rank >= :after", JOBS_START
        if key is not None:
            if len(key) != 2 or key[1] != LIST_NAME or not isinstance(key[0], str):
                raise foreign_cursor()
            condition, after = " AND #rank > :after", max(key[0], JOBS_START)
        items = self._merged(condition, {":after": {"S": after}}, limit + 1, ranks_only=False)
        page = items[:limit]
        listed = [(offset + i + 1, entry_of(item)) for i, item in enumerate(page)]
        next_cursor = None
        if len(items) > limit and page:
            next_cursor = encode_cursor([page[-1]["rank"]["S"], LIST_NAME], offset + len(page))
        return listed, next_cursor

    def entries(self) -> Iterator[QueueEntry]:
        cursor: str | None = None
        while True:
            items, cursor = self.page(ENTRIES_PAGE, cursor)
            yield from (entry for _, entry in items)
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
