"""The tables and their indexes, described once.

The local runtime and the tests create tables from these specs, and the CDK app builds its
tables from them too, so the three never disagree.
"""

from dataclasses import dataclass, field
from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.client import Dynamo, error_code


@dataclass(frozen=True)
class Index:
    name: str
    partition: str
    sort: str | None = None


@dataclass(frozen=True)
class TableSpec:
    entity: str  # settings.table(entity) gives the name
    partition: str
    sort: str | None = None
    global_indexes: tuple[Index, ...] = ()
    local_indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    string_attributes: tuple[str, ...] = field(default=())

    def attributes(self) -> list[str]:
        names = [self.partition, *([self.sort] if self.sort else [])]
        for index in (*self.global_indexes, *self.local_indexes):
            names += [index.partition, *([index.sort] if index.sort else [])]
        return list(dict.fromkeys(names))


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        entity="jobs",
        partition="pk",
        sort="sk",
        local_indexes=(Index(c.QUEUE_RANK_INDEX, "pk", "rank"),),
        global_indexes=(
            Index(c.BY_STATUS_INDEX, "status", "created_key"),
            Index(c.BY_TEMPLATE_INDEX, "template_id", "created_key"),
            Index(c.BY_SCHEDULE_INDEX, "schedule_id", "created_key"),
            Index(c.BY_GROUP_INDEX, "group_id", "created_key"),
            Index(c.BY_KIND_INDEX, "kind", "created_key"),
        ),
        ttl_attribute="expires_at",
    ),
    TableSpec(
        entity="runs",
        partition="run_id",
        global_indexes=(
            Index(c.BY_JOB_INDEX, "job_id", "started_key"),
            Index(c.BY_STATUS_INDEX, "status", "started_key"),
            Index(c.BY_TEMPLATE_INDEX, "template_id", "started_key"),
            Index(c.BY_SCHEDULE_INDEX, "schedule_id", "started_key"),
            Index(c.BY_KIND_INDEX, "kind", "started_key"),
        ),
        ttl_attribute="expires_at",
    ),
    TableSpec(
        entity="groups",
        partition="group_id",
        global_indexes=(Index(c.BY_KIND_INDEX, "kind", "created_key"),),
    ),
    TableSpec(
        entity="templates",
        partition="template_id",
        global_indexes=(Index(c.BY_KIND_INDEX, "kind", "template_id"),),
    ),
    TableSpec(
        entity="schedules",
        partition="schedule_id",
        global_indexes=(
            Index(c.BY_KIND_INDEX, "kind", "created_key"),
            Index(c.BY_TEMPLATE_INDEX, "template_id", "created_key"),
        ),
    ),
    TableSpec(entity="lock", partition="pk", sort="sk", ttl_attribute="expires_at"),
    TableSpec(entity="keys", partition="key_id"),
    TableSpec(
        entity="content",  # stories and research cards (jobsched/content)
        partition="content_id",
        global_indexes=(
            Index(c.BY_KIND_INDEX, "kind", "created_key"),
            Index(c.BY_SOURCE_INDEX, "source_id", "created_key"),
        ),
    ),
)


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition, "KeyType": "HASH"}]
    if sort:
        schema.append({"AttributeName": sort, "KeyType": "RANGE"})
    return schema


def create_table_request(spec: TableSpec, name: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _key_schema(spec.partition, spec.sort),
        "AttributeDefinitions": [
            {"AttributeName": attr, "AttributeType": "S"} for attr in spec.attributes()
        ],
    }
    projection = {"ProjectionType": "ALL"}
    if spec.global_indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition, index.sort),
                "Projection": projection,
            }
            for index in spec.global_indexes
        ]
    if spec.local_indexes:
        request["LocalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition, index.sort),
                "Projection": projection,
            }
            for index in spec.local_indexes
        ]
    return request


def create_tables(dynamo: Dynamo) -> list[str]:
    """Create every missing table (idempotent); returns the names created."""
    created = []
    for spec in TABLES:
        name = dynamo.table(spec.entity)
        try:
            dynamo.client.create_table(**create_table_request(spec, name))
        except Exception as exc:
            if error_code(exc) == "ResourceInUseException":
                continue
            raise
        created.append(name)
        if spec.ttl_attribute:
            dynamo.client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
    return created
