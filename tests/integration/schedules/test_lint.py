"""POST /schedules/lint through the API: checked as a create is, warnings from the template's
run history (the durations the ETA keeps) and the other schedules, the catch-up bound, and
nothing written."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from jobsched.foresight.durations import CACHE_SECONDS, duration_stats
from jobsched.models import JobRun, RunStatus
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem

BODY = {"name": "often", "template_id": "echo", "expression": "rate(10 minutes)"}


def lint(client: TestClient, prefix: str = V2, **changes: object) -> dict[str, object]:
    response = client.post(f"{prefix}/schedules/lint", json={**BODY, **changes})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def completed_runs(stores: Stores, minutes: list[int], template_id: str = "echo") -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n, length in enumerate(minutes):
        stores.runs.put(
            JobRun(
                run_id=f"run_{template_id}_{n}",
                job_id=f"job_{template_id}_{n}",
                template_id=template_id,
                status=RunStatus.COMPLETED,
                started_at=start + timedelta(hours=n),
                finished_at=start + timedelta(hours=n, minutes=length),
                exit_code=0,
            )
        )


def test_fires_closer_than_the_templates_p90_run_are_an_overlap_warning(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    completed_runs(stores, [5, 6, 7, 8, 30])
    report = lint(client, prefix="/scheduler")

    codes = [w["code"] for w in report["warnings"]]
    assert codes == ["busy", "overlap"]
    assert report["fires_per_day"] == 144


def test_without_the_templates_own_history_no_overlap_is_said(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    completed_runs(stores, [30, 30, 30], "other")  # the ETA's pooled guess: no evidence

    assert [w["code"] for w in lint(client)["warnings"]] == ["busy"]  # 144 a day


def test_the_p90_is_the_etas_kept_durations_read_once_a_minute(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    clock = [0.0]
    duration_stats(stores).clock = lambda: clock[0]
    assert [w["code"] for w in lint(client)["warnings"]] == ["busy"]  # no history yet

    completed_runs(stores, [30, 30, 30])
    kept = lint(client)
    clock[0] += CACHE_SECONDS
    fresh = lint(client)

    assert [w["code"] for w in kept["warnings"]] == ["busy"]  # as the ETA: a minute old at most
    assert [w["code"] for w in fresh["warnings"]] == ["busy", "overlap"]


def test_catch_up_warnings_and_the_bound_they_count_against(
    client: TestClient, echo_template: str
) -> None:
    every_ten = lint(client, catch_up="all")
    daily = lint(client, expression="cron(0 9 * * ? *)", catch_up="none")
    client.app.state.catch_up_max_fires = 144  # type: ignore[attr-defined]
    within = lint(client, catch_up="all")

    assert [w["code"] for w in every_ten["warnings"]] == ["busy", "catch_up_bound"]
    assert "134 are recorded skipped" in every_ten["warnings"][1]["message"]
    assert [w["code"] for w in daily["warnings"]] == ["missed_fire_lost"]
    assert [w["code"] for w in within["warnings"]] == ["busy"]


def test_the_same_minute_as_a_stored_schedule_and_nothing_written(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    created = client.post(
        f"{V2}/schedules", json={**BODY, "name": "daily", "expression": "cron(0 9 * * ? *)"}
    )
    assert created.status_code == 201, created.text
    before = client.get(f"{V2}/schedules").json()["items"]

    report = lint(client, name="also daily", expression="cron(0 9 ? * MON-FRI *)")

    assert [w["code"] for w in report["warnings"]] == ["same_minute"]
    assert client.get(f"{V2}/schedules").json()["items"] == before


def test_what_a_create_refuses_lint_answers_as_warnings_or_the_same_422(
    client: TestClient, echo_template: str
) -> None:
    past = lint(client, expression="at(2020-01-01T00:00:00)")
    assert [w["code"] for w in past["warnings"]] == ["in_the_past"]
    assert past["next_fire"] is None

    assert_problem(
        client.post(f"{V2}/schedules/lint", json={**BODY, "expression": "x"}), 422, "expression"
    )
    assert_problem(
        client.post(f"{V2}/schedules/lint", json={**BODY, "timezone": "Mars/Base"}), 422, "timezone"
    )
    assert_problem(client.post(f"{V2}/schedules/lint", json={**BODY, "template_id": "nope"}), 404)


def test_a_read_key_may_lint(reader: TestClient, echo_template: str) -> None:
    assert reader.post(f"{V2}/schedules/lint", json=BODY).status_code == 200
