"""The legacy job API (v1) over HTTP: the spec's "Current" shapes, statuses derived from Job +
JobRun, the _scheduler block, batches as groups, cancel, and the deprecation headers, under both
the unprefixed paths and /api/v1."""

import logging
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.legacy.deprecation import DeprecationPolicy
from jobsched.adapters.dynamodb import Dynamo
from jobsched.jobs.seed import DEFAULT_MODEL, seed_default_templates
from jobsched.models import GroupStatus, JobRun, JobStatus, RunStatus
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem, queue_ids, seed_job

PREFIXES = ["", "/api/v1"]
STORY_BODY = {"max_stories": 1, "enable_dedup": True, "model": DEFAULT_MODEL}  # spec "Current"
LEGACY_JOB_KEYS = {"job_id", "type", "status", "pid", "created_at"}  # spec "Current" response
LEGACY_BATCH_KEYS = {"batch_id", "job_ids", "status", "webhook_url", "created_at"}


@pytest.fixture(autouse=True)
def templates(stores: Stores) -> None:
    seed_default_templates(stores)


@pytest.fixture(params=PREFIXES, ids=["unprefixed", "v1"])
def prefix(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def assert_deprecated(response: Response) -> None:
    assert response.headers["deprecation"].startswith("@")
    int(response.headers["deprecation"][1:])  # RFC 9745: @<epoch seconds>
    sunset = parsedate_to_datetime(response.headers["sunset"])  # an HTTP date
    assert sunset > datetime.now(UTC)
    assert 'rel="deprecation"' in response.headers["link"]
    assert "migration.md" in response.headers["link"]


def ok(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert_deprecated(response)
    body: dict[str, Any] = response.json()
    return body


# --- triggers -----------------------------------------------------------------------------------


def test_story_trigger_takes_the_current_body_and_answers_the_current_shape(
    client: TestClient, prefix: str
) -> None:
    job = ok(client.post(f"{prefix}/jobs/story/trigger", json=STORY_BODY))

    assert job.keys() >= LEGACY_JOB_KEYS
    assert job["job_id"].startswith("job_")
    assert job["type"] == "story_generation"
    assert job["status"] == "queued"
    assert job["pid"] is None
    assert datetime.fromisoformat(job["created_at"]).tzinfo is not None
    assert job["params"] == STORY_BODY
    assert job["priority"] == "immediate"  # spec phase 2: legacy triggers keep their urgency
    assert job["queue_position"] == 1
    v2 = client.get(f"{V2}/jobs/{job['job_id']}").json()
    assert v2["template_id"] == "story_generation"
    assert v2["params"] == STORY_BODY
    assert v2["priority"] == "immediate"
    assert job["template_version"] == v2["template_version"] == 1  # the seeded template's first


def test_legacy_triggers_go_ahead_of_normal_jobs(client: TestClient) -> None:
    normal = client.post(f"{V2}/jobs", json={"template_id": "echo"}).json()["job_id"]
    legacy = ok(client.post("/jobs/story/trigger", json={}))["job_id"]

    assert queue_ids(client) == [legacy, normal]


def test_research_trigger(client: TestClient, prefix: str) -> None:
    body = {"topic": "tidal energy", "max_cards": 3, "model": DEFAULT_MODEL}
    job = ok(client.post(f"{prefix}/jobs/research/trigger", json=body))

    assert job["type"] == "research"
    assert job["params"] == body


def test_trigger_params_merge_the_template_defaults(client: TestClient) -> None:
    job = ok(client.post("/jobs/story/trigger", json={"max_stories": 3}))

    assert job["params"] == {"max_stories": 3, "enable_dedup": True, "model": DEFAULT_MODEL}


def test_the_scheduler_block_is_honoured(client: TestClient, prefix: str) -> None:
    body = {
        "message": "from v1",
        "_scheduler": {"priority": "normal", "template_id": "echo"},
    }
    job = ok(client.post(f"{prefix}/jobs/story/trigger", json=body))

    assert job["type"] == "echo"
    assert job["priority"] == "normal"
    assert job["params"]["message"] == "from v1"
    assert "_scheduler" not in job["params"]


def test_job_type_is_an_alias_of_template_id(client: TestClient) -> None:
    top = ok(client.post("/jobs/story/trigger", json={"job_type": "echo", "message": "a"}))
    inner = ok(
        client.post("/jobs/story/trigger", json={"_scheduler": {"job_type": "echo", "priority": 7}})
    )

    assert top["type"] == inner["type"] == "echo"
    assert "job_type" not in top["params"]
    assert inner["priority"] == 7


def test_trigger_errors_are_problems_with_the_headers(client: TestClient) -> None:
    cases = [
        ({"max_stories": 0}, "params.max_stories"),  # the template's schema
        ({"no_such_param": 1}, "params"),
        ({"_scheduler": {"priority": "urgent"}}, "_scheduler.priority"),
        ({"_scheduler": {"bogus": 1}}, "_scheduler.bogus"),
        ({"job_type": "echo", "_scheduler": {"template_id": "research"}}, "job_type"),
    ]
    for body, field in cases:
        response = client.post("/jobs/story/trigger", json=body)
        assert_problem(response, 422, field)
        assert_deprecated(response)
    unknown = client.post("/jobs/story/trigger", json={"job_type": "nope"})
    assert_problem(unknown, 404)
    assert_deprecated(unknown)
    assert client.get(f"{V2}/jobs").json()["items"] == []


def test_research_needs_its_topic(client: TestClient) -> None:
    assert_problem(client.post("/jobs/research/trigger", json={}), 422, "params")


# --- batches ------------------------------------------------------------------------------------


def test_batch_trigger_creates_a_parallel_group(client: TestClient, prefix: str) -> None:
    body = {
        "jobs": [
            {"job_type": "story_generation", "params": {"max_stories": 2}},
            {"template_id": "research", "params": {"topic": "kelp"}},
        ],
        "webhook_url": "https://hooks.example.com/batch",
    }
    batch = ok(client.post(f"{prefix}/jobs/batch/trigger", json=body))

    assert batch.keys() >= LEGACY_BATCH_KEYS
    assert batch["batch_id"].startswith("grp_")
    assert batch["status"] == "queued"
    assert batch["webhook_url"] == "https://hooks.example.com/batch"
    assert [job["type"] for job in batch["jobs"]] == ["story_generation", "research"]
    assert [job["job_id"] for job in batch["jobs"]] == batch["job_ids"]
    assert {job["batch_id"] for job in batch["jobs"]} == {batch["batch_id"]}
    group = client.get(f"{V2}/groups/{batch['batch_id']}").json()
    assert group["mode"] == "parallel"
    assert group["priority"] == "immediate"
    assert group["job_ids"] == batch["job_ids"]

    again = ok(client.get(f"{prefix}/jobs/batch/{batch['batch_id']}"))
    assert again["job_ids"] == batch["job_ids"]
    assert again["webhook_url"] == body["webhook_url"]


def test_batch_takes_the_scheduler_block(client: TestClient) -> None:
    body = {"jobs": [{"job_type": "echo"}], "_scheduler": {"priority": "low"}}
    batch = ok(client.post("/jobs/batch/trigger", json=body))

    assert batch["jobs"][0]["priority"] == "low"


def test_batch_errors(client: TestClient) -> None:
    for body, field in [
        ({"jobs": []}, "jobs"),
        ({"jobs": [{"params": {}}]}, "jobs.0.job_type"),
        ({"jobs": [{"job_type": "echo", "template_id": "research"}]}, "jobs.0.job_type"),
        ({"jobs": [{"job_type": "story_generation", "params": {"max_stories": 0}}]}, None),
    ]:
        response = client.post("/jobs/batch/trigger", json=body)
        assert_problem(response, 422, field)
        assert_deprecated(response)
    missing = client.get("/jobs/batch/grp_missing")
    assert_problem(missing, 404)
    assert_deprecated(missing)


def test_a_finished_batch_reads_as_succeeded_or_failed(
    client: TestClient, stores: Stores, dynamo: Dynamo
) -> None:
    batch = ok(client.post("/jobs/batch/trigger", json={"jobs": [{"job_type": "echo"}]}))
    group = stores.groups.get(batch["batch_id"])
    for status, legacy in [(GroupStatus.COMPLETED, "succeeded"), (GroupStatus.PARTIAL, "failed")]:
        stores.groups.set_status(group.model_copy(update={"status": status}))
        assert ok(client.get(f"/jobs/batch/{group.group_id}"))["status"] == legacy


# --- status from Job + JobRun -------------------------------------------------------------------


def seed(
    stores: Stores,
    dynamo: Dynamo,
    job_id: str,
    status: JobStatus,
    run: RunStatus | None = None,
    **fields: Any,
) -> None:
    if run is not None:
        stores.runs.put(
            JobRun(
                run_id=f"run_{job_id}",
                job_id=job_id,
                template_id="story_generation",
                status=run,
                pid=4242,
                exit_code=None if run == RunStatus.STARTED else 0,
            )
        )
        fields["last_run_id"] = f"run_{job_id}"
    seed_job(dynamo, job_id, status, template_id="story_generation", **fields)


LATER = datetime.now(UTC) + timedelta(hours=1)
STATES: list[tuple[str, JobStatus, RunStatus | None, dict[str, Any], str]] = [
    ("job_created", JobStatus.QUEUED, RunStatus.FAILED, {"not_before": LATER}, "created"),
    ("job_queued", JobStatus.QUEUED, None, {}, "queued"),
    ("job_retry", JobStatus.QUEUED, RunStatus.FAILED, {}, "queued"),
    ("job_running", JobStatus.RUNNING, RunStatus.STARTED, {}, "running"),
    ("job_succeeded", JobStatus.FINISHED, RunStatus.COMPLETED, {}, "succeeded"),
    ("job_failed", JobStatus.FINISHED, RunStatus.FAILED, {}, "failed"),
    ("job_norun", JobStatus.FINISHED, None, {}, "failed"),
    ("job_cancelled", JobStatus.CANCELLED, None, {}, "cancelled"),
]


@pytest.mark.parametrize(("job_id", "status", "run", "fields", "legacy"), STATES)
def test_legacy_status_from_job_and_run(
    reader: TestClient,
    stores: Stores,
    dynamo: Dynamo,
    prefix: str,
    job_id: str,
    status: JobStatus,
    run: RunStatus | None,
    fields: dict[str, Any],
    legacy: str,
) -> None:
    seed(stores, dynamo, job_id, status, run, **fields)

    job = ok(reader.get(f"{prefix}/jobs/{job_id}"))

    assert job.keys() >= LEGACY_JOB_KEYS
    assert job["status"] == legacy
    assert job["type"] == "story_generation"
    assert job["pid"] == (4242 if run else None)
    assert job["run_id"] == (f"run_{job_id}" if run else None)


def test_list_jobs_with_legacy_statuses_and_type(
    reader: TestClient, stores: Stores, dynamo: Dynamo, prefix: str
) -> None:
    for job_id, status, run, fields, _ in STATES:
        seed(stores, dynamo, job_id, status, run, **fields)

    everything = ok(reader.get(f"{prefix}/jobs", params={"limit": 200}))
    assert everything["count"] == len(STATES)
    assert {job["job_id"]: job["status"] for job in everything["jobs"]} == {
        job_id: legacy for job_id, *_, legacy in STATES
    }
    for legacy in ("created", "queued", "running", "succeeded", "failed", "cancelled"):
        page = ok(reader.get(f"{prefix}/jobs", params={"status": legacy}))
        expected = {job_id for job_id, *_, want in STATES if want == legacy}
        assert {job["job_id"] for job in page["jobs"]} == expected, legacy
    assert ok(reader.get(f"{prefix}/jobs", params={"type": "research"}))["jobs"] == []
    assert_problem(reader.get(f"{prefix}/jobs", params={"status": "finished"}), 422, "query.status")


def test_unknown_job_is_a_404_with_the_headers(reader: TestClient, prefix: str) -> None:
    response = reader.get(f"{prefix}/jobs/job_missing")
    assert_problem(response, 404)
    assert_deprecated(response)


# --- cancel -------------------------------------------------------------------------------------


def test_cancel_a_queued_job(client: TestClient, prefix: str) -> None:
    job_id = ok(client.post(f"{prefix}/jobs/story/trigger", json={}))["job_id"]

    cancelled = ok(client.post(f"{prefix}/jobs/{job_id}/cancel"))

    assert cancelled["status"] == "cancelled"
    assert queue_ids(client) == []
    again = client.post(f"{prefix}/jobs/{job_id}/cancel")
    assert_problem(again, 409)
    assert_deprecated(again)


# --- auth, headers and the log ------------------------------------------------------------------


def test_scopes(reader: TestClient, writer: TestClient, prefix: str) -> None:
    for path in ("/jobs/story/trigger", "/jobs/batch/trigger", "/jobs/job_x/cancel"):
        response = reader.post(f"{prefix}{path}", json={})
        assert_problem(response, 403)
        assert_deprecated(response)
    job = ok(writer.post(f"{prefix}/jobs/story/trigger", json={}))
    ok(writer.get(f"{prefix}/jobs/{job['job_id']}"))  # write implies read
    ok(reader.get(f"{prefix}/jobs/{job['job_id']}"))


def test_no_key_is_a_401_with_the_headers(client: TestClient, prefix: str) -> None:
    anonymous = TestClient(client.app, raise_server_exceptions=False)
    response = anonymous.get(f"{prefix}/jobs")
    assert_problem(response, 401)
    assert_deprecated(response)


def test_scheduler_routes_carry_no_deprecation(client: TestClient) -> None:
    response = client.get(f"{V2}/jobs")
    assert response.status_code == 200
    assert "deprecation" not in response.headers
    assert "sunset" not in response.headers


def test_the_headers_come_from_the_configured_policy(client: TestClient) -> None:
    client.app.state.deprecation = DeprecationPolicy(  # type: ignore[attr-defined]
        deprecated_at=datetime(2026, 1, 18, tzinfo=UTC),
        sunset_at=datetime(2027, 6, 30, tzinfo=UTC),
        migration_url="https://example.com/docs/migration.md",
    )
    response = client.get("/jobs")

    assert (
        response.headers["deprecation"] == f"@{int(datetime(2026, 1, 18, tzinfo=UTC).timestamp())}"
    )
    assert response.headers["sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert response.headers["link"] == '<https://example.com/docs/migration.md>; rel="deprecation"'


def test_each_call_logs_a_deprecation_warning_without_the_key(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    with caplog.at_level(logging.WARNING, logger="jobsched.legacy"):
        ok(client.post("/api/v1/jobs/story/trigger", json={}))
        ok(client.get("/jobs"))

    records = [r for r in caplog.records if r.name == "jobsched.legacy"]
    assert len(records) == 2
    first = records[0]
    assert first.levelno == logging.WARNING
    assert first.__dict__["route"] == "/jobs/story/trigger"
    assert first.__dict__["path"] == "/api/v1/jobs/story/trigger"
    assert first.__dict__["method"] == "POST"
    assert first.__dict__["status"] == 200
    assert first.__dict__["key_id"] == token.split("_", 2)[1]
    for record in records:
        assert token not in str(record.__dict__)
        assert token.split("_", 2)[2] not in str(record.__dict__)


def test_openapi_marks_the_legacy_routes_deprecated(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/jobs/story/trigger", "/api/v1/jobs/story/trigger"):
        assert paths[path]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/api/v2/jobs"]["post"]
