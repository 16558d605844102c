"""How the AWS adapters make their boto3 clients, and the one place their AWS errors become
domain errors.

Clients are made on first use: boto3 costs about 200 ms of cold start, and most invocations of
a Lambda that holds these adapters never call the service (the dispatch steps rarely stop a
task). Every client honours `AWS_ENDPOINT_URL`, and `AWS_ENDPOINT_URL_<SERVICE>` over it
(`Settings.client_endpoint_url`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jobsched.errors import UnavailableError
from jobsched.settings import Settings

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "ServerException",
    }
)


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of `boto3.client` for one of our services."""
    from botocore.config import Config

    return {
        "region_name": settings.aws_region,
        "endpoint_url": settings.client_endpoint_url,
        "config": Config(retries={"mode": "standard", "max_attempts": 5}),
    }


def error_code(exc: Exception) -> str:
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_errors(service: str) -> Iterator[None]:
    """Throttling and unreachable endpoints become UnavailableError (HTTP 503, retry later);
    every other error passes through for the caller to judge."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        if error_code(exc) in THROTTLING_CODES:
            raise UnavailableError(f"{service} is busy; retry shortly") from exc
        raise
    except BotoCoreError as exc:
        raise UnavailableError(f"{service} cannot be reached") from exc
