"""JobRun storage (the execution history)."""

from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.client import Dynamo, store_errors
from jobsched.adapters.dynamodb.codec import decode, encode, sort_time
from jobsched.adapters.dynamodb.pagination import Query, read_page
from jobsched.errors import NotFoundError
from jobsched.models import JobRun
from jobsched.ports import Page, RunFilter

KIND = "RUN"


def run_item(run: JobRun) -> dict[str, Any]:
    return encode(run, kind=KIND, started_key=sort_time(run.started_at))


class DynamoRunStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("runs")

    def put(self, run: JobRun) -> None:
        with store_errors():
            self.dynamo.client.put_item(TableName=self.table, Item=run_item(run))

    def get(self, run_id: str) -> JobRun:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key={"run_id": {"S": run_id}}, ConsistentRead=True
            )
        if "Item" not in response:
            raise NotFoundError(f"no run {run_id!r}")
        return decode(JobRun, response["Item"])

    def list_page(self, filters: RunFilter, limit: int, cursor: str | None) -> Page[JobRun]:
        items, next_cursor, _ = read_page(
            self.dynamo, _list_query(self.table, filters), limit, cursor
        )
        return Page([decode(JobRun, item) for item in items], next_cursor)


def _list_query(table: str, filters: RunFilter) -> Query:
    """Newest first; the most selective filter picks the index, since/until bound its sort key."""
    given = {
        "job_id": filters.job_id,
        "schedule_id": filters.schedule_id,
        "status": filters.status.value if filters.status else None,
        "template_id": filters.template_id,
    }
    indexes = {
        "job_id": c.BY_JOB_INDEX,
        "schedule_id": c.BY_SCHEDULE_INDEX,
        "status": c.BY_STATUS_INDEX,
        "template_id": c.BY_TEMPLATE_INDEX,
    }
    chosen = next((name for name, value in given.items() if value is not None), None)
    names: dict[str, str] = {"#started": "started_key"}
    values: dict[str, Any] = {}
    if chosen is None:
        index, condition, partition = c.BY_KIND_INDEX, "kind = :kind", "kind"
        values[":kind"] = {"S": KIND}
    else:
        index, condition, partition = indexes[chosen], f"#{chosen} = :{chosen}", chosen
        names[f"#{chosen}"] = chosen
        values[f":{chosen}"] = {"S": given[chosen]}
    if filters.since and filters.until:
        condition += " AND #started BETWEEN :since AND :until"
    elif filters.since:
        condition += " AND #started >= :since"
    elif filters.until:
        condition += " AND #started <= :until"
    if filters.since:
        values[":since"] = {"S": sort_time(filters.since)}
    if filters.until:
        values[":until"] = {"S": sort_time(filters.until)}
    clauses = []
    for name, value in given.items():
        if value is None or name == chosen:
            continue
        names[f"#{name}"] = name
        values[f":{name}"] = {"S": value}
        clauses.append(f"#{name} = :{name}")
    if not filters.since and not filters.until:
        names.pop("#started")
    return Query(
        table=table,
        index=index,
        key_condition=condition,
        names=names,
        values=values,
        filter=" AND ".join(clauses) or None,
        key_attributes=("run_id", partition, "started_key"),
        forward=False,
    )
