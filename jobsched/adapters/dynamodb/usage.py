"""The usage ledger in the jobs table: `USAGE#<scope>` / `<UTC hour>#<id>`, one item per
template (or schedule) and hour, its counters added to by each ending run's transaction.

The items carry none of the jobs table's index attributes (status, template_id, kind...), so no
index and no list of jobs ever sees them.
"""

from datetime import datetime
from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.client import Dynamo, store_errors
from jobsched.models.usage import COUNTERS, Usage, UsageTotals, charges, hour_of

Item = dict[str, Any]
_AFTER_EVERY_ID = "~"  # sorts after '#' and every id character: the end of an hour's range


def usage_key(scope: str, hour: str, scope_id: str) -> Item:
    return {"pk": {"S": c.USAGE_PK_PREFIX + scope}, "sk": {"S": f"{hour}#{scope_id}"}}


def usage_updates(
    table: str, usage: Usage, template_id: str, schedule_id: str | None, ended_at: datetime
) -> list[Item]:
    """The transaction items that add one run's usage to its buckets (ADD makes a missing
    item, so there is no condition: they are written whenever the run's own write is)."""
    totals = UsageTotals.of(usage)
    values = {f":{name}": {"N": str(getattr(totals, name))} for name in COUNTERS}
    expression = "ADD " + ", ".join(f"{name} :{name}" for name in COUNTERS)
    hour = hour_of(ended_at)
    return [
        {
            "Update": {
                "TableName": table,
                "Key": usage_key(scope, hour, scope_id),
                "UpdateExpression": expression + " SET scope_id = :id",
                "ExpressionAttributeValues": {**values, ":id": {"S": scope_id}},
            }
        }
        for scope, scope_id in charges(template_id, schedule_id)
    ]


def usage_sums(
    dynamo: Dynamo, table: str, scope: str, since: datetime, until: datetime
) -> dict[str, UsageTotals]:
    """Each id's totals over the hours from `since`'s to `until`'s: one query, paged."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :since AND :until",
        "ExpressionAttributeValues": {
            ":pk": {"S": c.USAGE_PK_PREFIX + scope},
            ":since": {"S": hour_of(since)},
            ":until": {"S": hour_of(until) + _AFTER_EVERY_ID},
        },
    }
    sums: dict[str, UsageTotals] = {}
    while True:
        with store_errors():
            page = dynamo.client.query(**request)
        for item in page.get("Items", []):
            scope_id = item["scope_id"]["S"]
            counts = {name: int(item[name]["N"]) for name in COUNTERS if name in item}
            sums[scope_id] = sums.get(scope_id, UsageTotals()).plus(UsageTotals(**counts))
        if "LastEvaluatedKey" not in page:
            return dict(sorted(sums.items()))
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
