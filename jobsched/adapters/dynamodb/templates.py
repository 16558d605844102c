"""JobTemplate storage, with a short in-process cache for the hot path (enqueue).

The cache is safe: every job write carries a condition on the template's version and archived
flag, so a stale entry makes the write fail and the caller read the template again.
"""

from typing import Any

from jobsched.adapters.dynamodb.client import Dynamo, is_condition_failure, store_errors
from jobsched.adapters.dynamodb.codec import decode, encode, serialize
from jobsched.adapters.dynamodb.pagination import Query, read_page
from jobsched.adapters.item_size import refuse_oversized
from jobsched.adapters.template_cache import TemplateCache
from jobsched.constants import BY_KIND_INDEX
from jobsched.errors import ConflictError, NotFoundError
from jobsched.models import JobTemplate, utcnow
from jobsched.ports import Page

KIND = "TEMPLATE"


class DynamoTemplateStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("templates")
        self._cache = TemplateCache()

    def _item(self, template: JobTemplate) -> dict[str, Any]:
        refuse_oversized(template, f"template {template.template_id!r}", kind=KIND)
        return encode(template, kind=KIND)

    def create(self, template: JobTemplate) -> None:
        try:
            with store_errors():
                self.dynamo.client.put_item(
                    TableName=self.table,
                    Item=self._item(template),
                    ConditionExpression="attribute_not_exists(template_id)",
                )
        except Exception as exc:
            if is_condition_failure(exc):
                raise ConflictError(f"template {template.template_id!r} already exists") from exc
            raise

    def get(self, template_id: str) -> JobTemplate:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key={"template_id": {"S": template_id}}, ConsistentRead=True
            )
        if "Item" not in response:
            raise NotFoundError(f"no template {template_id!r}")
        template = decode(JobTemplate, response["Item"])
        self._cache.keep(template)
        return template

    def get_cached(self, template_id: str) -> JobTemplate:
        return self._cache.fresh(template_id) or self.get(template_id)

    def forget(self, template_id: str) -> None:
        self._cache.forget(template_id)

    def list_page(self, limit: int, cursor: str | None) -> Page[JobTemplate]:
        query = Query(
            table=self.table,
            index=BY_KIND_INDEX,
            key_condition="kind = :kind",
            values={":kind": {"S": KIND}},
            key_attributes=("template_id", "kind"),
        )
        items, next_cursor, _ = read_page(self.dynamo, query, limit, cursor)
        return Page([decode(JobTemplate, item) for item in items], next_cursor)

    def replace(self, template: JobTemplate, expected_version: int) -> None:
        """Write a new version, only over the version the caller read and never when archived."""
        self.forget(template.template_id)
        try:
            with store_errors():
                self.dynamo.client.put_item(
                    TableName=self.table,
                    Item=self._item(template),
                    ConditionExpression="version = :expected AND archived = :false",
                    ExpressionAttributeValues={
                        ":expected": {"N": str(expected_version)},
                        ":false": {"BOOL": False},
                    },
                )
        except Exception as exc:
            if is_condition_failure(exc):
                raise ConflictError(
                    f"template {template.template_id!r} changed or was archived meanwhile; "
                    "read it again"
                ) from exc
            raise

    def archive(self, template_id: str) -> JobTemplate:
        self.forget(template_id)
        try:
            with store_errors():
                response = self.dynamo.client.update_item(
                    TableName=self.table,
                    Key={"template_id": {"S": template_id}},
                    UpdateExpression="SET archived = :true, updated_at = :now",
                    ConditionExpression="attribute_exists(template_id)",
                    ExpressionAttributeValues={
                        ":true": {"BOOL": True},
                        ":now": serialize(utcnow().isoformat()),
                    },
                    ReturnValues="ALL_NEW",
                )
        except Exception as exc:
            if is_condition_failure(exc):
                raise NotFoundError(f"no template {template_id!r}") from exc
            raise
        return decode(JobTemplate, response["Attributes"])

    def unchanged_check(self, template_id: str, version: int) -> dict[str, Any]:
        """A transaction item: the template is still the version read, and takes new jobs."""
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": {"template_id": {"S": template_id}},
                "ConditionExpression": "archived = :false AND version = :version",
                "ExpressionAttributeValues": {
                    ":false": {"BOOL": False},
                    ":version": {"N": str(version)},
                },
            }
        }
