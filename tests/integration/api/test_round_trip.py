"""What the API returns it accepts back: a template exactly as GET returns it is taken by
PATCH (nothing changes but the version) and by POST under another id (the same template);
its read-only fields are checked, never applied."""

import itertools
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobsched.jobs.template_rules import FARGATE_MEMORY
from jobsched.worker_contract import WORKLOADS
from tests.support.api import V2, assert_problem

CONTENT = (
    "name",
    "description",
    "workload",
    "default_params",
    "params_schema",
    "cpu",
    "memory",
    "timeout_seconds",
    "retry",
)
ids = (f"rt-{n}" for n in itertools.count())

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)
sizes = st.sampled_from(
    [(cpu, mem) for cpu, mems in FARGATE_MEMORY.items() for mem in sorted(mems)]
)
templates = st.builds(
    lambda name, description, workload, size, timeout, attempts, backoff, defaults: {
        "name": name,
        "description": description,
        "workload": workload,
        "cpu": size[0],
        "memory": size[1],
        "timeout_seconds": timeout,
        "retry": {"max_attempts": attempts, "backoff_seconds": backoff},
        "default_params": defaults,
    },
    text,
    st.text(max_size=40),
    st.sampled_from(sorted(WORKLOADS)),
    sizes,
    st.integers(1, 7 * 86400),
    st.integers(1, 10),
    st.floats(0, 3600, allow_nan=False, allow_infinity=False).map(lambda f: round(f, 3)),
    st.dictionaries(st.text(min_size=1, max_size=10), st.integers(-1000, 1000), max_size=3),
)


def _content(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in CONTENT}


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(template=templates)
def test_a_template_as_get_returns_it_is_accepted_back(
    client: TestClient, template: dict[str, Any]
) -> None:
    template_id = next(ids)
    created = client.post(f"{V2}/templates", json={"template_id": template_id, **template})
    assert created.status_code == 201, created.text
    shown = client.get(f"{V2}/templates/{template_id}").json()

    patched = client.patch(f"{V2}/templates/{template_id}", json=shown)
    assert patched.status_code == 200, patched.text
    assert _content(patched.json()) == _content(shown)
    assert patched.json()["version"] == shown["version"] + 1

    copy = client.post(f"{V2}/templates", json={**shown, "template_id": f"{template_id}-copy"})
    assert copy.status_code == 201, copy.text
    assert _content(copy.json()) == _content(shown)
    assert copy.json()["version"] == 1  # its own history starts afresh


def test_read_only_fields_are_checked_not_applied(client: TestClient) -> None:
    client.post(f"{V2}/templates", json={"template_id": "ro", "name": "RO", "workload": "echo"})
    shown = client.get(f"{V2}/templates/ro").json()

    stale = client.patch(f"{V2}/templates/ro", json={**shown, "version": shown["version"] + 5})
    assert "read it again" in assert_problem(stale, 409)["detail"]
    assert_problem(
        client.patch(f"{V2}/templates/ro", json={**shown, "archived": True}), 422, "archived"
    )
    assert_problem(
        client.patch(f"{V2}/templates/ro", json={**shown, "template_id": "other"}),
        422,
        "template_id",
    )
    new_copy = {**shown, "template_id": "ro-2", "archived": True}
    assert_problem(client.post(f"{V2}/templates", json=new_copy), 422, "archived")
    assert client.get(f"{V2}/templates/ro").json() == shown  # nothing written
