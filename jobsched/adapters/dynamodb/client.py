"""The DynamoDB client, and the one place where AWS errors become domain errors."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jobsched.errors import UnavailableError
from jobsched.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


class Dynamo:
    """The boto3 client (made lazily: boto3 costs ~200 ms of cold start) and table names."""

    def __init__(self, settings: Settings, client: "DynamoDBClient | None" = None) -> None:
        self.settings = settings
        if client is not None:
            self.__dict__["client"] = client

    @cached_property
    def client(self) -> "DynamoDBClient":
        import boto3
        from botocore.config import Config

        return boto3.client(
            "dynamodb",
            region_name=self.settings.aws_region,
            endpoint_url=self.settings.client_endpoint_url,
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )

    def table(self, entity: str) -> str:
        return self.settings.table(entity)


def error_code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: Exception) -> list[str]:
    """The per-item reasons of a cancelled transaction, in the order of its items."""
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    reasons = response.get("CancellationReasons") or []
    return [str(reason.get("Code") or "None") for reason in reasons]


def is_condition_failure(exc: Exception) -> bool:
    code = error_code(exc)
    if code == "ConditionalCheckFailedException":
        return True
    return code == "TransactionCanceledException" and "ConditionalCheckFailed" in (
        cancellation_codes(exc)
    )


def update_if(dynamo: Dynamo, **request: Any) -> bool:
    """One conditional UpdateItem: False, and nothing written, when its condition fails."""
    try:
        with store_errors():
            dynamo.client.update_item(**request)
    except Exception as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


@contextmanager
def store_errors() -> Iterator[None]:
    """Translate the AWS errors a client cannot fix into UnavailableError (HTTP 503).

    Condition failures pass through untouched: each store method decides what they mean.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in THROTTLING_CODES or code == "TransactionConflictException":
            raise UnavailableError("the store is busy; retry shortly") from exc
        if code == "TransactionCanceledException" and "TransactionConflict" in cancellation_codes(
            exc
        ):
            raise UnavailableError("a concurrent change touched the same items; retry") from exc
        raise
    except BotoCoreError as exc:
        raise UnavailableError("the store cannot be reached") from exc
