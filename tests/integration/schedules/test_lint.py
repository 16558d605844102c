"""POST /schedules/lint through the API: checked as a create is, warnings from the template's
run history and the other schedules, and nothing written."""

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from jobsched.models import JobRun, RunStatus
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem

BODY = {"name": "often", "template_id": "echo", "expression": "rate(10 minutes)"}


def lint(client: TestClient, prefix: str = V2, **changes: object) -> dict[str, object]:
    response = client.post(f"{prefix}/schedules/lint", json={**BODY, **changes})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def completed_runs(stores: Stores, minutes: list[int]) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n, length in enumerate(minutes):
        stores.runs.put(
            JobRun(
                run_id=f"run_{n}",
                job_id=f"job_{n}",
                template_id="echo",
                status=RunStatus.COMPLETED,
                started_at=start + timedelta(hours=n),
                finished_at=start + timedelta(hours=n, minutes=length),
                exit_code=0,
            )
        )


def test_fires_closer_than_the_templates_p90_run_are_an_overlap_warning(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    assert [w["code"] for w in lint(client)["warnings"]] == ["busy"]  # 144 a day, no history

    completed_runs(stores, [5, 6, 7, 8, 30])
    report = lint(client, prefix="/scheduler")

    codes = [w["code"] for w in report["warnings"]]
    assert codes == ["busy", "overlap"]
    assert report["fires_per_day"] == 144


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
