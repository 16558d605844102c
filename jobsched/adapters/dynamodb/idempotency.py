"""Idempotency-Key records in the jobs table (`IDEMPOTENCY#<key>` / `IDEMPOTENCY`): the one
item shape every create's transaction writes, whatever the resource it names."""

import time
from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.codec import deserialize_map
from jobsched.models.idempotency import IdempotencyClaim, IdempotencyRecord


def idempotency_key(key: str) -> dict[str, Any]:
    return {"pk": {"S": c.IDEMPOTENCY_PK_PREFIX + key}, "sk": {"S": c.IDEMPOTENCY_SK}}


def claim_put(table: str, claim: IdempotencyClaim) -> dict[str, Any]:
    """The transaction item that records `claim`. It fails its condition while the key has a
    live record; an expired one that TTL has not deleted yet counts as none (as in SQLite)."""
    now = int(time.time())
    return {
        "Put": {
            "TableName": table,
            "Item": {
                **idempotency_key(claim.key),
                "resource_id": {"S": claim.resource_id},
                "request_hash": {"S": claim.request_hash},
                "expires_at": {"N": str(now + c.IDEMPOTENCY_TTL_SECONDS)},
            },
            "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }
    }


def release_delete(table: str, key: str) -> dict[str, Any]:
    return {"Delete": {"TableName": table, "Key": idempotency_key(key)}}


def record_of(key: str, item: dict[str, Any] | None) -> IdempotencyRecord | None:
    """The live record in `item`. Records written before they named any resource hold a
    `job_id` (only jobs took a key then)."""
    if not item:
        return None
    data = deserialize_map(item)
    if int(data.get("expires_at", 0)) <= time.time():
        return None
    resource_id = data.get("resource_id", data.get("job_id"))
    return IdempotencyRecord(key, str(data["request_hash"]), str(resource_id))
