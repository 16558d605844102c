"""/ui/templates: the list (archived apart), a template's versions and schema, the run form
generated from its JSON Schema (constraints as HTML attributes), a run that makes the job, the
API's 422 by input, archive and restore; a read-only key sees no controls and is refused."""

import re
from typing import Any

from fastapi.testclient import TestClient

from jobsched.jobs.templates import TemplateCreate, TemplatePatch, create_template, update_template
from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.stores import _client
from tests.support.ui import write_headers

RICH_SCHEMA = {
    "type": "object",
    "properties": {
        "topic": {"type": "string", "minLength": 2, "maxLength": 40, "pattern": "^[a-z ]+$"},
        "count": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number", "minimum": 0, "maximum": 1},
        "dry": {"type": "boolean"},
        "mode": {"enum": ["fast", "slow"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "extra": {"type": "object"},
    },
    "required": ["topic"],
    "additionalProperties": False,
}


def rich_template(stores: Stores) -> str:
    create_template(
        stores,
        TemplateCreate(
            template_id="rich",
            name="Rich",
            workload="echo",
            default_params={"count": 2},
            params_schema=RICH_SCHEMA,
        ),
    )
    return "rich"


def api(stores: Stores) -> TestClient:
    client: TestClient = _client(stores, [Scope.ADMIN])
    return client


def input_tag(html: str, label: str) -> str:
    """The input or select whose label is `label`."""
    found = re.search(rf'<label for="([^"]+)">{label}\b', html)
    assert found, label
    tag = re.search(rf'<(input|select|textarea) id="{found.group(1)}"[^>]*>', html, re.DOTALL)
    assert tag, label
    return tag.group(0)


def jobs_of(stores: Stores, template_id: str) -> list[dict[str, Any]]:
    items = api(stores).get("/api/v2/jobs", params={"template_id": template_id}).json()["items"]
    return [job for job in items if job["template_id"] == template_id]


def test_the_list_shows_archived_apart(
    admin_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    rich_template(stores)
    assert api(stores).delete("/api/v2/templates/rich").status_code == 200
    html = admin_ui.get("/ui/templates").text
    assert 'href="/ui/templates/echo"' in html
    assert 'href="/ui/templates/rich"' not in html  # apart: behind the toggle
    assert "Archived (1)" in html
    shown = admin_ui.get("/ui/templates?archived=true").text
    archived = shown.split('data-testid="archived-templates"', 1)[1]
    assert 'href="/ui/templates/rich"' in archived
    assert 'href="/ui/templates/echo"' not in archived


def test_the_detail_shows_versions_and_schema(
    admin_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    update_template(stores, echo_template, TemplatePatch(description="second version"))
    html = admin_ui.get(f"/ui/templates/{echo_template}").text
    versions = html.split('data-testid="versions"', 1)[1]
    assert "v1" in versions
    assert "v2" in versions
    assert "current" in versions
    assert "&#34;maximum&#34;: 10" in html or '"maximum": 10' in html  # the schema, shown


def test_the_generated_form_carries_the_constraints(admin_ui: TestClient, stores: Stores) -> None:
    rich_template(stores)
    html = admin_ui.get("/ui/templates/rich").text
    topic = input_tag(html, "topic")
    for attr in ('type="text"', 'minlength="2"', 'maxlength="40"', 'pattern="^[a-z ]+$"'):
        assert attr in topic
    assert " required" in topic  # required, and no default for it
    count = input_tag(html, "count")
    for attr in ('type="number"', 'min="1"', 'max="10"', 'step="1"'):
        assert attr in count
    assert " required" not in count
    ratio = input_tag(html, "ratio")
    assert 'step="any"' in ratio
    assert 'max="1"' in ratio
    assert input_tag(html, "dry").startswith("<select")
    mode = html.split('data-param="mode"', 1)[1].split("</select>", 1)[0]
    assert "<option value='\"fast\"'>fast</option>" in mode
    assert "<option value='\"slow\"'>slow</option>" in mode
    assert input_tag(html, "tags").startswith("<textarea")
    assert "Other params (JSON object): extra" in html  # the fallback names what it is for


def test_a_run_makes_the_job_with_the_params(admin_ui: TestClient, stores: Stores) -> None:
    rich_template(stores)
    headers = write_headers(admin_ui, "/ui/templates/rich")
    form = {
        "param-0": "hello world",
        "param-1": "7",
        "param-2": "0.5",
        "param-3": "true",
        "param-4": '"slow"',
        "param-5": "a\nb\n",
        "priority": "high",
        "params_json": '{"extra": {"k": 1}}',
    }
    response = admin_ui.post("/ui/templates/rich/run", data=form, headers=headers)
    assert response.status_code == 200
    assert "Queued" in response.text
    [job] = jobs_of(stores, "rich")
    assert job["job_id"] in response.text
    assert job["params"] == {
        "topic": "hello world",
        "count": 7,
        "ratio": 0.5,
        "dry": True,
        "mode": "slow",
        "tags": ["a", "b"],
        "extra": {"k": 1},
    }


def test_a_blank_input_keeps_the_default(
    admin_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    headers = write_headers(admin_ui, f"/ui/templates/{echo_template}")
    form = {"param-0": "", "param-1": "", "priority": "normal", "params_json": ""}
    response = admin_ui.post(f"/ui/templates/{echo_template}/run", data=form, headers=headers)
    assert "Queued" in response.text
    [job] = jobs_of(stores, echo_template)
    assert job["params"] == {"message": "hi", "count": 1}


def test_the_apis_422_is_shown_by_input(admin_ui: TestClient, stores: Stores) -> None:
    rich_template(stores)
    headers = write_headers(admin_ui, "/ui/templates/rich")
    form = {"param-0": "hello", "param-1": "99", "priority": "normal"}  # count above 10
    response = admin_ui.post("/ui/templates/rich/run", data=form, headers=headers)
    assert response.status_code == 200
    assert "Not queued" in response.text
    count_error = re.search(
        r'<span id="err-param-1"[^>]*hx-swap-oob="true">([^<]+)</span>', response.text
    )
    assert count_error
    assert "10" in count_error.group(1)
    assert re.search(r'<span id="err-param-0"[^>]*hx-swap-oob="true"></span>', response.text)
    bad_json = admin_ui.post(
        "/ui/templates/rich/run", data={"param-0": "hello", "params_json": "[1]"}, headers=headers
    )
    assert re.search(r'id="err-params_json"[^>]*>must be a JSON object', bad_json.text)
    assert jobs_of(stores, "rich") == []


def test_archive_and_restore(admin_ui: TestClient, stores: Stores, echo_template: str) -> None:
    headers = write_headers(admin_ui, f"/ui/templates/{echo_template}")
    archived = admin_ui.post(f"/ui/templates/{echo_template}/archive", headers=headers)
    assert archived.headers["HX-Redirect"] == f"/ui/templates/{echo_template}"
    assert api(stores).get(f"/api/v2/templates/{echo_template}").json()["archived"]
    html = admin_ui.get(f"/ui/templates/{echo_template}").text
    assert "Restore" in html
    assert "Run with these params" not in html
    admin_ui.post(f"/ui/templates/{echo_template}/restore", headers=headers)
    assert not api(stores).get(f"/api/v2/templates/{echo_template}").json()["archived"]


def test_a_read_only_key_sees_no_controls_and_is_refused(
    reader_ui: TestClient, stores: Stores, echo_template: str
) -> None:
    html = reader_ui.get(f"/ui/templates/{echo_template}").text
    assert "Params schema" in html
    for control in ("hx-post", "Run with these params", "Archive"):
        assert control not in html
    headers = write_headers(reader_ui, "/ui/templates")
    for path in ("run", "archive", "restore"):
        refused = reader_ui.post(
            f"/ui/templates/{echo_template}/{path}", data={"param-0": "x"}, headers=headers
        )
        assert refused.headers.get("X-Refused") == "403", path
    assert jobs_of(stores, echo_template) == []
    assert not api(stores).get(f"/api/v2/templates/{echo_template}").json()["archived"]
