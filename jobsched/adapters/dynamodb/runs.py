"""JobRun storage (the execution history)."""

from datetime import datetime
from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.budgets import settle_items
from jobsched.adapters.dynamodb.client import (
    Dynamo,
    is_condition_failure,
    store_errors,
    update_if,
)
from jobsched.adapters.dynamodb.codec import decode, encode, serialize, sort_time
from jobsched.adapters.dynamodb.pagination import ListIndexes, count, filtered_query, read_page
from jobsched.adapters.dynamodb.usage import usage_sums, usage_updates
from jobsched.errors import NotFoundError
from jobsched.models import JobRun, RunStatus
from jobsched.models.usage import Usage, UsageTotals
from jobsched.ports import Page, RunFilter
from jobsched.settings import Settings

KIND = "RUN"


def run_expiry(settings: Settings, ended_at: datetime) -> int | None:
    """When DynamoDB's TTL may delete a run that ended at `ended_at` (epoch seconds), if runs
    expire at all (`run_retention_days`)."""
    if settings.run_retention_days is None:
        return None
    return int(ended_at.timestamp()) + settings.run_retention_days * 86_400


def run_item(run: JobRun, settings: Settings | None = None) -> dict[str, Any]:
    item = encode(run, kind=KIND, started_key=sort_time(run.started_at))
    if settings is not None and run.status != RunStatus.STARTED:
        expires_at = run_expiry(settings, run.finished_at or run.started_at)
        if expires_at is not None:
            item["expires_at"] = {"N": str(expires_at)}
    return item


class DynamoRunStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("runs")
        self.jobs = dynamo.table("jobs")  # where the usage ledger is
        self.lists = ListIndexes(
            table=self.table,
            table_keys=("run_id",),
            kind=KIND,
            sort_key="started_key",
            by_attribute={
                "job_id": c.BY_JOB_INDEX,
                "schedule_id": c.BY_SCHEDULE_INDEX,
                "status": c.BY_STATUS_INDEX,
                "template_id": c.BY_TEMPLATE_INDEX,
            },
            by_kind=c.BY_KIND_INDEX,
        )

    def put(self, run: JobRun) -> None:
        with store_errors():
            self.dynamo.client.put_item(
                TableName=self.table, Item=run_item(run, self.dynamo.settings)
            )

    def get(self, run_id: str) -> JobRun:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key={"run_id": {"S": run_id}}, ConsistentRead=True
            )
        if "Item" not in response:
            raise NotFoundError(f"no run {run_id!r}")
        return decode(JobRun, response["Item"])

    def keep_outputs(
        self, run_id: str, log_path: str | None, artifacts: list[str], usage: Usage | None = None
    ) -> bool:
        kept = {
            "TableName": self.table,
            "Key": {"run_id": {"S": run_id}},
            "UpdateExpression": "SET log_path = :log, artifacts = :artifacts",
            "ConditionExpression": "attribute_exists(run_id) AND #status <> :started AND "
            "(attribute_not_exists(log_path) OR attribute_type(log_path, :null))",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":log": serialize(log_path),
                ":artifacts": serialize(artifacts),
                ":started": {"S": RunStatus.STARTED.value},
                ":null": {"S": "NULL"},
            },
        }
        if usage is not None and self._keep_with_usage(run_id, kept, usage):
            return True
        return update_if(self.dynamo, **kept)

    def _keep_with_usage(self, run_id: str, kept: dict[str, Any], usage: Usage) -> bool:
        """The outputs, the usage and the ledger's buckets in one transaction, if the run has
        no usage yet (False when it has, or the outputs' own condition fails)."""
        run = self.get(run_id)
        if run.usage is not None:
            return False
        update = {
            **kept,
            "UpdateExpression": kept["UpdateExpression"] + ", #usage = :usage",
            "ConditionExpression": kept["ConditionExpression"]
            + " AND (attribute_not_exists(#usage) OR attribute_type(#usage, :null))",
            "ExpressionAttributeNames": {**kept["ExpressionAttributeNames"], "#usage": "usage"},
            "ExpressionAttributeValues": {
                **kept["ExpressionAttributeValues"],
                ":usage": serialize(usage.model_dump()),
            },
        }
        ended_at = run.finished_at or run.started_at
        ledger = usage_updates(self.jobs, usage, run.template_id, run.schedule_id, ended_at)
        # Its end settled its budgets with no usage: what it used counts now.
        counters = [hold.counter for hold in run.budget_holds]
        ledger += settle_items(self.jobs, counters, usage, charged=0)
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(
                    TransactItems=[{"Update": update}, *ledger]  # type: ignore[typeddict-item,list-item]
                )
        except Exception as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def usage_sums(self, scope: str, since: datetime, until: datetime) -> dict[str, UsageTotals]:
        return usage_sums(self.dynamo, self.jobs, scope, since, until)

    def list_page(self, filters: RunFilter, limit: int, cursor: str | None) -> Page[JobRun]:
        query = filtered_query(
            self.lists,
            {
                "job_id": filters.job_id,
                "schedule_id": filters.schedule_id,
                "status": filters.status.value if filters.status else None,
                "template_id": filters.template_id,
            },
            since=sort_time(filters.since) if filters.since else None,
            until=sort_time(filters.until) if filters.until else None,
        )
        items, next_cursor, _ = read_page(self.dynamo, query, limit, cursor)
        return Page([decode(JobRun, item) for item in items], next_cursor)

    def count(self, status: RunStatus) -> int:
        return count(
            self.dynamo,
            TableName=self.table,
            IndexName=c.BY_STATUS_INDEX,
            KeyConditionExpression="#status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": status.value}},
        )
