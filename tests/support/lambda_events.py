"""API Gateway HTTP API (payload 2.0) events and a Lambda context, for driving the Lambda
handler (api.handler, Mangum) as the service does."""

import base64
import importlib
import json
import os
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import pytest

from jobsched.adapters.dynamodb import Dynamo

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"


def http_api_event(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    query: str = "",
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the service sends it."""
    headers = {
        "accept": "application/json",
        "content-length": "0",
        "host": HOST,
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-65a8f000-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if token:
        headers["authorization"] = f"Bearer {token}"
    raw_body: str | None = None
    if body is not None:
        encoded = json.dumps(body).encode()
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(encoded))
        raw_body = base64.b64encode(encoded).decode() if base64_body else encoded.decode()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": HOST,
            "domainPrefix": "a1b2c3d4e5",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "time": "18/Jan/2026:10:00:00 +0000",
            "timeEpoch": 1768730400000,
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(parse_qsl(query))
    if raw_body is not None:
        event["body"] = raw_body
    return event


def lambda_context() -> Any:
    return SimpleNamespace(
        function_name="jobsched-api",
        function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:jobsched-api",
        memory_limit_in_mb=512,
        aws_request_id="3f1c0c9e-0000-4000-8000-000000000000",
        log_group_name="/aws/lambda/jobsched-api",
        log_stream_name="2026/01/18/[$LATEST]0123456789abcdef",
        get_remaining_time_in_millis=lambda: 29_000,
    )


def reset_caches() -> None:
    import api.app
    from jobsched.settings import get_settings

    get_settings.cache_clear()
    api.app._default_stores.cache_clear()


@pytest.fixture
def handler(dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> Iterator[Handler]:
    """api.handler.handler over the fixtures' tables (moto is active under `dynamo`)."""
    for name in list(os.environ):
        if name.startswith("JOBSCHED_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JOBSCHED_TABLE_PREFIX", "test")  # as the fixtures' Settings
    reset_caches()
    module = importlib.import_module("api.handler")
    yield module.handler
    reset_caches()  # the stores built here belong to this test's moto
