"""Every instant the API shows has one form: RFC 3339, UTC, microseconds, Z."""

import re
from typing import Any

from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from tests.support.api import V2, post_job

ONE_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
INSTANT_KEYS = {"utc", "scheduled_time", "at"}


def instants(body: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(body, dict):
        found = []
        for key, value in body.items():
            where = f"{path}.{key}"
            if isinstance(value, str) and (key.endswith("_at") or key in INSTANT_KEYS):
                found.append((where, value))
            else:
                found += instants(value, where)
        return found
    if isinstance(body, list):
        return [hit for index, item in enumerate(body) for hit in instants(item, f"{path}.{index}")]
    return []


def test_every_instant_in_the_answers_has_the_one_form(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    done = post_job(client)["job_id"]
    claim = Dispatcher(stores, stores.dispatch).claim()
    assert claim is not None
    Dispatcher(stores, stores.dispatch).finish(claim, Outcome(exit_code=0), claim_next=False)
    queued = post_job(client)["job_id"]
    group = client.post(f"{V2}/groups", json={"jobs": [{"template_id": echo_template}]}).json()
    client.post(f"{V2}/queue/pause", json={"note": "checking"})
    answers = [
        client.get(f"{V2}/jobs/{done}").json(),
        client.get(f"{V2}/jobs/{queued}").json(),
        client.get(f"{V2}/jobs").json(),
        client.get(f"{V2}/runs").json(),
        client.get(f"{V2}/queue").json(),
        client.get(f"{V2}/queue/stats").json(),
        client.get(f"{V2}/groups/{group['group_id']}").json(),
        client.get(f"/jobs/{done}").json(),  # the legacy view too
    ]

    seen = [hit for answer in answers for hit in instants(answer) if hit[1] is not None]
    assert len(seen) > 10
    assert [(where, value) for where, value in seen if not ONE_FORM.fullmatch(value)] == []
