"""Jobs, their places in the queue, and Idempotency-Key records (all in the jobs table).

Item layout (pk / sk):
- `JOB#<id>` / `JOB`: the job;
- `QUEUE` / `JOB#<id>`: its place in the queue while QUEUED, with `rank` (see ranks.py), read
  in order through the local index `by_rank`, which, unlike a global index, can be read
  strongly consistently;
- `QUEUE#HELD` / `JOB#<id>`: its place while HELD, the same item moved out of the partition
  the dispatcher reads (so held jobs never fill its window), read in the same index;
- `IDEMPOTENCY#<key>` / `IDEMPOTENCY`: which resource a key created (idempotency.py);
- `LINEAGE#<root id>` / `<created key>#<id>`: a rerun, under the first job of its chain, so
  that the chain is one query of one partition (no index; the link holds the id alone).
"""

from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.client import (
    Dynamo,
    cancellation_codes,
    is_condition_failure,
    store_errors,
)
from jobsched.adapters.dynamodb.codec import decode, deserialize_map, encode, serialize, sort_time
from jobsched.adapters.dynamodb.idempotency import claim_put, idempotency_key, record_of
from jobsched.adapters.dynamodb.pagination import ListIndexes, count, filtered_query, read_page
from jobsched.adapters.dynamodb.templates import DynamoTemplateStore
from jobsched.errors import (
    ConflictError,
    IdempotencyKeyTakenError,
    NotFoundError,
    TemplateChangedError,
)
from jobsched.models import Hold, Job, JobStatus, QueueEntry, utcnow
from jobsched.ports import IdempotencyRecord, JobFilter, NewJobs, Page
from jobsched.ranks import QueueRank
from jobsched.transitions import hold_conflict

KIND = "JOB"


def job_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": c.JOB_PK_PREFIX + job_id}, "sk": {"S": c.JOB_SK}}


def queue_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": c.QUEUE_PK}, "sk": {"S": c.QUEUE_SK_PREFIX + job_id}}


def held_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": c.QUEUE_HELD_PK}, "sk": {"S": c.QUEUE_SK_PREFIX + job_id}}


def place_key(job_id: str, status: JobStatus) -> dict[str, Any]:
    """Where a waiting job's place is: the queue's partition, or the held one."""
    return held_key(job_id) if status == JobStatus.HELD else queue_key(job_id)


def job_item(job: Job) -> dict[str, Any]:
    return {
        **encode(job, kind=KIND, created_key=sort_time(job.created_at)),
        **job_key(job.job_id),
    }


def lineage_item(job: Job) -> dict[str, Any]:
    assert job.lineage_root is not None
    return {
        "pk": {"S": c.LINEAGE_PK_PREFIX + job.lineage_root},
        "sk": {"S": f"{sort_time(job.created_at)}#{job.job_id}"},
        "rerun_id": {"S": job.job_id},
    }


def new_job_items(job: Job) -> list[dict[str, Any]]:
    """A new job, its queue place, and a rerun's link under its chain's first job."""
    assert job.rank is not None, "a new job needs its queue rank"
    items = [job_item(job), queue_item(job, QueueRank.parse(job.rank))]
    return [*items, lineage_item(job)] if job.lineage_root is not None else items


def queue_item(job: Job, rank: QueueRank, not_before: float | None = None) -> dict[str, Any]:
    return entry_item(QueueEntry.of_job(job, rank, not_before))


def entry_item(entry: QueueEntry) -> dict[str, Any]:
    # The unit's fields sit in a map so that they stay out of the jobs table's global indexes.
    return {**queue_key(entry.job_id), "rank": {"S": entry.rank}, "entry": {"M": encode(entry)}}


def entry_of(item: dict[str, Any]) -> QueueEntry:
    # The top-level rank is the one the queue sorts by (the map's copy is set beside it).
    return decode(QueueEntry, {**item["entry"]["M"], "rank": item["rank"]})


class _PlaceMovedError(Exception):
    """The place read was moved (or left) before the transaction that moves it committed."""


class DynamoJobStore:
    def __init__(self, dynamo: Dynamo, templates: DynamoTemplateStore, groups_table: str) -> None:
        self.dynamo = dynamo
        self.templates = templates
        self.table = dynamo.table("jobs")
        self.groups_table = groups_table
        self.lists = ListIndexes(
            table=self.table,
            table_keys=("pk", "sk"),
            kind=KIND,
            sort_key="created_key",
            by_attribute={
                "status": c.BY_STATUS_INDEX,
                "group_id": c.BY_GROUP_INDEX,
                "schedule_id": c.BY_SCHEDULE_INDEX,
                "template_id": c.BY_TEMPLATE_INDEX,
            },
            by_kind=c.BY_KIND_INDEX,
        )

    def get(self, job_id: str) -> Job:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key=job_key(job_id), ConsistentRead=True
            )
        if "Item" not in response:
            raise NotFoundError(f"no job {job_id!r}")
        return decode(Job, response["Item"])

    def list_page(self, filters: JobFilter, limit: int, cursor: str | None) -> Page[Job]:
        query = filtered_query(
            self.lists,
            {
                "status": filters.status.value if filters.status else None,
                "group_id": filters.group_id,
                "schedule_id": filters.schedule_id,
                "template_id": filters.template_id,
            },
        )
        items, next_cursor, _ = read_page(self.dynamo, query, limit, cursor)
        return Page([decode(Job, item) for item in items], next_cursor)

    def insert(self, new: NewJobs) -> None:
        """Write jobs and their queue places at once, only if every template takes new jobs."""
        actions: list[dict[str, Any]] = [
            self.templates.unchanged_check(template_id, version)
            for template_id, version in sorted(new.templates.items())
        ]
        if new.idempotency:
            actions.append(claim_put(self.table, new.idempotency))
        if new.group:
            actions.append(
                {
                    "Put": {
                        "TableName": self.groups_table,
                        "Item": encode(
                            new.group, kind="GROUP", created_key=sort_time(new.group.created_at)
                        ),
                        "ConditionExpression": "attribute_not_exists(group_id)",
                    }
                }
            )
        if new.join_group:
            actions.append(
                {
                    "Update": {
                        "TableName": self.groups_table,
                        "Key": {"group_id": {"S": new.join_group}},
                        "UpdateExpression": "SET job_ids = list_append(job_ids, :ids)",
                        # The size read is the joining job's index: no other job took it.
                        "ConditionExpression": "#status = :queued AND size(job_ids) = :size",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":ids": serialize([job.job_id for job in new.jobs]),
                            ":queued": {"S": "queued"},
                            ":size": serialize(new.group_size or 0),
                        },
                    }
                }
            )
        for job in new.jobs:
            actions += [{"Put": {"TableName": self.table, "Item": i}} for i in new_job_items(job)]
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except Exception as exc:
            if not is_condition_failure(exc):
                raise
            codes = cancellation_codes(exc)
            templates = len(new.templates)
            if "ConditionalCheckFailed" in codes[:templates]:
                raise TemplateChangedError(
                    "the template was archived or changed meanwhile"
                ) from exc
            if new.idempotency and codes[templates] == "ConditionalCheckFailed":
                raise IdempotencyKeyTakenError("the Idempotency-Key was used already") from exc
            if new.join_group:
                raise ConflictError(
                    f"group {new.join_group!r} has started or ended; it takes no new jobs"
                ) from exc
            raise ConflictError("the jobs could not be written; retry") from exc

    def cancel(self, job_id: str) -> Job:
        """QUEUED (or HELD) -> CANCELLED in one transaction with the removal of its queue place.

        The condition on status makes this race safely with a claim (QUEUED -> RUNNING). A held
        job's place is in the other partition: that is a second try, as one transaction names
        its items' keys, and the status each try expects is its condition.
        """
        try:
            return self._cancel(job_id, JobStatus.QUEUED)
        except ConflictError:
            if self._status_of(job_id) != JobStatus.HELD:
                raise
        return self._cancel(job_id, JobStatus.HELD)

    def _status_of(self, job_id: str) -> JobStatus | None:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table,
                Key=job_key(job_id),
                ConsistentRead=True,
                ProjectionExpression="#status",
                ExpressionAttributeNames={"#status": "status"},
            )
        item = response.get("Item")
        return JobStatus(item["status"]["S"]) if item else None

    def _cancel(self, job_id: str, expected: JobStatus) -> Job:
        now = utcnow()
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": self.table,
                                "Key": job_key(job_id),
                                "UpdateExpression": "SET #status = :cancelled, updated_at = :now, "
                                "finished_at = :now REMOVE #rank, #hold",
                                "ConditionExpression": "#status = :expected",
                                "ExpressionAttributeNames": {
                                    "#status": "status",
                                    "#rank": "rank",
                                    "#hold": "hold",
                                },
                                "ExpressionAttributeValues": {
                                    ":cancelled": {"S": JobStatus.CANCELLED},
                                    ":expected": {"S": expected},
                                    ":now": serialize(now.isoformat()),
                                },
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            }
                        },
                        {
                            "Delete": {
                                "TableName": self.table,
                                "Key": place_key(job_id, expected),
                                "ConditionExpression": "attribute_exists(pk)",
                            }
                        },
                    ]
                )
        except Exception as exc:
            if not is_condition_failure(exc):
                raise
            current = self._old_item(exc)
            if current is None:
                raise NotFoundError(f"no job {job_id!r}") from exc
            status = deserialize_map(current).get("status")
            raise ConflictError(
                f"job {job_id!r} is {status}; only a queued job can be cancelled"
            ) from exc
        return self.get(job_id)

    def hold(self, job_id: str, hold: Hold) -> Job:
        """QUEUED -> HELD: the queue place moves to the held partition with its rank."""
        return self._move_place(job_id, JobStatus.QUEUED, hold)

    def release(self, job_id: str) -> Job:
        """HELD -> QUEUED: the place moves back to the queue's partition, rank unchanged."""
        return self._move_place(job_id, JobStatus.HELD, None)

    def _move_place(self, job_id: str, expected: JobStatus, hold: Hold | None) -> Job:
        """One transaction moves the job's status and its place together. A transaction cannot
        copy an item, so the place is read first; the delete's condition on the rank read (a
        move changes it) and the job's on its status make the write fail rather than copy a
        stale place; a place moved meanwhile is read again."""
        for _ in range(3):
            with store_errors():
                response = self.dynamo.client.get_item(
                    TableName=self.table, Key=place_key(job_id, expected), ConsistentRead=True
                )
            item = response.get("Item")
            if item is None:
                status = self._status_of(job_id)
                if status is None:
                    raise NotFoundError(f"no job {job_id!r}")
                raise hold_conflict(job_id, status, hold is not None)
            entry = entry_of(item).model_copy(update={"hold": hold})
            try:
                self._commit_move(job_id, expected, entry, dict(item["rank"]))
            except _PlaceMovedError:
                continue
            return self.get(job_id)
        raise ConflictError(f"job {job_id!r} keeps moving in the queue; retry")

    def _commit_move(
        self, job_id: str, expected: JobStatus, entry: QueueEntry, rank: dict[str, Any]
    ) -> None:
        target = JobStatus.HELD if entry.hold else JobStatus.QUEUED
        values: dict[str, Any] = {
            ":expected": {"S": expected},
            ":target": {"S": target},
            ":now": serialize(utcnow().isoformat()),
        }
        if entry.hold:
            values[":hold"] = serialize(entry.hold.model_dump(mode="json", exclude_none=True))
        update = "SET #status = :target, updated_at = :now " + (
            ", #hold = :hold" if entry.hold else "REMOVE #hold"
        )
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": self.table,
                                "Key": job_key(job_id),
                                "UpdateExpression": update,
                                "ConditionExpression": "#status = :expected",
                                "ExpressionAttributeNames": {"#status": "status", "#hold": "hold"},
                                "ExpressionAttributeValues": values,
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            }
                        },
                        {
                            "Delete": {
                                "TableName": self.table,
                                "Key": place_key(job_id, expected),
                                "ConditionExpression": "#rank = :rank",
                                "ExpressionAttributeNames": {"#rank": "rank"},
                                "ExpressionAttributeValues": {":rank": rank},
                            }
                        },
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": {**entry_item(entry), **place_key(job_id, target)},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
        except Exception as exc:
            if not is_condition_failure(exc):
                raise
            codes = cancellation_codes(exc)
            current = self._old_item(exc)
            if codes[0] == "ConditionalCheckFailed" and current is not None:
                status = str(deserialize_map(current).get("status"))
                raise hold_conflict(job_id, status, entry.hold is not None) from exc
            raise _PlaceMovedError from exc

    @staticmethod
    def _old_item(exc: Exception) -> dict[str, Any] | None:
        reasons = getattr(exc, "response", {}).get("CancellationReasons") or [{}]
        item: dict[str, Any] | None = reasons[0].get("Item")
        return item

    def rerank(self, ranks: list[QueueRank]) -> None:
        """Give jobs new queue ranks: two small writes a job, whatever the queue length."""
        actions: list[dict[str, Any]] = []
        now = serialize(utcnow().isoformat())
        for rank in ranks:
            # A held job's place is in the held partition: the status read picks the key, and
            # is the job's condition, so a job that changed meanwhile fails the whole write.
            held = self._status_of(rank.job_id) == JobStatus.HELD
            waiting = JobStatus.HELD if held else JobStatus.QUEUED
            values = {":rank": {"S": rank.key}, ":priority": serialize(rank.priority)}
            actions.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": place_key(rank.job_id, waiting),
                        "UpdateExpression": "SET #rank = :rank, entry.#rank = :rank, "
                        "entry.priority = :priority",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeNames": {"#rank": "rank"},
                        "ExpressionAttributeValues": values,
                    }
                }
            )
            actions.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": job_key(rank.job_id),
                        "UpdateExpression": "SET #rank = :rank, priority = :priority, "
                        "updated_at = :now",
                        "ConditionExpression": "#status = :waiting",
                        "ExpressionAttributeNames": {"#rank": "rank", "#status": "status"},
                        "ExpressionAttributeValues": {
                            **values,
                            ":waiting": {"S": waiting},
                            ":now": now,
                        },
                    }
                }
            )
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except Exception as exc:
            if is_condition_failure(exc):
                raise ConflictError(
                    "a job left the queue meanwhile (it started or was cancelled)"
                ) from exc
            raise

    def count(self, status: JobStatus) -> int:
        return count(
            self.dynamo,
            TableName=self.table,
            IndexName=c.BY_STATUS_INDEX,
            KeyConditionExpression="#status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": status.value}},
        )

    def lineage(self, root_id: str, limit: int) -> list[Job]:
        ids: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": c.LINEAGE_PK_PREFIX + root_id}},
            "ConsistentRead": True,
        }
        while len(ids) < limit:
            with store_errors():
                page = self.dynamo.client.query(**request, Limit=limit - len(ids))
            ids += [item["rerun_id"]["S"] for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return self._get_many(ids)

    def _get_many(self, job_ids: list[str]) -> list[Job]:
        """The jobs, in the order of `job_ids` (BatchGetItem: up to 100 keys a call)."""
        found: dict[str, Job] = {}
        for start in range(0, len(job_ids), 100):
            keys: list[dict[str, Any]] = [job_key(i) for i in job_ids[start : start + 100]]
            while keys:
                with store_errors():
                    response = self.dynamo.client.batch_get_item(
                        RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}}
                    )
                for item in response["Responses"].get(self.table, []):
                    job = decode(Job, item)
                    found[job.job_id] = job
                unprocessed: dict[str, Any] = dict(response.get("UnprocessedKeys", {}))
                keys = list(unprocessed.get(self.table, {}).get("Keys", []))
        return [found[i] for i in job_ids if i in found]

    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key=idempotency_key(key), ConsistentRead=True
            )
        return record_of(key, response.get("Item"))
