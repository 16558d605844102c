"""Idempotency-Key records: which resource a key created, and for which request."""

from dataclasses import dataclass


@dataclass(frozen=True)
class IdempotencyClaim:
    """Written in the same transaction as the resource it names, so a key maps to exactly one
    resource. `request_hash` covers the operation and the body (jobs/idempotency.py)."""

    key: str
    request_hash: str
    resource_id: str  # a job, group, reservation or schedule id


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    request_hash: str
    resource_id: str
