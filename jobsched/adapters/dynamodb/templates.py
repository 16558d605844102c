"""JobTemplate storage, with a short in-process cache for the hot path (enqueue).

The cache is safe: every job write carries a condition on the template's version and archived
flag, so a stale entry makes the write fail and the caller read the template again.

Every version is also kept, immutable, as an item of the same table (the table has no sort
key, and a key cannot be added to a table): `template_id` = `<id>#<version, 10 digits>`, which
no template id can be (ids are slugs), and `kind` = `VERSION#<id>`, so the by-kind index lists
one template's versions in order and the templates list never sees them. It is written in the
same transaction as the template, and the same grants (GetItem, PutItem) reach it.
"""

from typing import Any

from jobsched.adapters.cursors import foreign_cursor
from jobsched.adapters.dynamodb.client import Dynamo, is_condition_failure, store_errors
from jobsched.adapters.dynamodb.codec import decode, encode, serialize
from jobsched.adapters.dynamodb.pagination import Query, decode_cursor, read_page
from jobsched.adapters.item_size import refuse_oversized
from jobsched.adapters.template_cache import TemplateCache, VersionCache, unversioned
from jobsched.constants import BY_KIND_INDEX
from jobsched.errors import ConflictError, NotFoundError
from jobsched.models import JobTemplate, utcnow
from jobsched.ports import Page

KIND = "TEMPLATE"
VERSION_KIND = "VERSION#"  # + the template id


def version_key(template_id: str, version: int) -> str:
    return f"{template_id}#{version:010d}"


class DynamoTemplateStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("templates")
        self._cache = TemplateCache()
        self._versions = VersionCache()

    def _item(self, template: JobTemplate) -> dict[str, Any]:
        refuse_oversized(template, f"template {template.template_id!r}", kind=KIND)
        return encode(template, kind=KIND)

    def _version_put(self, template: JobTemplate) -> dict[str, Any]:
        """A transaction item: this version's snapshot. It needs no condition of its own: the
        template's put beside it allows one writer per version. (A template deleted by hand
        leaves its snapshots; one made again under its id writes over them.)"""
        item = encode(
            template,
            kind=VERSION_KIND + template.template_id,
            template_id=version_key(template.template_id, template.version),
            of_template=template.template_id,
        )
        return {"Put": {"TableName": self.table, "Item": item}}

    def create(self, template: JobTemplate) -> None:
        current = {
            "Put": {
                "TableName": self.table,
                "Item": self._item(template),
                "ConditionExpression": "attribute_not_exists(template_id)",
            }
        }
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(
                    TransactItems=[current, self._version_put(template)]  # type: ignore[list-item]
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
        current = {
            "Put": {
                "TableName": self.table,
                "Item": self._item(template),
                "ConditionExpression": "version = :expected AND archived = :false",
                "ExpressionAttributeValues": {
                    ":expected": {"N": str(expected_version)},
                    ":false": {"BOOL": False},
                },
            }
        }
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(
                    TransactItems=[current, self._version_put(template)]  # type: ignore[list-item]
                )
        except Exception as exc:
            if is_condition_failure(exc):
                raise ConflictError(
                    f"template {template.template_id!r} changed or was archived meanwhile; "
                    "read it again"
                ) from exc
            raise

    def archive(self, template_id: str) -> JobTemplate:
        return self._set_archived(template_id, archived=True)

    def restore(self, template_id: str) -> JobTemplate:
        return self._set_archived(template_id, archived=False)

    def _set_archived(self, template_id: str, archived: bool) -> JobTemplate:
        """Archive (again, harmlessly) or restore (only what is archived). The version stays:
        what jobs run with has not changed."""
        self.forget(template_id)
        condition = "attribute_exists(template_id)"
        values = {":flag": {"BOOL": archived}, ":now": serialize(utcnow().isoformat())}
        if not archived:
            condition += " AND archived = :true"
            values[":true"] = {"BOOL": True}
        try:
            with store_errors():
                response = self.dynamo.client.update_item(
                    TableName=self.table,
                    Key={"template_id": {"S": template_id}},
                    UpdateExpression="SET archived = :flag, updated_at = :now",
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
        except Exception as exc:
            if is_condition_failure(exc):
                self.get(template_id)  # NotFoundError if it is not there at all
                raise ConflictError(f"template {template_id!r} is not archived") from exc
            raise
        return decode(JobTemplate, response["Attributes"])

    def get_version(self, template_id: str, version: int) -> JobTemplate:
        kept = self._versions.get(template_id, version)
        if kept is not None:
            return kept
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table,
                Key={"template_id": {"S": version_key(template_id, version)}},
            )
        if "Item" in response:
            snapshot = self._decode_version(response["Item"])
            self._versions.keep(snapshot)
            return snapshot
        return unversioned(self.get(template_id), version)  # NotFoundError for an unknown one

    def list_versions(self, template_id: str, limit: int, cursor: str | None) -> Page[JobTemplate]:
        """Newest first."""
        kind = VERSION_KIND + template_id
        start = decode_cursor(cursor).key
        if start is not None and start.get("kind") != {"S": kind}:
            raise foreign_cursor()
        query = Query(
            table=self.table,
            index=BY_KIND_INDEX,
            key_condition="kind = :kind",
            values={":kind": {"S": kind}},
            key_attributes=("template_id", "kind"),
            forward=False,
        )
        items, next_cursor, _ = read_page(self.dynamo, query, limit, cursor)
        if not items and cursor is None:
            current = self.get(template_id)  # NotFoundError for an unknown template
            return Page([current])  # saved before versions were kept: its one known version
        return Page([self._decode_version(item) for item in items], next_cursor)

    def _decode_version(self, item: dict[str, Any]) -> JobTemplate:
        return decode(JobTemplate, {**item, "template_id": item["of_template"]})

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
