"""Idempotency-Key on every create: one key, one resource, one request.

A create records its key in the same transaction as the resource it makes, naming that
resource, so a 2xx means exactly one exists. The record holds a hash of the operation and the
request: the same key sent again with the same request finds what the first made (a replay);
with another request, or to another operation, it is a conflict. Records live for a day
(IDEMPOTENCY_TTL_SECONDS), whatever they name.
"""

import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from jobsched.errors import ConflictError
from jobsched.ports import Stores


class Operation(StrEnum):
    """What a key was sent to: the method and route, without the mount prefix (/api/v2,
    /scheduler, /api/v1 are one API). Where two routes share one, the request's template
    tells them apart."""

    CREATE_JOB = "POST /jobs"
    CREATE_GROUP = "POST /groups"
    CREATE_SCHEDULE = "POST /schedules"
    TRIGGER_SCHEDULE = "POST /schedules/{schedule_id}/trigger"
    RERUN_JOB = "POST /jobs/{job_id}/rerun"
    LEGACY_TRIGGER = "POST /jobs/{story,research}/trigger"
    LEGACY_BATCH = "POST /jobs/batch/trigger"
    DIRECT_CALL = "POST /story/generate, /research/run"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def request_hash(operation: Operation, request: BaseModel | dict[str, Any]) -> str:
    body = request.model_dump(mode="json") if isinstance(request, BaseModel) else request
    return hashlib.sha256(_canonical({"operation": operation.value, "request": body})).hexdigest()


def _body_hash(request: BaseModel) -> str:
    """What POST /jobs recorded before the hash named the operation (kept for a day's records)."""
    return hashlib.sha256(_canonical(request.model_dump(mode="json"))).hexdigest()


def earlier(stores: Stores, key: str, digest: str, request: BaseModel | None = None) -> str | None:
    """The id of what an earlier request with `key` created, or None when the key has no live
    record. A record of another request (or operation) is a conflict. `request`: a POST /jobs
    body, whose older records hold a hash of the body alone."""
    record = stores.jobs.find_idempotency(key)
    if record is None:
        return None
    if record.request_hash != digest and (
        request is None or record.request_hash != _body_hash(request)
    ):
        raise ConflictError(
            "this Idempotency-Key was used with a different request or endpoint; use a new key"
        )
    return record.resource_id
