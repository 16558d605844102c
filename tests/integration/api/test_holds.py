"""POST /jobs/{id}/hold and /release through the HTTP API, on both prefixes; the legacy view of
a held job."""

import pytest
from fastapi.testclient import TestClient

from jobsched.models import JobStatus
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem, post_job, queue

SCHEDULER = "/scheduler"


def hold(client: TestClient, job_id: str, prefix: str = V2, **body: object) -> dict[str, object]:
    response = client.post(f"{prefix}/jobs/{job_id}/hold", json=body or None)
    assert response.status_code == 200, response.text
    shown: dict[str, object] = response.json()
    return shown


@pytest.mark.usefixtures("echo_template")
def test_a_held_job_shows_its_hold_and_keeps_its_place_in_the_queue(client: TestClient) -> None:
    first = post_job(client)["job_id"]
    second = post_job(client)["job_id"]
    shown = hold(client, first, note="until the data lands")
    assert shown["status"] == "held"
    assert shown["queue_position"] == 1
    held = shown["hold"]
    assert isinstance(held, dict)
    assert held["note"] == "until the data lands"
    assert held["held_by"]
    assert held["held_by_name"] == "test"
    assert "jsk_" not in str(held)  # the key's id and name, never its secret
    items = queue(client)["items"]
    assert [(item["job_id"], item["held"]) for item in items] == [(first, True), (second, False)]
    assert items[0]["hold"]["note"] == "until the data lands"
    listed = client.get(f"{V2}/jobs", params={"status": "held"}).json()["items"]
    assert [job["job_id"] for job in listed] == [first]
    stats = client.get(f"{V2}/queue/stats").json()
    assert stats["counts_by_status"]["held"] == 1


@pytest.mark.usefixtures("echo_template")
def test_release_on_the_scheduler_prefix_queues_the_job_again(client: TestClient) -> None:
    job_id = post_job(client)["job_id"]
    hold(client, job_id, SCHEDULER)
    response = client.post(f"{SCHEDULER}/jobs/{job_id}/release")
    assert response.status_code == 200, response.text
    shown = response.json()
    assert (shown["status"], shown["hold"], shown["queue_position"]) == ("queued", None, 1)


@pytest.mark.usefixtures("echo_template")
def test_wrong_states_are_409_problems_and_unknown_jobs_404(client: TestClient) -> None:
    job_id = post_job(client)["job_id"]
    body = assert_problem(client.post(f"{V2}/jobs/{job_id}/release"), 409)
    assert "only a held job can be released" in body["detail"]
    hold(client, job_id)
    body = assert_problem(client.post(f"{V2}/jobs/{job_id}/hold"), 409)
    assert "is held" in body["detail"]
    assert_problem(client.post(f"{V2}/jobs/job_missing/hold"), 404)
    assert_problem(client.post(f"{V2}/jobs/job_missing/release"), 404)
    cancelled = client.post(f"{V2}/jobs/{job_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    body = assert_problem(client.post(f"{V2}/jobs/{job_id}/hold"), 409)
    assert "is cancelled" in body["detail"]


@pytest.mark.usefixtures("echo_template")
def test_a_note_too_long_is_a_422_on_note(client: TestClient) -> None:
    job_id = post_job(client)["job_id"]
    response = client.post(f"{V2}/jobs/{job_id}/hold", json={"note": "x" * 501})
    assert_problem(response, 422, "note")


@pytest.mark.usefixtures("echo_template")
def test_hold_and_release_need_the_write_scope(
    client: TestClient, reader: TestClient, writer: TestClient
) -> None:
    job_id = post_job(client)["job_id"]
    assert_problem(reader.post(f"{V2}/jobs/{job_id}/hold"), 403)
    hold(writer, job_id)
    assert_problem(reader.post(f"{V2}/jobs/{job_id}/release"), 403)
    assert writer.post(f"{V2}/jobs/{job_id}/release").status_code == 200


@pytest.mark.usefixtures("echo_template")
def test_the_legacy_api_shows_a_held_job_as_created(client: TestClient, stores: Stores) -> None:
    job_id = post_job(client)["job_id"]
    hold(client, job_id)
    assert stores.jobs.get(job_id).status == JobStatus.HELD
    legacy = client.get(f"/jobs/{job_id}")
    assert legacy.status_code == 200, legacy.text
    assert legacy.json()["status"] == "created"
