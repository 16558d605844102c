"""Entities to DynamoDB items and back.

User JSON (params, defaults, schemas, results) is stored as a JSON string: it may hold floats,
nulls and empty keys that DynamoDB's native types handle badly, and its size is checked as JSON.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from jobsched.adapters.item_size import JSON_TEXT_FIELDS

JSON_FIELDS = JSON_TEXT_FIELDS
M = TypeVar("M", bound=BaseModel)


def sort_time(moment: datetime) -> str:
    """A fixed-width UTC timestamp, so sort keys order like the times they hold."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(value: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    result = TypeSerializer().serialize(_to_dynamo(value))
    return dict(result)


def serialize_map(data: dict[str, Any]) -> dict[str, Any]:
    return {key: serialize(value) for key, value in data.items() if value is not None}


def deserialize_map(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: _from_dynamo(deserializer.deserialize(value)) for key, value in item.items()}


def encode(model: BaseModel, **extra: Any) -> dict[str, Any]:
    """An item holding the model's fields plus `extra` (keys and index attributes)."""
    data = model.model_dump(mode="json", exclude_none=True)
    for name in JSON_FIELDS & data.keys():
        data[name] = json.dumps(data[name], separators=(",", ":"))
    data.update(extra)
    return serialize_map(data)


def decode(model: type[M], item: dict[str, Any]) -> M:
    data = deserialize_map(item)
    fields = {name: value for name, value in data.items() if name in model.model_fields}
    for name in JSON_FIELDS & fields.keys():
        if fields[name] is not None:  # a NULL written by a SET of an absent value
            fields[name] = json.loads(fields[name])
    return model.model_validate(fields)
