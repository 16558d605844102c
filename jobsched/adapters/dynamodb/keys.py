"""API key records: a name, scopes and the SHA-256 of the secret, never the secret."""

from jobsched.adapters.dynamodb.client import Dynamo, is_condition_failure, store_errors
from jobsched.adapters.dynamodb.codec import decode, encode, serialize
from jobsched.errors import NotFoundError
from jobsched.models import ApiKey, utcnow


class DynamoKeyStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("keys")

    def put(self, key: ApiKey) -> None:
        with store_errors():
            self.dynamo.client.put_item(
                TableName=self.table,
                Item=encode(key),
                ConditionExpression="attribute_not_exists(key_id)",
            )

    def get(self, key_id: str) -> ApiKey | None:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key={"key_id": {"S": key_id}}, ConsistentRead=True
            )
        item = response.get("Item")
        return decode(ApiKey, item) if item else None

    def list_all(self) -> list[ApiKey]:
        keys: list[ApiKey] = []
        paginator = self.dynamo.client.get_paginator("scan")
        with store_errors():
            for page in paginator.paginate(TableName=self.table):
                keys.extend(decode(ApiKey, item) for item in page.get("Items", []))
        return sorted(keys, key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> ApiKey:
        try:
            with store_errors():
                response = self.dynamo.client.update_item(
                    TableName=self.table,
                    Key={"key_id": {"S": key_id}},
                    UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                    ConditionExpression="attribute_exists(key_id)",
                    ExpressionAttributeValues={":now": serialize(utcnow().isoformat())},
                    ReturnValues="ALL_NEW",
                )
        except Exception as exc:
            if is_condition_failure(exc):
                raise NotFoundError(f"no key {key_id!r}") from exc
            raise
        return decode(ApiKey, response["Attributes"])
