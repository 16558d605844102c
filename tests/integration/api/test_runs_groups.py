"""/runs (the execution history) and /groups (jobs created, queued and cancelled together)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.models import JobRun, RunStatus
from jobsched.models.instants import rfc3339
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
)

T0 = datetime(2026, 1, 18, 8, 0, tzinfo=UTC)


def at(hours: int) -> str:
    return rfc3339(T0 + timedelta(hours=hours))


@pytest.fixture
def runs(stores: Stores) -> list[JobRun]:
    """Six runs an hour apart (run_0 oldest), over two jobs, two templates and a schedule."""
    specs = [
        ("job_a", "echo", None, RunStatus.COMPLETED),
        ("job_a", "echo", None, RunStatus.FAILED),
        ("job_b", "story", "sch_daily", RunStatus.COMPLETED),
        ("job_b", "story", "sch_daily", RunStatus.SKIPPED),
        ("job_c", "story", None, RunStatus.COMPLETED),
        ("job_c", "echo", "sch_daily", RunStatus.STARTED),
    ]
    seeded = []
    for n, (job_id, template_id, schedule_id, status) in enumerate(specs):
        started = T0 + timedelta(hours=n)
        run = JobRun(
            run_id=f"run_{n}",
            job_id=job_id,
            template_id=template_id,
            schedule_id=schedule_id,
            status=status,
            started_at=started,
            finished_at=None if status == RunStatus.STARTED else started + timedelta(minutes=5),
            exit_code=None if status == RunStatus.STARTED else int(status == RunStatus.FAILED),
            error="boom" if status == RunStatus.FAILED else None,
            artifacts=[f"s3://bucket/{job_id}/{n}.json"],
        )
        stores.runs.put(run)
        seeded.append(run)
    return seeded


def run_ids(client: TestClient, **query: object) -> list[str]:
    response = client.get(f"{V2}/runs", params={"limit": 200, **query})
    assert response.status_code == 200, response.text
    return [run["run_id"] for run in response.json()["items"]]


# --- runs ---------------------------------------------------------------------------------------


def test_runs_newest_first(reader: TestClient, runs: list[JobRun]) -> None:
    assert run_ids(reader) == [f"run_{n}" for n in range(5, -1, -1)]


def test_runs_filters(reader: TestClient, runs: list[JobRun]) -> None:
    assert run_ids(reader, status="completed") == ["run_4", "run_2", "run_0"]
    assert run_ids(reader, status="FAILED") == ["run_1"]
    assert run_ids(reader, job_id="job_b") == ["run_3", "run_2"]
    assert run_ids(reader, template_id="echo") == ["run_5", "run_1", "run_0"]
    assert run_ids(reader, schedule_id="sch_daily") == ["run_5", "run_3", "run_2"]
    assert run_ids(reader, since=at(3)) == ["run_5", "run_4", "run_3"]
    assert run_ids(reader, until=at(1)) == ["run_1", "run_0"]
    assert run_ids(reader, since=at(1), until=at(3)) == ["run_3", "run_2", "run_1"]
    assert run_ids(reader, since=at(2), until=at(2)) == ["run_2"]
    # another zone, the same instant
    assert run_ids(reader, since="2026-01-18T14:00:00+03:00") == ["run_5", "run_4", "run_3"]
    # filters combine
    assert run_ids(reader, template_id="story", status="completed") == ["run_4", "run_2"]
    assert run_ids(reader, job_id="job_c", template_id="echo") == ["run_5"]
    assert run_ids(reader, schedule_id="sch_daily", since=at(3), until=at(4)) == ["run_3"]
    assert run_ids(reader, status="completed", since=at(1)) == ["run_4", "run_2"]
    assert run_ids(reader, job_id="job_missing") == []
    assert run_ids(reader, since=at(10)) == []


def test_runs_cursor(reader: TestClient, runs: list[JobRun]) -> None:
    pages = all_pages(reader, f"{V2}/runs", limit=4)
    assert [run["run_id"] for page in pages for run in page] == [
        f"run_{n}" for n in range(5, -1, -1)
    ]
    assert [len(page) for page in pages] == [4, 2]

    filtered = all_pages(reader, f"{V2}/runs", limit=1, template_id="story", since=at(3))
    assert [run["run_id"] for page in filtered for run in page] == ["run_4", "run_3"]


def test_runs_bad_queries_are_422(reader: TestClient, runs: list[JobRun]) -> None:
    assert_problem(reader.get(f"{V2}/runs", params={"since": "2026-01-18T10:00:00"}), 422, "since")
    assert_problem(reader.get(f"{V2}/runs", params={"until": "2026-01-18T10:00:00"}), 422, "until")
    body = assert_problem(
        reader.get(f"{V2}/runs", params={"since": at(3), "until": at(1)}), 422, "until"
    )
    assert "before since" in body["detail"]
    assert_problem(reader.get(f"{V2}/runs", params={"since": "yesterday"}), 422, "query.since")
    assert_problem(reader.get(f"{V2}/runs", params={"status": "done"}), 422, "query.status")
    assert_problem(reader.get(f"{V2}/runs", params={"job_id": ""}), 422, "query.job_id")
    assert_problem(reader.get(f"{V2}/runs", params={"cursor": "%%%"}), 422, "cursor")


def test_get_run(reader: TestClient, runs: list[JobRun]) -> None:
    response = reader.get(f"{V2}/runs/run_1")

    assert response.status_code == 200
    assert response.json() == {
        "run_id": "run_1",
        "job_id": "job_a",
        "template_id": "echo",
        "template_version": None,  # a run made directly, without a job enqueued at a version
        "schedule_id": None,
        "group_id": None,
        "status": "failed",
        "attempt": 1,
        "started_at": at(1),
        "finished_at": rfc3339(T0 + timedelta(hours=1, minutes=5)),
        "pid": None,
        "task_arn": None,
        "exit_code": 1,
        "error": "boom",
        "artifacts": ["s3://bucket/job_a/1.json"],
        "log_path": None,
        "failed_checks": None,  # set on a rejected run only
        "usage": None,  # set once it ended, if its worker reported any
    }
    assert "run_missing" in assert_problem(reader.get(f"{V2}/runs/run_missing"), 404)["detail"]


# --- groups -------------------------------------------------------------------------------------


def post_group(client: TestClient, **body: object) -> dict[str, Any]:
    response = client.post(f"{V2}/groups", json=body)
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


def assert_no_group_written(client: TestClient) -> None:
    assert client.get(f"{V2}/groups").json()["items"] == []
    assert client.get(f"{V2}/jobs").json()["items"] == []
    assert queue(client)["items"] == []


def test_create_group_queues_its_jobs_together(client: TestClient, echo_template: str) -> None:
    before = post_job(client)["job_id"]
    group = post_group(
        client,
        name="nightly",
        mode="sequential",
        jobs=[
            {"template_id": "echo", "params": {"count": 2}},
            {"template_id": "echo"},
            {"template_id": "echo", "params": {"message": "last"}},
        ],
    )
    after = post_job(client)["job_id"]

    assert str(group["group_id"]).startswith("grp_")
    assert (group["name"], group["mode"], group["status"]) == ("nightly", "sequential", "queued")
    assert group["priority"] == "normal"
    members = group["job_ids"]
    assert len(members) == 3
    jobs = group["jobs"]
    assert [job["job_id"] for job in jobs] == members
    assert [job["params"] for job in jobs] == [
        {"message": "hi", "count": 2},
        {"message": "hi", "count": 1},
        {"message": "last", "count": 1},
    ]
    assert {(job["group_id"], job["status"]) for job in jobs} == {(group["group_id"], "queued")}
    assert [job["queue_position"] for job in jobs] == [2, 3, 4]
    assert queue_ids(client) == [before, *members, after]
    assert {item["group_id"] for item in queue(client)["items"][1:4]} == {group["group_id"]}
    assert job_ids(client, group_id=group["group_id"])[::-1] == members


def test_group_defaults_and_priority(client: TestClient, echo_template: str) -> None:
    normal = post_job(client)["job_id"]

    group = post_group(client, priority="high", jobs=[{"template_id": "echo"}] * 2)

    assert (group["mode"], group["on_failure"], group["name"]) == ("parallel", "continue", None)
    assert group["priority"] == "high"
    assert queue_ids(client) == [*group["job_ids"], normal]
    assert {item["priority"] for item in queue(client)["items"][:2]} == {"high"}


def test_group_of_several_templates(client: TestClient, echo_template: str) -> None:
    post_template(client, "other")
    group = post_group(client, jobs=[{"template_id": "other"}, {"template_id": "echo"}])
    assert [job["template_id"] for job in group["jobs"]] == ["other", "echo"]


def test_bad_params_in_one_job_reject_the_whole_group(
    client: TestClient, echo_template: str
) -> None:
    response = client.post(
        f"{V2}/groups",
        json={"jobs": [{"template_id": "echo"}, {"template_id": "echo", "params": {"count": 0}}]},
    )

    body = assert_problem(response, 422, field="jobs.1.params.count")
    assert "jobs.1.params.count" in body["detail"]
    assert_no_group_written(client)


def test_bad_groups_are_422(client: TestClient, echo_template: str) -> None:
    one = [{"template_id": "echo"}]
    cases = [
        ({"jobs": [{"template_id": "echo"}] * 41}, "jobs"),
        ({"jobs": []}, "jobs"),
        ({}, "jobs"),
        ({"mode": "random", "jobs": one}, "mode"),
        ({"priority": "urgent", "jobs": one}, "priority"),
        ({"max_parallel": 0, "jobs": one}, "max_parallel"),
        ({"jobs": one, "colour": "red"}, "colour"),
        ({"jobs": [{"template_id": "echo", "priority": "high"}]}, "jobs.0.priority"),
        ({"jobs": [{"template_id": ""}]}, "jobs.0.template_id"),
        ({"jobs": [{"template_id": "echo", "params": {"blob": "x" * 70_000}}]}, "jobs.0.params"),
    ]
    for body, field in cases:
        assert_problem(client.post(f"{V2}/groups", json=body), 422, field=field)
    assert_problem(client.post(f"{V2}/groups", json={"jobs": [{"template_id": "nope"}]}), 404)
    assert_no_group_written(client)


def test_a_group_of_40_jobs_is_one_write(client: TestClient, echo_template: str) -> None:
    group = post_group(client, jobs=[{"template_id": "echo"}] * 40)
    assert queue_ids(client) == group["job_ids"]


def test_get_and_list_groups(client: TestClient, echo_template: str) -> None:
    first = post_group(client, name="one", jobs=[{"template_id": "echo"}])
    second = post_group(client, name="two", jobs=[{"template_id": "echo"}])

    got = client.get(f"{V2}/groups/{first['group_id']}")
    assert got.status_code == 200
    # What only the create's answer holds: its jobs, warnings and whether it was a replay.
    create_only = {"jobs", "warnings", "idempotent_replay"}
    assert got.json() == {key: value for key, value in first.items() if key not in create_only}
    assert_problem(client.get(f"{V2}/groups/grp_missing"), 404)

    pages = all_pages(client, f"{V2}/groups", limit=1)
    listed = [group["group_id"] for page in pages for group in page]
    assert listed == [second["group_id"], first["group_id"]]  # newest first


def test_cancel_group(client: TestClient, echo_template: str) -> None:
    outsider = post_job(client)["job_id"]
    group = post_group(client, jobs=[{"template_id": "echo"}] * 3)
    members = group["job_ids"]
    client.post(f"{V2}/jobs/{members[1]}/cancel")  # one already cancelled on its own

    response = client.post(f"{V2}/groups/{group['group_id']}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["finished_at"] is not None
    statuses = {client.get(f"{V2}/jobs/{job_id}").json()["status"] for job_id in members}
    assert statuses == {"cancelled"}
    assert queue_ids(client) == [outsider]
    assert client.get(f"{V2}/groups/{group['group_id']}").json()["status"] == "cancelled"

    assert_problem(client.post(f"{V2}/groups/{group['group_id']}/cancel"), 409)
    assert_problem(client.post(f"{V2}/groups/grp_missing/cancel"), 404)


def test_jobs_join_only_open_groups(client: TestClient, echo_template: str) -> None:
    group = post_group(client, jobs=[{"template_id": "echo"}])

    joined = post_job(client, group_id=group["group_id"])
    assert joined["group_id"] == group["group_id"]
    members = client.get(f"{V2}/groups/{group['group_id']}").json()["job_ids"]
    assert members == [*group["job_ids"], joined["job_id"]]

    assert_problem(
        client.post(f"{V2}/jobs", json={"template_id": "echo", "group_id": "grp_x"}), 404
    )
    client.post(f"{V2}/groups/{group['group_id']}/cancel")
    late = client.post(f"{V2}/jobs", json={"template_id": "echo", "group_id": group["group_id"]})
    assert_problem(late, 409)
    assert len(job_ids(client)) == 2


def test_group_scopes(reader: TestClient, writer: TestClient, echo_template: str) -> None:
    assert_problem(reader.post(f"{V2}/groups", json={"jobs": [{"template_id": "echo"}]}), 403)
    group = post_group(writer, jobs=[{"template_id": "echo"}])
    assert_problem(reader.post(f"{V2}/groups/{group['group_id']}/cancel"), 403)
    assert reader.get(f"{V2}/groups/{group['group_id']}").json()["status"] == "queued"
    assert writer.post(f"{V2}/groups/{group['group_id']}/cancel").status_code == 200
