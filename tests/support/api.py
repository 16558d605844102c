"""Small helpers shared by the API integration tests (the fixtures live in tests/conftest.py)."""

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from jobsched.adapters.dynamodb import Dynamo
from jobsched.adapters.dynamodb.jobs import job_item
from jobsched.models import Job, JobStatus

V2 = "/api/v2"
PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response: Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is a problem+json body with this status (and, if given, this failing field)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["detail"]
    if field is not None:
        fields = [error["field"] for error in body.get("errors", [])]
        assert field in fields, body
    return body


def error_fields(response: Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def post_job(client: TestClient, template_id: str = "echo", **body: Any) -> dict[str, Any]:
    response = client.post(f"{V2}/jobs", json={"template_id": template_id, **body})
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def post_template(client: TestClient, template_id: str, **body: Any) -> dict[str, Any]:
    fields = {"template_id": template_id, "name": template_id.title(), "workload": "echo", **body}
    response = client.post(f"{V2}/templates", json=fields)
    assert response.status_code == 201, response.text
    template: dict[str, Any] = response.json()
    return template


def queue(client: TestClient, **query: Any) -> dict[str, Any]:
    response = client.get(f"{V2}/queue", params=query)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def queue_ids(client: TestClient) -> list[str]:
    return [item["job_id"] for item in queue(client, limit=200)["items"]]


def all_pages(
    client: TestClient, path: str, limit: int, **query: Any
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params = {**query, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor never ends"


def job_ids(client: TestClient, **filters: Any) -> list[str]:
    response = client.get(f"{V2}/jobs", params={"limit": 200, **filters})
    assert response.status_code == 200, response.text
    return [job["job_id"] for job in response.json()["items"]]


def seed_job(dynamo: Dynamo, job_id: str, status: JobStatus, **fields: Any) -> Job:
    """A job written straight to the store, outside the queue (e.g. running or finished)."""
    job = Job(job_id=job_id, template_id=fields.pop("template_id", "echo"), status=status, **fields)
    dynamo.client.put_item(TableName=dynamo.table("jobs"), Item=job_item(job))
    return job
