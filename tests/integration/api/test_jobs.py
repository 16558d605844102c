"""/jobs through the HTTP API: create, priorities and places, filters, cancel, idempotency, runs."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from jobsched.adapters.dynamodb import Dynamo
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobRun, JobStatus, JobTemplate, RunStatus
from jobsched.ports import Stores
from tests.support.api import (
    V2,
    all_pages,
    assert_problem,
    job_ids,
    post_job,
    post_template,
    queue,
    queue_ids,
    seed_job,
)


def assert_nothing_written(client: TestClient) -> None:
    assert client.get(f"{V2}/jobs").json()["items"] == []
    assert queue(client)["items"] == []


@pytest.fixture
def free_template(client: TestClient) -> str:
    """A template without a params schema."""
    post_template(client, "free")
    return "free"


# --- create -------------------------------------------------------------------------------------


def test_create_answers_the_proposed_job_shape(client: TestClient, echo_template: str) -> None:
    response = client.post(f"{V2}/jobs", json={"template_id": "echo"})

    assert response.status_code == 201
    job = response.json()
    assert job["job_id"].startswith("job_")
    assert job["template_id"] == "echo"
    assert job["template_name"] == "Echo"
    assert job["status"] == "queued"
    assert job["queue_position"] == 1
    assert job["priority"] == "normal"
    assert job["run"] is None
    assert job["group_id"] is None
    assert job["schedule_id"] is None
    assert job["attempt"] == 0
    assert job["finished_at"] is None
    assert job["idempotent_replay"] is False
    assert datetime.fromisoformat(job["created_at"]).tzinfo is not None
    assert "Idempotent-Replayed" not in response.headers
    fetched = client.get(f"{V2}/jobs/{job['job_id']}").json()
    assert fetched.pop("eta")["state"] == "estimated"  # GET /jobs/{id} adds its ETA
    assert fetched.pop("budget_wait") is None  # and the spent budget it waits for, if any
    assert fetched == {key: value for key, value in job.items() if key != "idempotent_replay"}


def test_params_are_the_defaults_merged_with_the_request(
    client: TestClient, echo_template: str
) -> None:
    assert post_job(client)["params"] == {"message": "hi", "count": 1}
    assert post_job(client, params={"count": 3})["params"] == {"message": "hi", "count": 3}
    both = post_job(client, params={"message": "yo", "count": 10})
    assert both["params"] == {"message": "yo", "count": 10}


def test_schema_violations_are_422_with_the_field_path(
    client: TestClient, echo_template: str
) -> None:
    cases = [
        ({"count": 0}, "params.count"),
        ({"count": "three"}, "params.count"),
        ({"count": 11}, "params.count"),
        ({"message": 5}, "params.message"),
        ({"extra": 1}, "params"),  # additionalProperties: false, reported on the object
    ]
    for params, field in cases:
        response = client.post(f"{V2}/jobs", json={"template_id": "echo", "params": params})
        body = assert_problem(response, 422, field=field)
        assert "schema" in body["detail"]
    assert_problem(client.post(f"{V2}/jobs", json={"template_id": "echo", "params": []}), 422)
    assert_nothing_written(client)


def test_params_over_64_kb_are_422_with_a_clear_message(
    client: TestClient, free_template: str
) -> None:
    response = client.post(
        f"{V2}/jobs", json={"template_id": "free", "params": {"blob": "x" * (64 * 1024)}}
    )

    body = assert_problem(response, 422, field="params")
    assert "64 KB" in body["detail"]
    assert "bytes" in body["detail"]
    assert_nothing_written(client)


def test_params_just_under_the_limit_are_accepted(client: TestClient, free_template: str) -> None:
    blob = "x" * (64 * 1024 - len('{"blob":""}'))
    assert post_job(client, "free", params={"blob": blob})["params"]["blob"] == blob


def test_deeply_nested_params_are_422(client: TestClient, free_template: str) -> None:
    deep: object = 1
    for _ in range(300):
        deep = {"a": deep}

    response = client.post(f"{V2}/jobs", json={"template_id": "free", "params": {"x": deep}})

    assert "levels" in assert_problem(response, 422, field="params")["detail"]
    assert_nothing_written(client)


@pytest.mark.parametrize(
    ("schema", "params"),
    [
        ({"$ref": "#/$defs/missing"}, {}),
        ({"properties": {"a": {"$ref": "https://example.com/remote.json"}}}, {"a": 1}),
        ({"$ref": "#/$defs/loop", "$defs": {"loop": {"$ref": "#/$defs/loop"}}}, {}),
    ],
)
def test_a_schema_that_cannot_be_applied_is_422_not_500(
    client: TestClient, stores: Stores, schema: dict[str, object], params: dict[str, object]
) -> None:
    """The schema passes the meta-schema but fails when applied; the job is refused cleanly.
    (Saved through the store: the API refuses at save a schema that fails on the defaults.)"""
    stores.templates.create(
        JobTemplate(template_id="odd", name="Odd", workload="echo", params_schema=schema)
    )

    response = client.post(f"{V2}/jobs", json={"template_id": "odd", "params": params})

    assert "cannot be checked" in assert_problem(response, 422, field="params")["detail"]
    assert_nothing_written(client)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/$defs/missing"},
        {"$ref": "#/$defs/loop", "$defs": {"loop": {"$ref": "#/$defs/loop"}}},
    ],
)
def test_a_schema_that_cannot_be_applied_to_the_defaults_is_422_at_save(
    client: TestClient, schema: dict[str, object]
) -> None:
    response = client.post(
        f"{V2}/templates",
        json={"template_id": "odd", "name": "Odd", "workload": "echo", "params_schema": schema},
    )

    assert "cannot be checked" in assert_problem(response, 422, field="params_schema")["detail"]


def test_unknown_template_is_404(client: TestClient) -> None:
    body = assert_problem(client.post(f"{V2}/jobs", json={"template_id": "nope"}), 404)
    assert "nope" in body["detail"]
    assert_nothing_written(client)


def test_bad_bodies_are_422(client: TestClient, echo_template: str) -> None:
    cases = [
        ({}, "template_id"),
        ({"template_id": ""}, "template_id"),
        ({"template_id": "echo", "colour": "red"}, "colour"),
        ({"template_id": "echo", "position": 0}, "position"),
        ({"template_id": "echo", "position": "first"}, "position"),
        ({"template_id": "echo", "params": "count=1"}, "params"),
    ]
    for body, field in cases:
        assert_problem(client.post(f"{V2}/jobs", json=body), 422, field=field)
    assert_nothing_written(client)


def test_schedule_id_in_the_body_is_rejected(client: TestClient, echo_template: str) -> None:
    """Only a schedule's fire sets schedule_id; a client cannot claim one."""
    response = client.post(f"{V2}/jobs", json={"template_id": "echo", "schedule_id": "sch_1"})

    assert_problem(response, 422, field="schedule_id")
    assert_nothing_written(client)


PRIORITY_FORMS = [
    ("low", "low"),
    ("normal", "normal"),
    ("high", "high"),
    ("immediate", "immediate"),
    ("HIGH", "high"),
    (0, 0),
    (37, 37),
    (100, 100),
    (75, "high"),
    ("42", 42),
]


def test_priority_forms(client: TestClient, echo_template: str) -> None:
    for given, shown in PRIORITY_FORMS:
        job = post_job(client, priority=given)
        assert job["priority"] == shown, given
        assert client.get(f"{V2}/jobs/{job['job_id']}").json()["priority"] == shown


def test_bad_priorities_are_422(client: TestClient, echo_template: str) -> None:
    for bad in [101, -1, "urgent", "", True, False, 2.5, None, [], {"level": "high"}]:
        response = client.post(f"{V2}/jobs", json={"template_id": "echo", "priority": bad})
        assert_problem(response, 422, field="priority")
    assert_nothing_written(client)


def test_position_places_the_job(client: TestClient, echo_template: str) -> None:
    a, b, c = (post_job(client)["job_id"] for _ in range(3))

    first = post_job(client, position=1)
    third = post_job(client, position=3)
    past_the_end = post_job(client, position=99)

    assert first["queue_position"] == 1
    assert third["queue_position"] == 3
    assert past_the_end["queue_position"] == 6
    expected = [first["job_id"], a, third["job_id"], b, c, past_the_end["job_id"]]
    assert queue_ids(client) == expected
    assert [item["position"] for item in queue(client)["items"]] == [1, 2, 3, 4, 5, 6]


def test_a_position_alone_takes_the_priority_of_the_place(
    client: TestClient, echo_template: str
) -> None:
    high = post_job(client, priority="high")["job_id"]
    normal = post_job(client)["job_id"]

    at_front = post_job(client, position=1)

    assert (at_front["queue_position"], at_front["priority"]) == (1, "high")
    assert queue_ids(client) == [at_front["job_id"], high, normal]


def test_a_priority_and_a_position_that_disagree_are_refused_never_dropped(
    client: TestClient, echo_template: str
) -> None:
    """Both were asked for: the answer says which positions that priority can take."""
    high = post_job(client, priority="high")["job_id"]
    normal = [post_job(client)["job_id"] for _ in range(2)]

    body = assert_problem(
        client.post(
            f"{V2}/jobs", json={"template_id": echo_template, "priority": "low", "position": 1}
        ),
        422,
        "position",
    )
    assert "position 1 lies among high jobs" in body["detail"]
    assert "a low job can take positions 4 to 4" in body["detail"]
    assert_problem(
        client.post(
            f"{V2}/jobs", json={"template_id": echo_template, "priority": "normal", "position": 1}
        ),
        422,
        "position",
    )
    assert queue_ids(client) == [high, *normal]  # nothing written

    within = post_job(client, priority="normal", position=2)
    assert (within["queue_position"], within["priority"]) == (2, "normal")


# --- read and list ------------------------------------------------------------------------------


def test_get_one_and_unknown(client: TestClient, echo_template: str) -> None:
    job = post_job(client)
    assert client.get(f"{V2}/jobs/{job['job_id']}").json()["job_id"] == job["job_id"]
    assert "job_missing" in assert_problem(client.get(f"{V2}/jobs/job_missing"), 404)["detail"]


def test_get_shows_the_latest_run(client: TestClient, stores: Stores, dynamo: Dynamo) -> None:
    started = datetime(2026, 1, 18, 10, 0, tzinfo=UTC)
    run = JobRun(
        run_id="run_1",
        job_id="job_done",
        template_id="echo",
        status=RunStatus.COMPLETED,
        started_at=started,
        finished_at=started.replace(minute=5),
        exit_code=0,
        pid=42,
    )
    stores.runs.put(run)
    seed_job(dynamo, "job_done", JobStatus.FINISHED, last_run_id="run_1", attempt=1)

    job = client.get(f"{V2}/jobs/job_done").json()

    assert job["status"] == "finished"
    assert job["queue_position"] is None
    assert job["template_name"] == "echo"  # no such template stored: the id stands in
    assert job["run"] == {
        "run_id": "run_1",
        "status": "completed",
        "attempt": 1,
        "started_at": "2026-01-18T10:00:00.000000Z",
        "finished_at": "2026-01-18T10:05:00.000000Z",
        "pid": 42,
        "exit_code": 0,
    }


def test_list_filters(
    client: TestClient, stores: Stores, echo_template: str, free_template: str
) -> None:
    echo_1 = post_job(client)["job_id"]
    free_1 = post_job(client, "free")["job_id"]
    cancelled = post_job(client)["job_id"]
    client.post(f"{V2}/jobs/{cancelled}/cancel")
    group = client.post(
        f"{V2}/groups", json={"jobs": [{"template_id": "echo"}, {"template_id": "free"}]}
    ).json()
    scheduled, _ = enqueue(stores, JobCreate(template_id="echo", schedule_id="sch_daily"))

    everything = set(job_ids(client))
    assert everything == {echo_1, free_1, cancelled, *group["job_ids"], scheduled.job_id}
    assert set(job_ids(client, status="cancelled")) == {cancelled}
    assert set(job_ids(client, status="QUEUED")) == everything - {cancelled}
    assert set(job_ids(client, template_id="free")) == {free_1, group["job_ids"][1]}
    assert set(job_ids(client, group_id=group["group_id"])) == set(group["job_ids"])
    assert job_ids(client, schedule_id="sch_daily") == [scheduled.job_id]
    assert client.get(f"{V2}/jobs/{scheduled.job_id}").json()["schedule_id"] == "sch_daily"
    assert set(job_ids(client, template_id="echo", status="queued")) == {
        echo_1,
        group["job_ids"][0],
        scheduled.job_id,
    }
    assert job_ids(client, template_id="echo", group_id=group["group_id"]) == [group["job_ids"][0]]
    assert job_ids(client, template_id="nope") == []
    assert job_ids(client, schedule_id="sch_other") == []


def test_list_rejects_bad_filters(reader: TestClient) -> None:
    assert_problem(reader.get(f"{V2}/jobs", params={"status": "done"}), 422, "query.status")
    for name in ("template_id", "group_id", "schedule_id"):
        assert_problem(reader.get(f"{V2}/jobs", params={name: ""}), 422, f"query.{name}")
    assert_problem(reader.get(f"{V2}/jobs", params={"cursor": "not-a-cursor"}), 422, "cursor")


def test_list_pages_newest_first(client: TestClient, echo_template: str) -> None:
    created = [post_job(client)["job_id"] for _ in range(5)]

    pages = all_pages(client, f"{V2}/jobs", limit=2)

    assert [len(page) for page in pages][:3] == [2, 2, 1]
    seen = [job["job_id"] for page in pages for job in page]
    assert seen == created[::-1]

    filtered = all_pages(client, f"{V2}/jobs", limit=2, status="queued", template_id="echo")
    assert [job["job_id"] for page in filtered for job in page] == created[::-1]


# --- cancel -------------------------------------------------------------------------------------


def test_cancel_a_queued_job(client: TestClient, echo_template: str) -> None:
    keep = post_job(client)["job_id"]
    job_id = post_job(client)["job_id"]

    response = client.post(f"{V2}/jobs/{job_id}/cancel")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["queue_position"] is None
    assert body["finished_at"] is not None
    assert queue_ids(client) == [keep]
    assert client.get(f"{V2}/jobs/{job_id}").json()["status"] == "cancelled"


def test_cancel_twice_is_409_and_unknown_is_404(client: TestClient, echo_template: str) -> None:
    job_id = post_job(client)["job_id"]
    client.post(f"{V2}/jobs/{job_id}/cancel")

    assert "cancelled" in assert_problem(client.post(f"{V2}/jobs/{job_id}/cancel"), 409)["detail"]
    assert_problem(client.post(f"{V2}/jobs/job_missing/cancel"), 404)


def test_cancel_of_a_finished_or_running_job_is_409(client: TestClient, dynamo: Dynamo) -> None:
    seed_job(dynamo, "job_done", JobStatus.FINISHED)
    seed_job(dynamo, "job_busy", JobStatus.RUNNING)

    assert_problem(client.post(f"{V2}/jobs/job_done/cancel"), 409)
    assert_problem(client.post(f"{V2}/jobs/job_busy/cancel"), 409)
    assert client.get(f"{V2}/jobs/job_busy").json()["status"] == "running"


def test_scopes(reader: TestClient, writer: TestClient, echo_template: str) -> None:
    assert_problem(reader.post(f"{V2}/jobs", json={"template_id": "echo"}), 403)
    job_id = post_job(writer)["job_id"]
    assert_problem(reader.post(f"{V2}/jobs/{job_id}/cancel"), 403)
    assert reader.get(f"{V2}/jobs/{job_id}").json()["status"] == "queued"
    assert writer.post(f"{V2}/jobs/{job_id}/cancel").status_code == 200


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_same_key_and_body_returns_the_same_job(client: TestClient, echo_template: str) -> None:
    body = {"template_id": "echo", "params": {"count": 2}, "priority": "high"}
    headers = {"Idempotency-Key": "order-42"}

    first = client.post(f"{V2}/jobs", json=body, headers=headers)
    second = client.post(f"{V2}/jobs", json=body, headers=headers)

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["job_id"] == first.json()["job_id"]
    assert second.json()["idempotent_replay"] is True
    assert job_ids(client) == [first.json()["job_id"]]
    assert queue_ids(client) == [first.json()["job_id"]]


def test_same_key_with_another_body_is_409(client: TestClient, echo_template: str) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = client.post(f"{V2}/jobs", json={"template_id": "echo"}, headers=headers).json()

    other = client.post(
        f"{V2}/jobs", json={"template_id": "echo", "params": {"count": 9}}, headers=headers
    )

    assert "Idempotency-Key" in assert_problem(other, 409)["detail"]
    assert job_ids(client) == [first["job_id"]]


def test_another_key_makes_another_job(client: TestClient, echo_template: str) -> None:
    one = client.post(f"{V2}/jobs", json={"template_id": "echo"}, headers={"Idempotency-Key": "a"})
    two = client.post(f"{V2}/jobs", json={"template_id": "echo"}, headers={"Idempotency-Key": "b"})

    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["job_id"] != two.json()["job_id"]


def test_a_rejected_request_does_not_use_up_the_key(client: TestClient, echo_template: str) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    bad = client.post(
        f"{V2}/jobs", json={"template_id": "echo", "params": {"count": 0}}, headers=headers
    )
    assert_problem(bad, 422)

    good = client.post(
        f"{V2}/jobs", json={"template_id": "echo", "params": {"count": 1}}, headers=headers
    )
    assert good.status_code == 201


def test_malformed_idempotency_keys_are_422(client: TestClient, echo_template: str) -> None:
    for key in ["", "has space", "x" * 256, "tab\there"]:
        response = client.post(
            f"{V2}/jobs", json={"template_id": "echo"}, headers={"Idempotency-Key": key}
        )
        assert_problem(response, 422, field="header.idempotency-key")
    assert_nothing_written(client)


# --- a job's runs -------------------------------------------------------------------------------


def test_runs_of_a_job(client: TestClient, stores: Stores, echo_template: str) -> None:
    job_id = post_job(client)["job_id"]
    other_id = post_job(client)["job_id"]
    assert client.get(f"{V2}/jobs/{job_id}/runs").json() == {"items": [], "next_cursor": None}

    for attempt, hour in ((1, 10), (2, 11)):
        stores.runs.put(
            JobRun(
                run_id=f"run_{attempt}",
                job_id=job_id,
                template_id="echo",
                status=RunStatus.FAILED if attempt == 1 else RunStatus.COMPLETED,
                attempt=attempt,
                started_at=datetime(2026, 1, 18, hour, tzinfo=UTC),
                error="boom" if attempt == 1 else None,
            )
        )
    stores.runs.put(JobRun(run_id="run_other", job_id=other_id, template_id="echo"))

    runs = client.get(f"{V2}/jobs/{job_id}/runs").json()["items"]

    assert [run["run_id"] for run in runs] == ["run_2", "run_1"]  # newest first
    assert runs[1]["status"] == "failed"
    assert runs[1]["error"] == "boom"
    assert runs[0]["job_id"] == job_id
    pages = all_pages(client, f"{V2}/jobs/{job_id}/runs", limit=1)
    assert [run["run_id"] for page in pages for run in page] == ["run_2", "run_1"]


def test_runs_of_an_unknown_job_is_404(client: TestClient) -> None:
    assert_problem(client.get(f"{V2}/jobs/job_missing/runs"), 404)


def test_ids_and_positions_are_capped(client: TestClient, echo_template: str) -> None:
    # DynamoDB refuses keys over 1-2 KB and a Limit past its range; we answer 422 first.
    long_id = "j" * 129
    assert_problem(client.get(f"{V2}/jobs/{long_id}"), 422, field="path.job_id")
    assert_problem(client.post(f"{V2}/jobs/{long_id}/cancel"), 422, field="path.job_id")
    body = {"template_id": "echo", "position": 100_001}
    assert_problem(client.post(f"{V2}/jobs", json=body), 422, field="position")
    body = {"template_id": "echo", "group_id": long_id}
    assert_problem(client.post(f"{V2}/jobs", json=body), 422, field="group_id")
    job_id = client.post(f"{V2}/jobs", json={"template_id": "echo"}).json()["job_id"]
    move = client.post(f"{V2}/queue/{job_id}/move", json={"before": long_id})
    assert_problem(move, 422, field="before")
    reorder = client.post(f"{V2}/queue/reorder", json={"job_ids": [job_id, long_id]})
    assert_problem(reorder, 422, field="job_ids.1")
    assert client.get(f"{V2}/jobs").json()["items"][0]["job_id"] == job_id  # one job only
    assert len(client.get(f"{V2}/jobs").json()["items"]) == 1
