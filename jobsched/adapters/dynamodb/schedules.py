"""Schedule records (the schedules table, keyed by schedule_id).

Writes are conditional on the record's `version`, so two changes never overwrite each other
unseen. A fire's `last_run` and `fired_through` are the exception: each is set by its own
update, which no version guards, and the version-guarded writes never write them, so a fire
and a PATCH do not collide.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.client import (
    Dynamo,
    cancellation_codes,
    is_condition_failure,
    store_errors,
)
from jobsched.adapters.dynamodb.codec import decode, encode, serialize, sort_time
from jobsched.adapters.dynamodb.idempotency import claim_put, release_delete
from jobsched.adapters.dynamodb.pagination import ListIndexes, Query, filtered_query, read_page
from jobsched.errors import ConflictError, IdempotencyKeyTakenError, NotFoundError
from jobsched.models import LastRun, Schedule
from jobsched.models.idempotency import IdempotencyClaim
from jobsched.ports import Page

KIND = "SCHEDULE"
# Never written by `replace`: the key, and what only a fire sets.
_NOT_REPLACED = frozenset({"schedule_id", "last_run", "fired_through"})


def schedule_key(schedule_id: str) -> dict[str, Any]:
    return {"schedule_id": {"S": schedule_id}}


def schedule_item(schedule: Schedule) -> dict[str, Any]:
    return encode(schedule, kind=KIND, created_key=sort_time(schedule.created_at))


class DynamoScheduleStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("schedules")
        self.jobs_table = dynamo.table("jobs")  # where Idempotency-Key records live
        self.lists = ListIndexes(
            table=self.table,
            table_keys=("schedule_id",),
            kind=KIND,
            sort_key="created_key",
            by_attribute={"template_id": c.BY_TEMPLATE_INDEX},
            by_kind=c.BY_KIND_INDEX,
        )

    def create(self, schedule: Schedule, idempotency: IdempotencyClaim | None = None) -> None:
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": schedule_item(schedule),
            "ConditionExpression": "attribute_not_exists(schedule_id)",
        }
        try:
            with store_errors():
                if idempotency is None:
                    self.dynamo.client.put_item(**put)
                else:
                    actions = [{"Put": put}, claim_put(self.jobs_table, idempotency)]
                    self.dynamo.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except Exception as exc:
            if not is_condition_failure(exc):
                raise
            if idempotency and cancellation_codes(exc)[1:] == ["ConditionalCheckFailed"]:
                raise IdempotencyKeyTakenError("the Idempotency-Key was used already") from exc
            raise ConflictError(f"schedule {schedule.schedule_id!r} already exists") from exc

    def find(self, schedule_id: str) -> Schedule | None:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key=schedule_key(schedule_id), ConsistentRead=True
            )
        item = response.get("Item")
        return decode(Schedule, item) if item else None

    def get(self, schedule_id: str) -> Schedule:
        schedule = self.find(schedule_id)
        if schedule is None:
            raise NotFoundError(f"no schedule {schedule_id!r}")
        return schedule

    def list_page(self, template_id: str | None, limit: int, cursor: str | None) -> Page[Schedule]:
        query = filtered_query(self.lists, {"template_id": template_id})
        items, next_cursor, _ = read_page(self.dynamo, query, limit, cursor)
        return Page([decode(Schedule, item) for item in items], next_cursor)

    def replace(self, schedule: Schedule, expected_version: int) -> None:
        item = schedule_item(schedule)
        names: dict[str, str] = {}
        values: dict[str, Any] = {":expected": {"N": str(expected_version)}}
        sets: list[str] = []
        for number, (name, value) in enumerate(sorted(item.items())):
            if name in _NOT_REPLACED:
                continue
            names[f"#a{number}"] = name
            values[f":a{number}"] = value
            sets.append(f"#a{number} = :a{number}")
        # A field set to None is absent from the item: remove what the record held for it.
        removed = sorted(set(Schedule.model_fields) - item.keys() - _NOT_REPLACED)
        removes = []
        for number, name in enumerate(removed):
            names[f"#r{number}"] = name
            removes.append(f"#r{number}")
        names["#version"] = "version"
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        self._conditional_update(
            schedule.schedule_id,
            UpdateExpression=expression,
            ConditionExpression="#version = :expected",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def clear_pending(self, schedule_id: str, version: int) -> bool:
        try:
            self._conditional_update(
                schedule_id,
                UpdateExpression="REMOVE pending_sync",
                ConditionExpression="#version = :version",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":version": {"N": str(version)}},
            )
        except (ConflictError, NotFoundError):
            return False
        return True

    def delete(
        self, schedule_id: str, expected_version: int, release_key: str | None = None
    ) -> None:
        delete: dict[str, Any] = {
            "TableName": self.table,
            "Key": schedule_key(schedule_id),
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            with store_errors():
                if release_key is None:
                    self.dynamo.client.delete_item(**delete)
                else:
                    actions = [{"Delete": delete}, release_delete(self.jobs_table, release_key)]
                    self.dynamo.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except Exception as exc:
            if is_condition_failure(exc):
                raise self._refusal(schedule_id, exc) from exc
            raise

    def record_fire(self, schedule_id: str, last_run: LastRun) -> None:
        try:
            with store_errors():
                self.dynamo.client.update_item(
                    TableName=self.table,
                    Key=schedule_key(schedule_id),
                    UpdateExpression="SET last_run = :last_run",
                    ConditionExpression="attribute_exists(schedule_id)",
                    ExpressionAttributeValues={
                        ":last_run": serialize(last_run.model_dump(mode="json", exclude_none=True))
                    },
                )
        except Exception as exc:
            if is_condition_failure(exc):
                return  # deleted meanwhile: there is no record to show it on
            raise

    def advance_fired_through(self, schedule_id: str, through: datetime) -> None:
        # Written in sort_time's fixed width by this method alone, so the condition's string
        # comparison orders like the times: fired_through only moves forward.
        moment = {"S": sort_time(through)}
        try:
            with store_errors():
                self.dynamo.client.update_item(
                    TableName=self.table,
                    Key=schedule_key(schedule_id),
                    UpdateExpression="SET fired_through = :through",
                    ConditionExpression="attribute_exists(schedule_id) AND "
                    "(attribute_not_exists(fired_through) OR fired_through < :through)",
                    ExpressionAttributeValues={":through": moment},
                )
        except Exception as exc:
            if is_condition_failure(exc):
                return  # deleted meanwhile, or a later time is recorded already
            raise

    def pending(self) -> list[Schedule]:
        """Reads every schedule item (a filter, not an index): schedules number in the
        hundreds, and this runs once a minute at most."""
        query = Query(
            table=self.table,
            index=c.BY_KIND_INDEX,
            key_condition="kind = :kind",
            values={":kind": {"S": KIND}},
            filter="attribute_exists(pending_sync)",
            key_attributes=("schedule_id", "kind", "created_key"),
        )
        return [decode(Schedule, item) for item in self._all(query)]

    def _all(self, query: Query) -> Iterator[dict[str, Any]]:
        params = query.params()
        while True:
            with store_errors():
                response = self.dynamo.client.query(**params)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _conditional_update(self, schedule_id: str, **request: Any) -> None:
        try:
            with store_errors():
                self.dynamo.client.update_item(
                    TableName=self.table,
                    Key=schedule_key(schedule_id),
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **request,
                )
        except Exception as exc:
            if is_condition_failure(exc):
                raise self._refusal(schedule_id, exc) from exc
            raise

    @staticmethod
    def _refusal(schedule_id: str, exc: Exception) -> Exception:
        """A failed version condition: the record is gone (404) or changed meanwhile (409)."""
        response = getattr(exc, "response", {})
        old = response.get("Item") or (response.get("CancellationReasons") or [{}])[0].get("Item")
        if not old:
            return NotFoundError(f"no schedule {schedule_id!r}")
        return ConflictError(f"schedule {schedule_id!r} changed meanwhile; read it again")
