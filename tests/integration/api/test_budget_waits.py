"""A queued job whose budget is spent says so (issue 17, point 2), on both stores: GET
/jobs/{id} answers `budget_wait` (which budgets, how far spent, when they turn) and an ETA no
earlier than the turn; raising the budget takes both away.

Monthly budgets: the runs are counted in the real clock's period, and a month's turn between
a test's spend and its read is far rarer than a day's."""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import Schedule, utcnow
from jobsched.models.budgets import Budget, BudgetPeriod
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from tests.support.api import V2, post_job, post_template
from tests.support.eta import MINUTE

MONTHLY = {"period": "month", "tokens": 1000}


def _spend(stores: Stores, tokens: int) -> None:
    """Claim the head of the queue and end its run having used `tokens`."""
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
    claim = dispatcher.claim()
    assert claim is not None
    usage = Usage(calls=1, prompt_tokens=tokens // 2, completion_tokens=tokens - tokens // 2)
    dispatcher.finish(claim, Outcome(exit_code=0, usage=usage), claim_next=False)


def _job(client: TestClient, job_id: str) -> dict[str, Any]:
    response = client.get(f"{V2}/jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_a_job_held_by_a_spent_budget_says_why_and_when(client: TestClient, stores: Stores) -> None:
    post_template(client, "capped", budgets=[MONTHLY])
    post_job(client, "capped")
    _spend(stores, 1500)
    waiting = post_job(client, "capped")["job_id"]

    job = _job(client, waiting)

    assert job["status"] == "queued"
    wait = job["budget_wait"]
    [budget] = wait["budgets"]
    assert budget["scope"] == "template"
    assert budget["scope_id"] == "capped"
    assert budget["period"] == "month"
    assert budget["tokens"] == 1000
    assert budget["used_tokens"] == 1500
    assert budget["usd"] is None
    assert wait["resumes_at"] == budget["resets_at"]
    assert _moment(wait["resumes_at"]) > utcnow()
    assert "monthly budget of template 'capped'" in wait["reason"]
    assert "1,500 of 1,000 tokens" in wait["reason"]
    eta = job["eta"]
    assert eta["state"] == "budget"
    assert eta["reason"] == wait["reason"]
    assert _moment(eta["start_p50"]) >= _moment(wait["resumes_at"])
    assert _moment(eta["finish_p90"]) >= _moment(eta["start_p50"])


def test_raising_the_budget_takes_the_wait_away(client: TestClient, stores: Stores) -> None:
    post_template(client, "capped", budgets=[MONTHLY])
    post_job(client, "capped")
    _spend(stores, 1000)
    waiting = post_job(client, "capped")["job_id"]
    assert _job(client, waiting)["budget_wait"] is not None

    raised = {"period": "month", "tokens": 5000}
    answer = client.patch(f"{V2}/templates/capped", json={"budgets": [raised]})
    assert answer.status_code == 200, answer.text

    job = _job(client, waiting)
    assert job["budget_wait"] is None
    assert job["eta"]["state"] == "estimated"
    assert job["eta"]["reason"] is None


def test_a_budget_not_spent_yet_holds_nothing(client: TestClient, stores: Stores) -> None:
    post_template(client, "capped", budgets=[{"period": "month", "usd": 5.0}])
    post_job(client, "capped")
    _spend(stores, 1000)  # tokens only: no US$ used
    waiting = post_job(client, "capped")["job_id"]

    job = _job(client, waiting)

    assert job["budget_wait"] is None
    assert job["eta"]["state"] == "estimated"


def test_a_schedules_spent_budget_holds_its_job_and_the_jobs_ahead(
    client: TestClient, stores: Stores, timed: str
) -> None:
    stores.schedules.create(
        Schedule(
            schedule_id="sch_capped",
            name="Capped",
            template_id=timed,
            expression="rate(1 hour)",
            timezone="Europe/Paris",
            budgets=[Budget(period=BudgetPeriod.MONTH, tokens=100)],
        )
    )
    enqueue(stores, JobCreate(template_id=timed, schedule_id="sch_capped"))
    _spend(stores, 100)
    ahead, _ = enqueue(stores, JobCreate(template_id=timed, schedule_id="sch_capped"))
    waiting, _ = enqueue(stores, JobCreate(template_id=timed, schedule_id="sch_capped"))

    job = _job(client, waiting.job_id)

    [budget] = job["budget_wait"]["budgets"]
    assert (budget["scope"], budget["scope_id"], budget["timezone"]) == (
        "schedule",
        "sch_capped",
        "Europe/Paris",
    )
    assert "schedule 'sch_capped'" in job["budget_wait"]["reason"]
    # The job ahead waits for the same turn and runs first (a minute, on the one slot).
    resumes_at = _moment(job["budget_wait"]["resumes_at"]).timestamp()
    assert _moment(job["eta"]["start_p50"]).timestamp() >= resumes_at + MINUTE / 2
    assert _job(client, ahead.job_id)["eta"]["state"] == "budget"

    answer = client.patch(f"{V2}/schedules/sch_capped", json={"budgets": []})
    assert answer.status_code == 200, answer.text
    assert _job(client, waiting.job_id)["budget_wait"] is None


def test_a_job_without_budgets_costs_no_budget_read(
    client: TestClient, stores: Stores, echo_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = post_job(client)["job_id"]

    def unread(counters: object) -> object:
        raise AssertionError("a job without budgets read the budget counters")

    monkeypatch.setattr(stores.dispatch, "budget_spend", unread)
    job = _job(client, queued)
    assert job["budget_wait"] is None
    assert job["eta"]["state"] == "estimated"


@pytest.mark.parametrize("prefix", ["/scheduler", ""])
def test_the_other_prefixes_eta_waits_for_the_budget_too(
    client: TestClient, stores: Stores, prefix: str
) -> None:
    post_template(client, "capped", budgets=[MONTHLY])
    post_job(client, "capped")
    _spend(stores, 1000)
    waiting = post_job(client, "capped")["job_id"]

    answer = client.get(f"{prefix}/jobs/{waiting}")

    assert answer.status_code == 200, answer.text
    assert answer.json()["eta"]["state"] == "budget"
