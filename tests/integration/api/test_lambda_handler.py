"""The Lambda entry point (api.handler, Mangum) driven with API Gateway HTTP API v2 events."""

import asyncio
import json
from typing import Any

import pytest

from jobsched.jobs.keys import mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.lambda_events import (
    Handler,
    http_api_event,
    lambda_context,
)
from tests.support.waiting import BOUND_SECONDS


@pytest.fixture
def token(stores: Stores) -> str:
    return mint_key(stores.keys, "lambda", [Scope.WRITE]).secret


def invoke(handler: Handler, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = handler(event, lambda_context())
    headers = {name.lower(): value for name, value in response["headers"].items()}
    raw = response["body"]
    # JSON and problem+json bodies go out as text, not base64.
    assert not response["isBase64Encoded"]
    body = json.loads(raw) if raw else None
    return response["statusCode"], headers, body


def test_health_through_api_gateway(handler: Handler) -> None:
    status, headers, body = invoke(handler, http_api_event("GET", "/health"))

    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body == {"status": "ok"}


def test_the_handler_answers_with_no_event_loop_set(handler: Handler) -> None:
    # asyncio.run leaves the thread with no loop set: Python 3.14's get_event_loop (the Lambda
    # runtime's) raises then, and so did Mangum's call before the handler set its own loop.
    asyncio.run(asyncio.sleep(0))
    asyncio.set_event_loop(None)

    status, _, body = invoke(handler, http_api_event("GET", "/health"))

    assert (status, body) == (200, {"status": "ok"})


def test_create_then_read_a_job_through_api_gateway(
    handler: Handler, token: str, stores: Stores, echo_template: str
) -> None:
    event = http_api_event(
        "POST",
        "/api/v2/jobs",
        token=token,
        body={"template_id": "echo", "params": {"count": 2}, "priority": "high"},
    )

    status, _, created = invoke(handler, event)

    assert status == 201, created
    assert created["status"] == "queued"
    assert created["priority"] == "high"
    assert created["params"] == {"message": "hi", "count": 2}
    assert stores.jobs.get(created["job_id"]).template_id == "echo"  # written to the tables

    status, _, fetched = invoke(
        handler, http_api_event("GET", f"/api/v2/jobs/{created['job_id']}", token=token)
    )

    assert status == 200
    assert fetched["job_id"] == created["job_id"]
    assert fetched["queue_position"] == 1
    assert fetched["template_name"] == "Echo"


def test_a_base64_body_and_a_query_string(handler: Handler, token: str, echo_template: str) -> None:
    for _ in range(2):
        event = http_api_event(
            "POST", "/scheduler/jobs", token=token, body={"template_id": "echo"}, base64_body=True
        )
        assert invoke(handler, event)[0] == 201

    status, _, page = invoke(
        handler, http_api_event("GET", "/api/v2/jobs", token=token, query="status=queued&limit=1")
    )

    assert status == 200
    assert len(page["items"]) == 1
    assert page["next_cursor"]


def test_errors_through_api_gateway(handler: Handler, token: str) -> None:
    status, headers, body = invoke(handler, http_api_event("GET", "/api/v2/jobs"))
    assert status == 401
    assert headers["www-authenticate"] == "Bearer"
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 401

    status, _, body = invoke(
        handler, http_api_event("POST", "/api/v2/jobs", token=token, body={"template_id": "nope"})
    )
    assert (status, body["status"]) == (404, 404)

    status, headers, _ = invoke(handler, http_api_event("GET", "/nowhere", token=token))
    assert status == 404
    assert headers["content-type"] == "application/problem+json"


def raw_event(raw: str, token: str | None = None) -> dict[str, Any]:
    event = http_api_event("POST", "/api/v2/jobs", token=token, body={})
    event["body"] = raw
    event["headers"]["content-length"] = str(len(raw.encode()))
    return event


def test_bad_bodies_through_api_gateway(handler: Handler, token: str, echo_template: str) -> None:
    """The guard (api/guard.py) behind Mangum: the key first, then the body."""
    status, _, body = invoke(handler, raw_event("{not json"))
    assert (status, body["title"]) == (401, "Unauthorized")

    status, _, body = invoke(handler, raw_event("{not json", token))
    assert (status, body["title"], body["errors"][0]["field"]) == (422, "Malformed body", "body")

    status, _, body = invoke(handler, raw_event('{"template_id":"echo","params":{"m":NaN}}', token))
    assert (status, body["errors"][0]["field"]) == (422, "params.m")

    big = json.dumps({"template_id": "echo", "params": {"m": "x" * 2_000_000}})
    status, _, body = invoke(handler, raw_event(big, token))
    assert (status, body["title"]) == (413, "Content too large")


def test_the_entry_module_leaves_heavy_modules_off_the_cold_start() -> None:
    """boto3, jsonschema, croniter, pydantic-settings, httpx, Powertools and the dashboard's
    Jinja2 load on first use,
    not when Lambda imports the handler (bench/import_time.py measures what is left)."""
    import subprocess
    import sys

    code = (
        "import sys, api.handler\n"
        "heavy = {'boto3', 'botocore', 'jsonschema', 'croniter', 'pydantic_settings', 'httpx',"
        " 'aws_lambda_powertools', 'jinja2'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=BOUND_SECONDS,
    )
    assert result.stdout.strip() == "[]"


# --- the direct APIs' wait counts from the request's arrival ----------------------------------


@pytest.fixture
def direct_waits(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The wait each direct call was given (no dispatcher runs here: each waits it out)."""
    import api.routers.direct
    from jobsched.jobs.direct import run_direct
    from jobsched.jobs.seed import seed_default_templates

    seed_default_templates(stores)
    waits: list[float] = []

    def spy(stores: Stores, template_id: str, params: Any, wait: float, **kw: Any) -> Any:
        waits.append(wait)
        return run_direct(stores, template_id, params, 0, **kw)  # answer now: the test is the wait

    monkeypatch.setattr(api.routers.direct, "run_direct", spy)
    return waits


def direct_event(token: str, wait: int, *, arrived_seconds_ago: float) -> dict[str, Any]:
    import time

    event = http_api_event("POST", "/story/generate", token=token, body={"max_stories": 1})
    event["headers"]["prefer"] = f"wait={wait}"
    event["requestContext"]["timeEpoch"] = int((time.time() - arrived_seconds_ago) * 1000)
    return event


def test_a_direct_wait_counts_from_the_gateway_arrival_less_a_margin(
    handler: Handler, token: str, direct_waits: list[float]
) -> None:
    """A cold start of 8 s leaves a `wait=20` call 20 - 8 - 1 (the margin to answer) = 11 s."""
    status, headers, body = invoke(handler, direct_event(token, 20, arrived_seconds_ago=8))

    assert status == 202, body
    assert headers["preference-applied"] == "wait=20"  # what was asked, as RFC 7240 says
    [wait] = direct_waits
    assert 5 < wait <= 11  # bounded above exactly; below, generously (a slow machine)


def test_a_spent_budget_answers_at_once(
    handler: Handler, token: str, direct_waits: list[float]
) -> None:
    status, headers, body = invoke(handler, direct_event(token, 28, arrived_seconds_ago=28.5))

    assert status == 202, body
    assert headers["location"] == f"/api/v2/reservations/{body['reservation_id']}"
    assert direct_waits == [0.0]  # API Gateway cuts at 30 s: answer where to poll, now


def test_a_direct_wait_ends_before_the_invocation_does(
    handler: Handler, token: str, direct_waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda's own remaining time bounds the wait too (its timeout is under the gateway's)."""
    context = lambda_context()
    context.get_remaining_time_in_millis = lambda: 4_000

    response = handler(direct_event(token, 25, arrived_seconds_ago=0), context)

    assert response["statusCode"] == 202
    [wait] = direct_waits
    assert wait <= 3.0  # 4 s left, less the 1 s margin
