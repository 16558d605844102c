"""Budget status on both stores: GET /templates/{id} and GET /schedules/{id} show each declared
budget in its current period (limits, what is committed, spent or not, when it turns); the lists
do not."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from tests.support.api import V2
from tests.support.dispatch import Clock, Edges

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The reads' now, the dispatcher's clock's too: the periods are the test's."""
    for module in ("api.routers.templates", "api.routers.schedules"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def dispatcher(stores: Stores) -> Dispatcher:
    wired = stores.with_edges(kicker=Edges(), tasks=Edges())
    return Dispatcher(wired, wired.dispatch, DispatchConfig(slots=2), clock=Clock(NOW.timestamp()))


def _run(dispatcher: Dispatcher, usage: Usage | None) -> None:
    """Claim the next job; end it with `usage`, or leave it running when None."""
    claim = dispatcher.claim()
    assert claim is not None
    if usage is not None:
        dispatcher.finish(claim, Outcome(exit_code=0, usage=usage), claim_next=False)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.usefixtures("frozen")
def test_a_templates_budgets_show_their_period_and_what_is_committed(
    client: TestClient, stores: Stores, dispatcher: Dispatcher
) -> None:
    budgets = [
        {"period": "day", "tokens": 1000},
        {"period": "month", "usd": 2.0, "timezone": "Europe/Paris", "on_exceed": "stop"},
    ]
    template = {"template_id": "capped", "name": "Capped", "workload": "echo", "budgets": budgets}
    _ok(client.post(f"{V2}/templates", json=template))
    enqueue(stores, JobCreate(template_id="capped"))
    enqueue(stores, JobCreate(template_id="capped"))
    _run(dispatcher, None)  # running: it holds one unit of each
    _run(dispatcher, Usage(calls=1, prompt_tokens=700, completion_tokens=500, cost_usd=0.5))

    shown = _ok(client.get(f"{V2}/templates/capped"))

    assert shown["budgets"] == [
        {"period": "day", "tokens": 1000, "usd": None, "timezone": None, "on_exceed": "hold_new"},
        {
            "period": "month",
            "tokens": None,
            "usd": 2.0,
            "timezone": "Europe/Paris",
            "on_exceed": "stop",
        },
    ]
    assert shown["budget_status"] == [
        {
            "period": "day",
            "period_key": "2027-01-15",
            "timezone": "UTC",
            "tokens_limit": 1000,
            "usd_limit": None,
            "on_exceed": "hold_new",
            "committed_tokens": 1201,
            "committed_usd": 0.500001,
            "spent": True,
            "resets_at": "2027-01-16T00:00:00.000000Z",
        },
        {
            "period": "month",
            "period_key": "2027-01",
            "timezone": "Europe/Paris",
            "tokens_limit": None,
            "usd_limit": 2.0,
            "on_exceed": "stop",
            "committed_tokens": 1201,
            "committed_usd": 0.500001,
            "spent": False,
            "resets_at": "2027-01-31T23:00:00.000000Z",  # midnight in Paris
        },
    ]
    [listed] = _ok(client.get(f"{V2}/templates"))["items"]
    assert "budget_status" not in listed


@pytest.mark.usefixtures("frozen")
def test_a_template_without_budgets_shows_none(client: TestClient, echo_template: str) -> None:
    assert _ok(client.get(f"{V2}/templates/{echo_template}"))["budget_status"] == []


@pytest.mark.usefixtures("frozen")
def test_a_schedules_budgets_are_counted_in_its_time_zone(
    client: TestClient, stores: Stores, echo_template: str, dispatcher: Dispatcher
) -> None:
    schedule = {
        "name": "capped",
        "template_id": echo_template,
        "expression": "rate(1 hour)",
        "timezone": "Pacific/Kiritimati",  # UTC+14: its day is not UTC's
        "budgets": [{"period": "day", "tokens": 100}],
    }
    schedule_id = _ok(client.post(f"{V2}/schedules", json=schedule))["schedule_id"]
    enqueue(stores, JobCreate(template_id=echo_template, schedule_id=schedule_id))
    _run(dispatcher, Usage(calls=1, prompt_tokens=40))

    shown = _ok(client.get(f"{V2}/schedules/{schedule_id}"))

    assert shown["budget_status"] == [
        {
            "period": "day",
            "period_key": "2027-01-15",
            "timezone": "Pacific/Kiritimati",
            "tokens_limit": 100,
            "usd_limit": None,
            "on_exceed": "hold_new",
            "committed_tokens": 40,
            "committed_usd": 0.0,
            "spent": False,
            "resets_at": "2027-01-15T10:00:00.000000Z",
        }
    ]
    [listed] = _ok(client.get(f"{V2}/schedules"))["items"]
    assert "budget_status" not in listed
    written = _ok(client.patch(f"{V2}/schedules/{schedule_id}", json={"name": "renamed"}))
    assert "budget_status" not in written  # a write answers with the schedule only


@pytest.mark.parametrize(
    ("budgets", "field"),
    [
        ([{"period": "day"}], "budgets.0"),
        ([{"period": "day", "tokens": "100"}], "budgets.0.tokens"),
        ([{"period": "week", "tokens": 1}], "budgets.0.period"),
        ([{"period": "day", "tokens": 1, "timezone": "Mars/Base"}], "budgets.0.timezone"),
        ([{"period": "day", "tokens": 1}, {"period": "day", "usd": 1}], "budgets.1.period"),
    ],
)
def test_bad_budgets_are_a_422_naming_the_field_and_write_nothing(
    client: TestClient, budgets: list[dict[str, Any]], field: str
) -> None:
    body = {"template_id": "bad", "name": "Bad", "workload": "echo", "budgets": budgets}
    refused = client.post(f"{V2}/templates", json=body)

    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["title"] == "Validation failed"
    assert field in [error["field"] for error in problem["errors"]]
    assert client.get(f"{V2}/templates/bad").status_code == 404
