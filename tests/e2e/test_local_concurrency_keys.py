"""`jobsched local` with two slots and a template limited to one job per customer: two jobs of
one customer never overlap, while jobs of other customers run beside them and pass the held-back
one in the queue."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.local_process import FAST, api_client, kill, start_local
from tests.support.waiting import BOUND_SECONDS

TEMPLATE = {
    "template_id": "per-customer",
    "name": "Per customer",
    "workload": "echo",  # echo ignores `customer`: it is there to be a key
    "params_schema": {
        "type": "object",
        "properties": {
            "customer": {"type": "string"},
            "sleep_seconds": {"type": "number"},
            "until_file": {"type": "string"},
        },
    },
    "concurrency": [{"key": "params.customer", "limit": 1}],
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[httpx.Client]:
    output = tmp_path / "jobsched-local.log"
    extra = ("--data-dir", str(tmp_path / "data"), "--slots", "2")
    process, base_url = start_local(output, *extra, environment=FAST)
    try:
        with api_client(base_url) as client:
            yield client
    finally:
        kill(process)


def _submit(api: httpx.Client, customer: str, **params: Any) -> str:
    body = {"template_id": "per-customer", "params": {"customer": customer, **params}}
    response = api.post("/jobs", json=body)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def _wait(api: httpx.Client, job_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + BOUND_SECONDS
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(f"/jobs/{job_id}").json()
        if job["status"] == status:
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} not {status}: {job}")


def _run(api: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = api.get(f"/runs/{job['run']['run_id']}").json()
    assert run["status"] == "completed", run
    return run


def test_one_customers_jobs_never_overlap_while_others_run_beside(
    api: httpx.Client, tmp_path: Path
) -> None:
    assert api.post("/templates", json=TEMPLATE).status_code == 201
    release_a, release_c = tmp_path / "release-a", tmp_path / "release-c"
    a = _submit(api, "acme", sleep_seconds=600, until_file=str(release_a))
    c = _submit(api, "globex", sleep_seconds=600, until_file=str(release_c))
    b = _submit(api, "acme")
    _wait(api, a, "running")
    _wait(api, c, "running")  # the two slots are busy; b waits for one

    release_c.touch()
    _wait(api, c, "finished")  # a slot is free, but b's customer is running
    d = _submit(api, "initech")
    _wait(api, d, "finished")  # d passed b in the queue and ran beside a
    assert api.get(f"/jobs/{b}").json()["status"] == "queued"

    release_a.touch()
    jobs = {"a": a, "b": b, "c": c, "d": d}
    runs = {name: _run(api, _wait(api, job_id, "finished")) for name, job_id in jobs.items()}
    assert runs["a"]["finished_at"] <= runs["b"]["started_at"]  # one acme job at a time
    assert runs["c"]["started_at"] < runs["a"]["finished_at"]  # others ran beside it
    assert runs["d"]["started_at"] < runs["a"]["finished_at"]
