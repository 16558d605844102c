"""Schedule CRUD through the API against moto's EventBridge Scheduler: the EventBridge schedule
and its parameters, validation (422 naming the field), next_runs, enable/disable, delete."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.adapters.dynamodb import Dynamo
from jobsched.constants import SCHEDULE_MAX_EVENT_AGE_SECONDS, SCHEDULE_MAX_RETRY_ATTEMPTS
from jobsched.models.instants import rfc3339
from jobsched.settings import Settings
from tests.support.api import V2, assert_problem
from tests.support.eventbridge import (
    DLQ_ARN,
    ROLE_ARN,
    TARGET_ARN,
    World,
    fields_of,
    make_world,
    post_schedule,
    schedule_body,
)


@pytest.fixture
def world(settings: Settings, dynamo: Dynamo, echo_template: str) -> World:
    return make_world(settings, dynamo)


@pytest.fixture
def api(world: World) -> TestClient:
    return world.api


def test_create_writes_one_eventbridge_schedule_with_every_parameter(world: World) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    end = datetime(2031, 1, 1, tzinfo=UTC)
    created = post_schedule(
        world.api,
        expression="cron(30 9 ? * MON-FRI *)",
        timezone="Europe/London",
        start_at=start.isoformat(),
        end_at=end.isoformat(),
        flexible_window_minutes=15,
        params={"message": "morning"},
        priority="high",
        overlap_policy="buffer_one",
    )

    found = world.eventbridge(created["schedule_id"])
    assert found is not None
    assert found["GroupName"] == world.group
    assert found["ScheduleExpression"] == "cron(30 9 ? * MON-FRI *)"
    assert found["ScheduleExpressionTimezone"] == "Europe/London"
    assert found["StartDate"] == start
    assert found["EndDate"] == end
    assert found["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert found["State"] == "ENABLED"
    assert found["ActionAfterCompletion"] == "NONE"
    target = found["Target"]
    assert target["Arn"] == TARGET_ARN
    assert target["RoleArn"] == ROLE_ARN
    assert target["DeadLetterConfig"] == {"Arn": DLQ_ARN}
    assert target["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": SCHEDULE_MAX_EVENT_AGE_SECONDS,
        "MaximumRetryAttempts": SCHEDULE_MAX_RETRY_ATTEMPTS,
    }
    assert json.loads(target["Input"]) == {
        "schedule_id": created["schedule_id"],
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    # the record: template defaults merged under the params, the priority's level name
    assert created["params"] == {"message": "morning", "count": 1}
    assert created["priority"] == "high"
    assert created["overlap_policy"] == "buffer_one"
    assert created["enabled"] is True
    assert created["sync_pending"] is False
    assert created["version"] == 1
    assert created["last_run"] is None


def test_a_schedule_without_a_window_or_dates_is_sent_without_them(world: World) -> None:
    created = post_schedule(world.api, expression="rate(5 minutes)")

    found = world.eventbridge(created["schedule_id"])
    assert found is not None
    assert found["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "StartDate" not in found
    assert "EndDate" not in found
    assert found["ScheduleExpressionTimezone"] == "UTC"


def test_get_shows_next_runs_in_utc_and_local_time(api: TestClient) -> None:
    created = post_schedule(api, expression="cron(0 9 * * ? *)", timezone="America/New_York")
    assert len(created["next_runs"]) == 5

    body = api.get(f"{V2}/schedules/{created['schedule_id']}", params={"next_runs": 3}).json()

    runs = body["next_runs"]
    assert len(runs) == 3
    for run in runs:
        local = datetime.fromisoformat(run["local"])
        at = datetime.fromisoformat(run["utc"])
        assert (local.hour, local.minute) == (9, 0)
        assert local == at
        assert at.utcoffset() == timedelta(0)
        assert at > datetime.now(UTC)
    starts = [datetime.fromisoformat(run["utc"]) for run in runs]
    assert starts == sorted(starts)
    assert (
        api.get(f"{V2}/schedules/{created['schedule_id']}", params={"next_runs": 0}).json()[
            "next_runs"
        ]
        == []
    )


def test_next_runs_note_a_time_that_daylight_saving_removes(world: World) -> None:
    # 02:30 does not exist in New York on 8 March 2026 (spring forward). The clock is passed
    # in, so the preview is of that week whatever today is.
    from api.schemas import ScheduleOut
    from jobsched.schedules import usecases as use

    march = datetime(2026, 3, 6, tzinfo=UTC)
    request = use.ScheduleCreate.model_validate(
        schedule_body(expression="cron(30 2 * * ? *)", timezone="America/New_York")
    )
    schedule = use.create_schedule(world.stores, request, now=march)

    out = ScheduleOut.of(use.view(schedule, 4, now=march)).model_dump(mode="json")

    days = [run["local"][:10] for run in out["next_runs"]]
    assert days[0] == "2026-03-06"
    notes = [run["note"] for run in out["next_runs"] if run["note"]]
    assert len(notes) == 1, out["next_runs"]
    assert all(run["local"][11:16] in ("02:30", "03:30") for run in out["next_runs"])


@pytest.mark.parametrize("count", [-1, 51, "x"])
def test_next_runs_is_bounded(api: TestClient, count: object) -> None:
    created = post_schedule(api)
    response = api.get(f"{V2}/schedules/{created['schedule_id']}", params={"next_runs": count})
    assert_problem(response, 422, field="query.next_runs")


def test_a_one_time_schedule_previews_its_one_fire(world: World) -> None:
    when = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0, tzinfo=None)
    created = post_schedule(world.api, expression=f"at({when.isoformat()})")

    assert created["expression"] == f"at({when.isoformat()})"
    assert [run["utc"] for run in created["next_runs"]] == [rfc3339(when.replace(tzinfo=UTC))]
    found = world.eventbridge(created["schedule_id"])
    assert found is not None
    assert found["ActionAfterCompletion"] == "NONE"  # kept after it fires (docs/decisions.md)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expression": "cron(99 99 * * ? *)"}, "expression"),
        ({"expression": "rate(0 minutes)"}, "expression"),
        ({"expression": "every day"}, "expression"),
        ({"expression": "cron(0 0 30 2 ? *)"}, "expression"),  # 30 February: never fires
        ({"expression": "at(2001-01-01T00:00:00)"}, "expression"),  # in the past
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"start_at": "2030-02-01T00:00:00Z", "end_at": "2030-01-01T00:00:00Z"}, "end_at"),
        ({"start_at": "2030-02-01T00:00:00"}, "start_at"),  # no zone
        ({"flexible_window_minutes": 0}, "flexible_window_minutes"),
        ({"flexible_window_minutes": 1441}, "flexible_window_minutes"),
        ({"params": {"count": 99}}, "params.count"),
        ({"params": {"nope": 1}}, "params"),
        ({"priority": "urgent"}, "priority"),
        ({"overlap_policy": "queue_all"}, "overlap_policy"),
        ({"disabled_note": "why"}, "disabled_note"),  # a note on an enabled schedule
        ({"name": ""}, "name"),
        ({"schedule_id": "mine"}, "schedule_id"),
    ],
)
def test_invalid_schedules_are_422_naming_the_field_and_write_nothing(
    world: World, fields: dict[str, Any], field: str
) -> None:
    response = world.api.post(f"{V2}/schedules", json=schedule_body(**fields))

    assert_problem(response, 422)
    assert field in fields_of(response), response.json()
    assert world.api.get(f"{V2}/schedules").json()["items"] == []
    assert world.eventbridge_names() == []


def test_every_failing_timing_field_is_named_at_once(api: TestClient) -> None:
    response = api.post(
        f"{V2}/schedules", json=schedule_body(expression="cron(x)", timezone="Nowhere/City")
    )
    assert_problem(response, 422)
    assert {"expression", "timezone"} <= set(fields_of(response))


def test_unknown_and_archived_templates(api: TestClient) -> None:
    assert_problem(api.post(f"{V2}/schedules", json=schedule_body(template_id="nope")), 404)
    assert api.delete(f"{V2}/templates/echo").status_code == 200
    assert_problem(api.post(f"{V2}/schedules", json=schedule_body()), 409)


def test_list_newest_first_with_a_cursor_and_a_template_filter(api: TestClient) -> None:
    ids = [post_schedule(api, name=f"s{n}")["schedule_id"] for n in range(3)]

    first = api.get(f"{V2}/schedules", params={"limit": 2}).json()
    second = api.get(f"{V2}/schedules", params={"limit": 2, "cursor": first["next_cursor"]}).json()

    listed = [item["schedule_id"] for item in first["items"] + second["items"]]
    assert listed == ids[::-1]
    assert second["next_cursor"] is None
    assert len(first["items"][0]["next_runs"]) == 1  # a list previews one fire unless asked
    by_template = api.get(f"{V2}/schedules", params={"template_id": "echo"}).json()
    assert len(by_template["items"]) == 3
    assert api.get(f"{V2}/schedules", params={"template_id": "other"}).json()["items"] == []


def test_patch_updates_the_record_and_the_eventbridge_schedule(world: World) -> None:
    created = post_schedule(world.api, flexible_window_minutes=10)
    schedule_id = created["schedule_id"]

    response = world.api.patch(
        f"{V2}/schedules/{schedule_id}",
        json={
            "expression": "cron(0 6 * * ? *)",
            "timezone": "Europe/London",
            "flexible_window_minutes": None,
            "params": {"count": 3},
            "name": "early",
        },
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    assert body["expression"] == "cron(0 6 * * ? *)"
    assert body["flexible_window_minutes"] is None
    assert body["params"] == {"message": "hi", "count": 3}
    assert body["name"] == "early"
    assert body["sync_pending"] is False
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert found["ScheduleExpressionTimezone"] == "Europe/London"
    assert found["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert found["Description"] == "early"
    assert world.api.get(f"{V2}/schedules/{schedule_id}").json() == {
        **body,
        "next_runs": body["next_runs"],
        "budget_status": [],  # GET's own: what its budgets committed (it has none)
    }


def test_a_bad_patch_is_422_and_changes_nothing(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]

    for patch, field in [
        ({"expression": "rate(2 minute)"}, "expression"),
        ({"timezone": "UTC+1"}, "timezone"),
        ({"name": None}, "name"),
        ({"end_at": "2000-01-01T00:00:00Z"}, "expression"),  # never fires before its end
        ({"enabled": False}, "enabled"),  # enable and disable have their own endpoints
        ({"params": {"count": 0}}, "params.count"),
    ]:
        response = world.api.patch(f"{V2}/schedules/{schedule_id}", json=patch)
        assert_problem(response, 422)
        assert field in fields_of(response), (patch, response.json())

    body = world.api.get(f"{V2}/schedules/{schedule_id}").json()
    assert body["version"] == 1
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["ScheduleExpression"] == "rate(1 hour)"


def test_an_empty_patch_changes_nothing(api: TestClient) -> None:
    schedule_id = post_schedule(api)["schedule_id"]
    response = api.patch(f"{V2}/schedules/{schedule_id}", json={})
    assert response.status_code == 200
    assert response.json()["version"] == 1


def test_a_new_template_starts_from_its_own_defaults(api: TestClient) -> None:
    api.post(
        f"{V2}/templates",
        json={
            "template_id": "other",
            "name": "Other",
            "workload": "echo",
            "default_params": {"size": 2},
        },
    )
    schedule_id = post_schedule(api)["schedule_id"]
    body = api.patch(f"{V2}/schedules/{schedule_id}", json={"template_id": "other"}).json()
    assert body["template_id"] == "other"
    assert body["params"] == {"size": 2}


def test_disable_with_a_note_then_enable(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]

    disabled = world.api.post(
        f"{V2}/schedules/{schedule_id}/disable", json={"note": "paused for the migration"}
    ).json()

    assert disabled["enabled"] is False
    assert disabled["disabled_note"] == "paused for the migration"
    assert disabled["next_runs"] == []  # a disabled schedule will not fire
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["State"] == "DISABLED"

    enabled = world.api.post(f"{V2}/schedules/{schedule_id}/enable").json()

    assert enabled["enabled"] is True
    assert enabled["disabled_note"] is None
    assert len(enabled["next_runs"]) == 5
    found = world.eventbridge(schedule_id)
    assert found is not None
    assert found["State"] == "ENABLED"
    # enabling an enabled schedule writes nothing
    again = world.api.post(f"{V2}/schedules/{schedule_id}/enable").json()
    assert again["version"] == enabled["version"]


def test_disable_without_a_body(api: TestClient) -> None:
    schedule_id = post_schedule(api)["schedule_id"]
    response = api.post(f"{V2}/schedules/{schedule_id}/disable")
    assert response.status_code == 200, response.text
    assert response.json()["disabled_note"] is None


def test_create_disabled(world: World) -> None:
    created = post_schedule(world.api, enabled=False, disabled_note="not yet")
    found = world.eventbridge(created["schedule_id"])
    assert found is not None
    assert found["State"] == "DISABLED"
    assert created["disabled_note"] == "not yet"


def test_delete_removes_both(world: World) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]

    response = world.api.delete(f"{V2}/schedules/{schedule_id}")

    assert response.status_code == 204
    assert world.eventbridge(schedule_id) is None
    assert_problem(world.api.get(f"{V2}/schedules/{schedule_id}"), 404)
    assert_problem(world.api.delete(f"{V2}/schedules/{schedule_id}"), 404)
    assert world.api.get(f"{V2}/schedules").json()["items"] == []


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/enable"),
        ("POST", "/disable"),
        ("POST", "/trigger"),
    ],
)
def test_an_unknown_schedule_is_404(api: TestClient, method: str, suffix: str) -> None:
    kwargs: dict[str, Any] = {"json": {}} if method in {"PATCH", "POST"} else {}
    response = api.request(method, f"{V2}/schedules/sch_nope{suffix}", **kwargs)
    assert_problem(response, 404)


def test_scopes_and_both_prefixes(world: World, reader: TestClient) -> None:
    schedule_id = post_schedule(world.api)["schedule_id"]
    assert world.api.get(f"/scheduler/schedules/{schedule_id}").status_code == 200
    assert reader.get(f"{V2}/schedules/{schedule_id}").status_code == 200
    assert_problem(reader.post(f"{V2}/schedules", json=schedule_body()), 403)
    assert_problem(reader.post(f"{V2}/schedules/{schedule_id}/trigger"), 403)
    assert_problem(reader.delete(f"{V2}/schedules/{schedule_id}"), 403)


def test_a_query_parameter_the_operation_does_not_take_is_refused_and_writes_nothing(
    api: TestClient,
) -> None:
    """An unknown parameter used to be ignored: `?dryrun=1` made a real, enabled schedule."""
    response = api.post(f"{V2}/schedules", params={"dryrun": "1"}, json=schedule_body())

    body = assert_problem(response, 422, "query.dryrun")
    assert "not a parameter" in body["detail"]
    assert api.get(f"{V2}/schedules").json()["items"] == []
    # a parameter the operation does take still works, on the other prefix too
    assert api.get("/scheduler/schedules", params={"limit": 5}).status_code == 200
    assert_problem(api.get("/scheduler/schedules", params={"limt": 5}), 422, "query.limt")


def test_a_dry_run_checks_and_previews_and_writes_nothing(api: TestClient, world: World) -> None:
    body = schedule_body(expression="cron(0 9 * * ? *)", timezone="Europe/Paris")
    response = api.post(f"{V2}/schedules", params={"dry_run": "true"}, json=body)

    assert response.status_code == 200, response.text
    preview = response.json()
    assert len(preview["next_runs"]) == 5
    assert preview["expression"] == "cron(0 9 * * ? *)"
    assert api.get(f"{V2}/schedules").json()["items"] == []
    assert world.eventbridge(preview["schedule_id"]) is None  # nothing sent to EventBridge
    bad = api.post(
        f"{V2}/schedules", params={"dry_run": "true"}, json={**body, "timezone": "Mars/Base"}
    )
    assert_problem(bad, 422, "timezone")


def test_an_update_dry_run_previews_the_change_and_writes_nothing(
    api: TestClient, world: World
) -> None:
    created = post_schedule(api, expression="cron(0 9 * * ? *)", timezone="Europe/Paris")
    path = f"{V2}/schedules/{created['schedule_id']}"
    sent = world.eventbridge(created["schedule_id"])
    assert sent is not None

    response = api.patch(
        path, params={"dry_run": "true"}, json={"expression": "cron(0 18 * * ? *)"}
    )

    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["expression"] == "cron(0 18 * * ? *)"
    assert preview["version"] == created["version"] + 1  # the version the update would make
    assert preview["next_runs"][0]["local"].endswith("T18:00:00+01:00")
    shown = api.get(path).json()
    assert shown == {**created, "next_runs": shown["next_runs"], "budget_status": []}
    after = world.eventbridge(created["schedule_id"])
    assert after is not None
    assert after["ScheduleExpression"] == sent["ScheduleExpression"]  # EventBridge untouched
    bad = api.patch(path, params={"dry_run": "true"}, json={"timezone": "Mars/Base"})
    assert_problem(bad, 422, "timezone")


def test_a_schedule_as_get_returns_it_is_accepted_back(api: TestClient, world: World) -> None:
    body = schedule_body(expression="cron(0 9 * * ? *)", timezone="Europe/Paris")
    created = post_schedule(api, **body)
    shown = api.get(f"{V2}/schedules/{created['schedule_id']}").json()

    same = api.patch(f"{V2}/schedules/{shown['schedule_id']}", json=shown)
    assert same.status_code == 200, same.text
    assert same.json()["version"] == shown["version"]  # sent back as shown: nothing changed
    copy = api.post(f"{V2}/schedules", json={k: v for k, v in shown.items() if k != "schedule_id"})
    assert copy.status_code == 201, copy.text  # its other read-only fields are taken, unused
    assert copy.json()["expression"] == shown["expression"]

    renamed = api.patch(f"{V2}/schedules/{shown['schedule_id']}", json={**shown, "name": "new"})
    assert (renamed.json()["name"], renamed.json()["version"]) == ("new", shown["version"] + 1)
    stale = api.patch(f"{V2}/schedules/{shown['schedule_id']}", json={**shown, "name": "x"})
    assert "read it again" in assert_problem(stale, 409)["detail"]  # it read version 1
    flipped = {**renamed.json(), "enabled": False}
    assert_problem(
        api.patch(f"{V2}/schedules/{shown['schedule_id']}", json=flipped), 422, "enabled"
    )
