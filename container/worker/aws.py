"""boto3 clients for the worker, made only when a unit needs AWS.

boto3 costs about 200 ms to import, so a local run without a bucket or templates never pays it.
The endpoint comes from `AWS_ENDPOINT_URL`, which boto3 reads itself (moto, LocalStack, AWS).
"""

import threading
from collections.abc import Callable
from typing import Any, Protocol


class TransactWriter(Protocol):
    """The one DynamoDB call the worker makes (low-level client form)."""

    def transact_write_items(self, *, TransactItems: list[dict[str, Any]]) -> Any: ...  # noqa: N803


class Uploader(Protocol):
    """The one S3 call the worker makes (boto3's managed, multipart-capable upload)."""

    def upload_file(
        self,
        Filename: str,  # noqa: N803 (boto3's parameter names)
        Bucket: str,  # noqa: N803
        Key: str,  # noqa: N803
        ExtraArgs: dict[str, Any] | None = None,  # noqa: N803
    ) -> None: ...


class SecretReader(Protocol):
    """The one Secrets Manager call the worker makes: the model provider's keys."""

    def get_secret_value(self, *, SecretId: str) -> Any: ...  # noqa: N803


class Clients:
    """One client per service, made at first use and shared by the worker's threads."""

    def __init__(self, region: str) -> None:
        self._region = region
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()  # making a boto3 client is not thread-safe

    def dynamodb(self) -> TransactWriter:
        client: TransactWriter = self._get("dynamodb")
        return client

    def s3(self) -> Uploader:
        client: Uploader = self._get("s3")
        return client

    def secretsmanager(self) -> SecretReader:
        client: SecretReader = self._get("secretsmanager")
        return client

    def _get(self, service: str) -> Any:
        with self._lock:
            if service not in self._made:
                self._made[service] = _make(service, self._region)
            return self._made[service]


def _make(service: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts and few retries: a heartbeat that hangs would outlive its own period, and
    # the next period retries anyway.
    config = Config(
        connect_timeout=5,
        read_timeout=15,
        retries={"mode": "standard", "max_attempts": 3},
    )
    # Our own session: boto3's default one is shared state that threads must not build at once.
    session = boto3.session.Session(region_name=region)
    # Typed loosely on purpose: the stubs' per-service overloads want a literal service name.
    make: Callable[..., Any] = session.client
    return make(service, config=config)
