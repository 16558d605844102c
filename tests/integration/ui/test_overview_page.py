"""The overview in process, on both stores: counts, the runs chart's series, waits and
durations, running units with their stop button, the next fires, and what needs attention."""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.ids import new_id
from jobsched.models import JobRun, RunStatus
from jobsched.models.gates import FailedCheck, GateVerdict
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from tests.support.api import V2, post_job, post_template
from tests.support.ui import write_headers

CHART = re.compile(r'<script type="application/json" id="overview-chart-data">(.*?)</script>')


@dataclass
class World:
    completed: str
    failed: str
    lost: str
    retrying: str
    running: str
    held: str
    schedule: dict[str, Any]


def _claim_and_finish(dispatcher: Dispatcher, job_id: str, outcome: Outcome | None) -> None:
    claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.job_id == job_id
    if outcome is not None:
        dispatcher.finish(claim, outcome, claim_next=False)


@pytest.fixture
def world(stores: Stores, client: TestClient, echo_template: str) -> World:
    """A run of each ending, a retry waiting, one running, one held, and a schedule."""
    post_template(client, "flaky", retry={"max_attempts": 2, "backoff_seconds": 3600})
    ids = [post_job(client)["job_id"] for _ in range(3)]
    flaky = post_job(client, "flaky")["job_id"]
    running, held = (post_job(client)["job_id"] for _ in range(2))
    assert client.post(f"{V2}/jobs/{held}/hold", json={"note": "wait for data"}).status_code == 200
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
    _claim_and_finish(dispatcher, ids[0], Outcome(exit_code=0))
    _claim_and_finish(dispatcher, ids[1], Outcome(exit_code=1))
    _claim_and_finish(dispatcher, ids[2], Outcome.lost())
    _claim_and_finish(dispatcher, flaky, Outcome(exit_code=3))
    _claim_and_finish(dispatcher, running, None)
    body = {"name": "nightly echo", "template_id": "echo", "expression": "rate(1 hour)"}
    created = client.post(f"{V2}/schedules", json=body)
    assert created.status_code == 201, created.text
    return World(ids[0], ids[1], ids[2], flaky, running, held, created.json())


def panel(client: TestClient, name: str) -> str:
    response = client.get(f"/ui/panels/{name}", headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    return response.text


def test_the_overview_shows_every_panel_with_what_the_api_has(
    admin_ui: TestClient, client: TestClient, world: World
) -> None:
    response = admin_ui.get("/ui/")
    assert response.status_code == 200
    html = response.text
    assert "uPlot.iife.min.js" in html
    assert "overview.js" in html
    for name in ("counts", "activity", "running", "fires", "attention"):
        assert f'id="panel-overview_{name}"' in html
    stats = client.get(f"{V2}/queue/stats").json()
    for status, n in stats["counts_by_status"].items():
        assert f'<span class="n" data-status="{status}">{n}</span>' in html
    # Running: the job, its elapsed time and a stop button.
    running = panel(admin_ui, "overview_running")
    assert f'data-job-id="{world.running}"' in running
    assert f'hx-post="/ui/overview/jobs/{world.running}/stop"' in running
    # Attention: each kind, with its job.
    attention = panel(admin_ui, "overview_attention")
    items = re.findall(r'<li data-kind="(\w+)">(.*?)</li>', attention, re.S)
    kinds = {kind: text for kind, text in items}
    assert set(kinds) == {"failed", "lost", "retrying", "held"}
    short = {
        job_id: f"{job_id[:4]}…{job_id[-6:]}"
        for job_id in vars(world).values()
        if isinstance(job_id, str)
    }
    assert short[world.failed] in kinds["failed"]
    assert "exit code 1" in kinds["failed"]
    assert short[world.lost] in kinds["lost"]
    assert "lost" in kinds["lost"]
    assert short[world.retrying] in kinds["retrying"]
    assert "attempt 1" in kinds["retrying"]
    assert short[world.held] in kinds["held"]
    assert "wait for data" in kinds["held"]
    # Fires: the schedule's, by name, in order.
    fires = panel(admin_ui, "overview_fires")
    assert "nightly echo" in fires
    shown = re.findall(r'<time datetime="([^"]+)">', fires)
    expected = [
        datetime.fromisoformat(fire["utc"]).astimezone(UTC).isoformat()
        for fire in client.get(
            f"{V2}/schedules/{world.schedule['schedule_id']}", params={"next_runs": 30}
        ).json()["next_runs"]
        if datetime.fromisoformat(fire["utc"]) <= datetime.now(UTC) + timedelta(hours=24)
    ]
    assert shown == expected
    assert 23 <= len(shown) <= 25


def test_the_chart_series_count_the_runs_by_the_hour_they_ended(
    admin_ui: TestClient, client: TestClient, world: World
) -> None:
    found = CHART.search(panel(admin_ui, "overview_activity"))
    assert found
    series = json.loads(found.group(1))
    assert len(series["x"]) == 24
    assert all(b - a == 3600 for a, b in zip(series["x"], series["x"][1:], strict=False))
    start = series["x"][0]
    expected = {"completed": [0] * 24, "failed": [0] * 24}
    for run in client.get(f"{V2}/runs", params={"limit": 200}).json()["items"]:
        if run["status"] in expected and run["finished_at"]:
            ended = datetime.fromisoformat(run["finished_at"]).timestamp()
            if start <= ended < start + 24 * 3600:
                expected[run["status"]][int((ended - start) // 3600)] += 1
    assert series["completed"] == expected["completed"]
    assert series["failed"] == expected["failed"]
    assert sum(series["completed"]) == 1
    assert sum(series["failed"]) == 3  # exit 1, lost, the flaky job's first attempt


def test_waits_and_durations_are_percentiles_of_the_recent_runs(
    admin_ui: TestClient, client: TestClient, stores: Stores, echo_template: str
) -> None:
    """Runs of known waits (1-4 s after their jobs' creation) and durations (10-40 s)."""
    for i in range(1, 5):
        job = post_job(client)
        created = datetime.fromisoformat(job["created_at"])
        started = created + timedelta(seconds=i)
        stores.runs.put(
            JobRun(
                run_id=new_id("run"),
                job_id=job["job_id"],
                template_id="echo",
                status=RunStatus.COMPLETED,
                started_at=started,
                finished_at=started + timedelta(seconds=10 * i),
            )
        )
    html = panel(admin_ui, "overview_activity")
    rows = re.findall(
        r'<tr data-testid="spread-\d"><th scope="row">([^<]+)</th>\s*'
        r'<td data-seconds="([^"]*)">.*?</td>\s*<td data-seconds="([^"]*)">.*?</td>\s*'
        r"<td>(\d+) runs?</td>",
        html,
        re.S,
    )
    assert [(what, float(p50), float(p90), int(n)) for what, p50, p90, n in rows] == [
        ("Queue wait", 2.0, 4.0, 4),
        ("Run duration", 20.0, 40.0, 4),
    ]
    assert "Of the 4 runs started in the last 24 hours" in html


def test_the_stop_button_cancels_the_running_job(
    admin_ui: TestClient, client: TestClient, world: World
) -> None:
    response = admin_ui.post(
        f"/ui/overview/jobs/{world.running}/stop", headers=write_headers(admin_ui)
    )
    assert response.status_code == 200, response.text
    assert "X-Refused" not in response.headers
    assert f'data-job-id="{world.running}"' not in response.text
    assert "Nothing runs now." in response.text
    assert f"Job {world.running} is cancelled." in response.text
    assert client.get(f"{V2}/jobs/{world.running}").json()["status"] == "cancelled"
    # Stopping it again: the API's 409, shown as a message.
    again = admin_ui.post(
        f"/ui/overview/jobs/{world.running}/stop", headers=write_headers(admin_ui)
    )
    assert again.headers["X-Refused"] == "409"


def test_a_read_only_key_sees_no_stop_button_and_its_stop_is_refused(
    reader_ui: TestClient, client: TestClient, world: World
) -> None:
    html = reader_ui.get("/ui/").text
    assert f'data-job-id="{world.running}"' in html
    assert "/stop" not in html
    response = reader_ui.post(
        f"/ui/overview/jobs/{world.running}/stop", headers=write_headers(reader_ui)
    )
    assert response.headers["X-Refused"] == "403"
    assert client.get(f"{V2}/jobs/{world.running}").json()["status"] == "running"


def test_an_empty_scheduler_says_so(admin_ui: TestClient) -> None:
    html = admin_ui.get("/ui/").text
    for marker in ("running-none", "fires-none", "attention-none"):
        assert f'data-testid="{marker}"' in html


def test_rejected_runs_and_the_days_usage_show_in_the_counts_and_the_chart(
    admin_ui: TestClient, client: TestClient, stores: Stores, echo_template: str
) -> None:
    job_id = post_job(client)["job_id"]
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
    verdict = GateVerdict(
        failed=[FailedCheck(index=0, kind="count", reason="1 file, not 3", measured=1)]
    )
    used = Usage(calls=1, prompt_tokens=1500, completion_tokens=500, cost_usd=1.25)
    _claim_and_finish(dispatcher, job_id, Outcome(exit_code=0, usage=used).rejected(verdict))

    counts = panel(admin_ui, "overview_counts")
    found = CHART.search(panel(admin_ui, "overview_activity"))

    assert 'data-testid="rejected-runs">1<' in counts
    usage = counts[counts.index('data-testid="usage-24h"') :]
    assert "2,000</span>tokens in 24 h · US$1.25" in usage
    assert found
    assert sum(json.loads(found.group(1))["failed"]) == 1  # a rejected run is a failure
    attention = panel(admin_ui, "overview_attention")
    assert '<li data-kind="rejected"><span class="badge failed">rejected</span>' in attention
    assert "rejected: 1 check failed: 1 file, not 3" in attention
