"""/ui/schedules: the API's schedules in words with zone, state, next fires and warnings; the
form's dry-run preview; writes through the dashboard change the API's state; a read-only key
sees no controls and its writes are refused."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.ui.pages.schedules import describe
from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched.schedules.usecases import ScheduleCreate, create_schedule
from tests.support.stores import _client
from tests.support.ui import write_headers

WEEKDAYS = "cron(0 9 ? * MON-FRI *)"


def make_schedule(stores: Stores, template: str, **fields: object) -> str:
    request = ScheduleCreate.model_validate(
        {"name": "weekday report", "template_id": template, "expression": WEEKDAYS, **fields}
    )
    return create_schedule(stores, request).schedule_id


def api_client(stores: Stores) -> TestClient:
    client: TestClient = _client(stores, [Scope.ADMIN])
    return client


def schedules_of(stores: Stores) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api_client(stores).get("/api/v2/schedules").json()["items"]
    return items


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("cron(0 9 ? * MON-FRI *)", "At 09:00, Monday through Friday"),
        ("cron(30 2 1 * ? 2030)", "At 02:30, on day 1 of the month, only in 2030"),
        ("cron(0 12 ? * 1 *)", "At 12:00, only on Sunday"),  # EventBridge: 1 is Sunday
        ("cron(0 9 ? * 2#1 *)", "At 09:00, on the first Monday of the month"),
        ("rate(1 hour)", "Every hour"),
        ("rate(5 minutes)", "Every 5 minutes"),
        ("at(2030-01-01T09:00:00)", "Once, at 2030-01-01 09:00:00"),
    ],
)
def test_an_expression_in_words(expression: str, words: str) -> None:
    assert describe(expression) == words


def test_the_list_shows_words_zone_next_fires_and_notes(
    admin_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    make_schedule(stores, echo_template, timezone="America/New_York")
    paused = make_schedule(
        stores,
        echo_template,
        name="paused one",
        expression="rate(5 minutes)",
        enabled=False,
        disabled_note="waiting for the vendor",
    )
    response = admin_ui.get("/ui/schedules")
    assert response.status_code == 200
    html = response.text
    assert "At 09:00, Monday through Friday" in html
    assert "America/New_York" in html
    assert "Every 5 minutes" in html
    assert "waiting for the vendor" in html
    listed = api_client(stores).get("/api/v2/schedules", params={"next_runs": 3}).json()["items"]
    weekday = next(s for s in listed if s["name"] == "weekday report")
    assert len(weekday["next_runs"]) == 3
    for fire in weekday["next_runs"]:
        assert fire["local"][:16].replace("T", " ") in html
    row = re.search(rf'<tr id="schedule-{paused}".*?</tr>', html, re.DOTALL)
    assert row
    assert "disabled" in row.group(0)
    assert "Enable" in row.group(0)


def test_a_lint_warning_is_shown(admin_ui: TestClient, stores: Stores, echo_template: str) -> None:
    make_schedule(stores, echo_template, name="busy", expression="rate(1 minute)")
    html = admin_ui.get("/ui/schedules").text
    assert "busy</span>" in html  # the warning's code badge
    assert "times a day" in html


def test_the_preview_is_a_dry_run(admin_ui: TestClient, stores: Stores, echo_template: str) -> None:
    headers = write_headers(admin_ui, "/ui/schedules/new")
    before = len(schedules_of(stores))
    form = {
        "name": "nightly",
        "template_id": echo_template,
        "expression": "cron(0 2 * * ? *)",
        "timezone": "Europe/Paris",
        "params": "{}",
        "priority": "normal",
    }
    response = admin_ui.post("/ui/schedules/preview", data=form, headers=headers)
    assert response.status_code == 200
    assert "At 02:00" in response.text
    assert response.text.count("<li><time") == 5  # the dry run's next runs
    assert len(schedules_of(stores)) == before

    bad = admin_ui.post(
        "/ui/schedules/preview", data={**form, "expression": "cron(0 25 * * ? *)"}, headers=headers
    )
    assert bad.status_code == 200
    assert "Not valid" in bad.text
    error = re.search(r'<span id="err-expression"[^>]*hx-swap-oob="true">([^<]+)</span>', bad.text)
    assert error
    assert error.group(1).strip()
    assert len(schedules_of(stores)) == before


def test_a_params_box_that_is_not_json_is_named(
    admin_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    headers = write_headers(admin_ui, "/ui/schedules/new")
    form = {"name": "x", "template_id": echo_template, "expression": WEEKDAYS, "params": "{nope"}
    response = admin_ui.post("/ui/schedules/preview", data=form, headers=headers)
    assert re.search(r'id="err-params"[^>]*>is not JSON', response.text)


def test_create_edit_enable_disable_trigger_delete(
    admin_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    headers = write_headers(admin_ui, "/ui/schedules/new")
    form = {
        "name": "made in the dashboard",
        "template_id": echo_template,
        "expression": "rate(2 hours)",
        "timezone": "UTC",
        "params": '{"message": "from the form"}',
        "priority": "high",
    }
    created = admin_ui.post("/ui/schedules", data=form, headers=headers)
    assert created.status_code == 200, created.text
    assert created.headers["HX-Redirect"] == "/ui/schedules"
    [listed] = schedules_of(stores)
    schedule = stores.schedules.get(listed["schedule_id"])
    assert (schedule.name, schedule.expression) == ("made in the dashboard", "rate(2 hours)")
    assert schedule.params["message"] == "from the form"
    sid = schedule.schedule_id

    edit_page = admin_ui.get(f"/ui/schedules/{sid}/edit")
    assert edit_page.status_code == 200
    assert 'value="rate(2 hours)"' in edit_page.text
    preview = admin_ui.post(
        f"/ui/schedules/{sid}/preview", data={**form, "expression": WEEKDAYS}, headers=headers
    )
    assert "Monday through Friday" in preview.text
    assert stores.schedules.get(sid).expression == "rate(2 hours)"  # a dry run
    edited = admin_ui.post(
        f"/ui/schedules/{sid}", data={**form, "expression": WEEKDAYS}, headers=headers
    )
    assert edited.headers["HX-Redirect"] == "/ui/schedules"
    assert stores.schedules.get(sid).expression == WEEKDAYS

    disabled = admin_ui.post(
        f"/ui/schedules/{sid}/disable", data={"note": "quiet week"}, headers=headers
    )
    assert "quiet week" in disabled.text
    assert (stores.schedules.get(sid).enabled, stores.schedules.get(sid).disabled_note) == (
        False,
        "quiet week",
    )
    admin_ui.post(f"/ui/schedules/{sid}/enable", headers=headers)
    assert stores.schedules.get(sid).enabled

    triggered = admin_ui.post(f"/ui/schedules/{sid}/trigger", headers=headers)
    assert "Triggered: job" in triggered.text
    job_id = re.search(r"job (\S+) queued", triggered.text)
    assert job_id
    assert api_client(stores).get(f"/api/v2/jobs/{job_id.group(1)}").json()["schedule_id"] == sid

    deleted = admin_ui.post(f"/ui/schedules/{sid}/delete", headers=headers)
    assert "Schedule deleted" in deleted.text
    assert schedules_of(stores) == []


def test_a_bad_submit_shows_the_api_errors(
    admin_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    headers = write_headers(admin_ui, "/ui/schedules/new")
    form = {"name": "x", "template_id": echo_template, "expression": "rate(0 minutes)"}
    response = admin_ui.post("/ui/schedules", data=form, headers=headers)
    assert response.status_code == 200
    assert "HX-Redirect" not in response.headers
    assert re.search(r'id="err-expression"[^>]*>[^<]*value must be 1 or more', response.text)
    assert schedules_of(stores) == []


def test_a_read_only_key_sees_no_controls_and_is_refused(
    reader_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    sid = make_schedule(stores, echo_template)
    html = reader_ui.get("/ui/schedules").text
    assert "At 09:00, Monday through Friday" in html
    for control in ("hx-post", "New schedule", "Trigger now", "Delete"):
        assert control not in html
    edit = reader_ui.get(f"/ui/schedules/{sid}/edit").text
    assert "hx-post" not in edit
    assert "<fieldset disabled>" in edit
    headers = write_headers(reader_ui, "/ui/schedules")
    form = {"name": "x", "template_id": echo_template, "expression": WEEKDAYS}
    for path, data in [
        ("/ui/schedules", form),
        ("/ui/schedules/preview", form),
        (f"/ui/schedules/{sid}/disable", {"note": "no"}),
        (f"/ui/schedules/{sid}/trigger", {}),
        (f"/ui/schedules/{sid}/delete", {}),
    ]:
        refused = reader_ui.post(path, data=data, headers=headers)
        assert refused.headers.get("X-Refused") == "403", path
    assert stores.schedules.get(sid).enabled
    assert len(schedules_of(stores)) == 1
