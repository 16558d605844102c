"""Usage over the API (issue 17, point 1), on both stores: each run's usage in GET /runs/{id},
the sums in GET /usage (by template, by schedule, over a range) and in /queue/stats."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.models import utcnow
from jobsched.models.units import Outcome
from jobsched.models.usage import ModelUsage, Usage
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem, post_job

USAGE = Usage(
    calls=2,
    prompt_tokens=300,
    completion_tokens=200,
    cost_usd=0.0015,
    unpriced_calls=1,
    by_model=[
        ModelUsage(model="a-model", calls=1, prompt_tokens=100, completion_tokens=50),
        ModelUsage(
            model="gpt-4o-mini",
            calls=1,
            prompt_tokens=200,
            completion_tokens=150,
            cost_usd=0.0015,
            unpriced_calls=0,
        ),
    ],
)


def run_next(stores: Stores, usage: Usage | None, schedule_id: str | None = None) -> str:
    """Claim the head of the queue and end its run with `usage`; the run's id."""
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.run is not None
    if schedule_id:  # charged as a schedule's fire would be
        run = claim.run.model_copy(update={"schedule_id": schedule_id})
        claim = claim.model_copy(update={"run": run})
    dispatcher.finish(claim, Outcome(exit_code=0, usage=usage), claim_next=False)
    return claim.unit_id


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"{V2}{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_run_shows_its_usage(client: TestClient, stores: Stores, echo_template: str) -> None:
    post_job(client)
    run_id = run_next(stores, USAGE)

    usage = get(client, f"/runs/{run_id}")["usage"]

    assert usage["calls"] == 2
    assert usage["prompt_tokens"] == 300
    assert usage["completion_tokens"] == 200
    assert usage["total_tokens"] == 500
    assert usage["cost_usd"] == pytest.approx(0.0015)
    assert usage["unpriced_calls"] == 1
    assert [m["model"] for m in usage["by_model"]] == ["a-model", "gpt-4o-mini"]
    assert usage["by_model"][1]["total_tokens"] == 350
    job_runs = get(client, f"/jobs/{get(client, f'/runs/{run_id}')['job_id']}/runs")["items"]
    assert job_runs[0]["usage"]["total_tokens"] == 500


def test_a_run_without_a_report_has_no_usage(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    post_job(client)
    run_id = run_next(stores, None)

    assert get(client, f"/runs/{run_id}")["usage"] is None
    assert get(client, "/usage")["groups"] == []


def test_usage_adds_up_by_template_and_by_schedule(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    for schedule_id in (None, "sch_nightly", "sch_nightly"):
        post_job(client)
        run_next(stores, USAGE, schedule_id)

    by_template = get(client, "/usage", by="template")
    [group] = by_template["groups"]
    assert group["id"] == echo_template
    assert group["runs"] == 3
    assert group["total_tokens"] == 1500
    assert group["cost_usd"] == pytest.approx(0.0045)
    assert by_template["total"]["runs"] == 3

    by_schedule = get(client, "/usage", by="schedule")
    assert [(g["id"], g["runs"]) for g in by_schedule["groups"]] == [("sch_nightly", 2)]
    assert by_schedule["total"]["prompt_tokens"] == 600

    stats = get(client, "/queue/stats")
    assert stats["usage_last_24h"]["runs"] == 3
    assert stats["usage_last_24h"]["completion_tokens"] == 600


def test_a_range_is_whole_utc_hours_and_excludes_other_hours(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    post_job(client)
    run_next(stores, USAGE)
    now = utcnow()

    earlier = get(
        client,
        "/usage",
        since=(now - timedelta(days=3)).isoformat(),
        until=(now - timedelta(days=2)).isoformat(),
    )
    assert earlier["groups"] == []
    assert earlier["total"]["runs"] == 0

    this_hour = get(client, "/usage", since=now.isoformat(), until=now.isoformat())
    assert this_hour["total"]["runs"] == 1
    since = datetime.fromisoformat(this_hour["since"])
    until = datetime.fromisoformat(this_hour["until"])
    assert (since.minute, since.second, since.microsecond) == (0, 0, 0)
    assert since <= now < until == since + timedelta(hours=1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "team"}, "query.by"),
        ({"since": "yesterday"}, "query.since"),
        ({"since": "2026-01-01T00:00:00"}, "since"),  # no zone
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"since": "2024-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
    ],
)
def test_a_bad_range_is_a_422(
    client: TestClient, echo_template: str, params: dict[str, str], field: str
) -> None:
    assert_problem(client.get(f"{V2}/usage", params=params), 422, field)
