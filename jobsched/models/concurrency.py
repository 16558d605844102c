"""Concurrency keys: a template's limits on how many of its units run at once per key value,
and a job's keys as resolved when it was enqueued (jobsched/dispatch/concurrency.py).

Kept apart from the entities (which hold them) so that they import nothing of the package."""

import hashlib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

TEMPLATE_KEY = "template"
PARAMS_PREFIX = "params."
KEY_PATTERN = r"^(template|params\.[A-Za-z_][A-Za-z0-9_-]{0,63})$"
MAX_KEYS = 3  # each key is one more item in the claim's transaction (DynamoDB takes 100)
MAX_LIMIT = 1000
# A counter's id is part of a DynamoDB key (at most 1024 bytes as a sort key, 2048 as a
# partition key): a longer value is counted by its digest.
MAX_VALUE_CHARS = 200


class ConcurrencyLimit(BaseModel):
    """At most `limit` units whose `key` has the same value run at once, across all slots."""

    model_config = ConfigDict(extra="forbid", strict=True)

    key: str = Field(
        pattern=KEY_PATTERN,
        description="`template` (every job of this template) or `params.<name>` (jobs whose "
        "param <name> has the same value; a job without that param is not limited by it)",
    )
    limit: Annotated[int, Strict()] = Field(ge=1, le=MAX_LIMIT)


class KeyHold(BaseModel):
    """One resolved key of a job: its counter and the limit of the version it runs with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    value: str  # canonical text of the param's value (its digest when long)
    limit: int
    counter: str = Field(description="The counter's id: <template_id>:<key>=<value>")

    @classmethod
    def of(cls, template_id: str, key: str, value: str, limit: int) -> "KeyHold":
        """Limits are a template's, so its counters are too: two templates that limit
        `params.customer` count apart."""
        if len(value) > MAX_VALUE_CHARS:
            value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()
        return cls(key=key, value=value, limit=limit, counter=f"{template_id}:{key}={value}")
