"""JobGroup storage. Groups are created with their jobs, in the jobs store's transaction."""

from collections.abc import Collection
from datetime import datetime

from jobsched import transitions
from jobsched.adapters.dynamodb.client import Dynamo, is_condition_failure, store_errors, update_if
from jobsched.adapters.dynamodb.codec import decode, encode, serialize, sort_time
from jobsched.adapters.dynamodb.pagination import Query, read_page
from jobsched.constants import BY_KIND_INDEX
from jobsched.errors import NotFoundError
from jobsched.models import GroupStatus, Hold, JobGroup, WebhookResult
from jobsched.ports import Page

KIND = "GROUP"
# The statuses a group never leaves (transitions.GROUP allows no move from them).
ENDED_VALUES = {
    f":ended{index}": status.value
    for index, status in enumerate(
        sorted(status for status, moves in transitions.GROUP.items() if not moves)
    )
}
CLAIM_NOTIFICATION_CONDITION = (
    f"attribute_not_exists(notified_at) AND #status IN ({', '.join(ENDED_VALUES)})"
)


class DynamoGroupStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("groups")

    def get(self, group_id: str) -> JobGroup:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key={"group_id": {"S": group_id}}, ConsistentRead=True
            )
        if "Item" not in response:
            raise NotFoundError(f"no group {group_id!r}")
        return decode(JobGroup, response["Item"])

    def list_page(self, limit: int, cursor: str | None) -> Page[JobGroup]:
        query = Query(
            table=self.table,
            index=BY_KIND_INDEX,
            key_condition="kind = :kind",
            values={":kind": {"S": KIND}},
            key_attributes=("group_id", "kind", "created_key"),
            forward=False,
        )
        items, next_cursor, _ = read_page(self.dynamo, query, limit, cursor)
        return Page([decode(JobGroup, item) for item in items], next_cursor)

    def set_status(self, group: JobGroup) -> None:
        """Store the group's status and times; the group must exist."""
        try:
            with store_errors():
                self.dynamo.client.put_item(
                    TableName=self.table,
                    Item=encode(group, kind=KIND, created_key=sort_time(group.created_at)),
                    ConditionExpression="attribute_exists(group_id)",
                )
        except Exception as exc:
            if is_condition_failure(exc):
                raise NotFoundError(f"no group {group.group_id!r}") from exc
            raise

    def hold(self, group_id: str, hold: Hold, statuses: Collection[GroupStatus]) -> bool:
        """One conditional update on the status; StartGroup's condition is the mark's absence,
        so on the group's item the mark and a start are ordered, one of them first."""
        names = {f":status{index}": status.value for index, status in enumerate(statuses)}
        return update_if(
            self.dynamo,
            TableName=self.table,
            Key={"group_id": {"S": group_id}},
            UpdateExpression="SET #hold = :hold",
            ConditionExpression=f"#status IN ({', '.join(names)})",
            ExpressionAttributeNames={"#status": "status", "#hold": "hold"},
            ExpressionAttributeValues={
                ":hold": serialize(hold.model_dump(mode="json", exclude_none=True)),
                **{name: {"S": value} for name, value in names.items()},
            },
        )

    def release(self, group_id: str) -> None:
        update_if(  # False: the group was deleted meanwhile, nothing to clear
            self.dynamo,
            TableName=self.table,
            Key={"group_id": {"S": group_id}},
            UpdateExpression="REMOVE #hold",
            ConditionExpression="attribute_exists(group_id)",
            ExpressionAttributeNames={"#hold": "hold"},
        )

    def record_webhook(self, group_id: str, result: WebhookResult) -> None:
        update_if(  # False: the group was deleted meanwhile, nothing to record
            self.dynamo,
            TableName=self.table,
            Key={"group_id": {"S": group_id}},
            UpdateExpression="SET webhook = :result",
            ConditionExpression="attribute_exists(group_id)",
            ExpressionAttributeValues={":result": {"M": encode(result)}},
        )

    def claim_notification(self, group_id: str, at: datetime) -> bool:
        """One conditional write: the first caller for an ended group sets `notified_at` and
        wins; every later one (and any caller for a group not ended, or missing) fails the
        condition and gets False."""
        values = {name: {"S": value} for name, value in ENDED_VALUES.items()}
        return update_if(
            self.dynamo,
            TableName=self.table,
            Key={"group_id": {"S": group_id}},
            UpdateExpression="SET notified_at = :at",
            ConditionExpression=CLAIM_NOTIFICATION_CONDITION,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":at": {"S": at.isoformat()}, **values},
        )
