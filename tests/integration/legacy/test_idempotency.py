"""Idempotency-Key on the legacy triggers, queued (USE_SCHEDULER=true) or started at once
(false), unprefixed and under /api/v1: a retry makes nothing new and answers the same; another
body, or a key used on another endpoint, is a 409 that writes nothing."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.legacy.deprecation import DeprecationPolicy
from jobsched.jobs.keys import mint_key
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import Scope
from jobsched.models.units import Claim
from jobsched.ports import Stores
from jobsched.settings import Settings
from tests.support.api import V2, assert_problem, job_ids

KEY = {"Idempotency-Key": "legacy-retry"}
TRIGGERS = [
    ("/jobs/story/trigger", {"max_stories": 1}),
    ("/jobs/research/trigger", {"topic": "tides"}),
]
BATCH = {"jobs": [{"job_type": "story_generation", "params": {"max_stories": 1}}] * 2}


class Launched:
    """USE_SCHEDULER=false: records each start instead of running a task."""

    def __init__(self) -> None:
        self.claims: list[Claim] = []

    def launch(self, claim: Claim) -> None:
        self.claims.append(claim)


@pytest.fixture(params=[True, False], ids=["queued", "immediate"])
def legacy(
    request: pytest.FixtureRequest, stores: Stores, settings: Settings
) -> tuple[TestClient, Launched]:
    seed_default_templates(stores)
    launched = Launched()
    api = TestClient(create_app(stores.with_launcher(launched)), raise_server_exceptions=False)
    api.headers["Authorization"] = f"Bearer {mint_key(stores.keys, 't', [Scope.ADMIN]).secret}"
    api.app.state.deprecation = DeprecationPolicy(  # type: ignore[attr-defined]
        settings.legacy_deprecated_at,
        settings.legacy_sunset_at,
        settings.legacy_migration_url,
        use_scheduler=request.param,
    )
    return api, launched


def group_ids(api: TestClient) -> list[str]:
    return [group["group_id"] for group in api.get(f"{V2}/groups").json()["items"]]


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
@pytest.mark.parametrize(("path", "body"), TRIGGERS)
def test_a_retried_trigger_is_one_job(
    legacy: tuple[TestClient, Launched], prefix: str, path: str, body: dict[str, Any]
) -> None:
    api, launched = legacy

    first = api.post(prefix + path, json=body, headers=KEY)
    again = api.post(prefix + path, json=body, headers=KEY)

    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["job_id"] == first.json()["job_id"]
    assert job_ids(api) == [first.json()["job_id"]]
    assert len(launched.claims) <= 1  # started once at most (not at all when queued)


@pytest.mark.parametrize(("path", "body"), TRIGGERS)
def test_a_trigger_key_with_another_body_is_409_and_writes_nothing(
    legacy: tuple[TestClient, Launched], path: str, body: dict[str, Any]
) -> None:
    api, _ = legacy
    first = api.post(path, json=body, headers=KEY).json()

    other = api.post(path, json={**body, "model": "other/model"}, headers=KEY)

    assert "Idempotency-Key" in assert_problem(other, 409)["detail"]
    assert job_ids(api) == [first["job_id"]]


def test_a_key_is_one_endpoints(legacy: tuple[TestClient, Launched]) -> None:
    api, _ = legacy
    story = api.post("/jobs/story/trigger", json={"max_stories": 1}, headers=KEY).json()

    for path, body in [
        ("/jobs/research/trigger", {"topic": "tides"}),
        ("/jobs/batch/trigger", BATCH),
        (f"{V2}/jobs", {"template_id": "story_generation"}),
    ]:
        assert_problem(api.post(path, json=body, headers=KEY), 409)
    assert job_ids(api) == [story["job_id"]]
    assert group_ids(api) == []


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_a_retried_batch_is_one_group(legacy: tuple[TestClient, Launched], prefix: str) -> None:
    api, launched = legacy

    first = api.post(f"{prefix}/jobs/batch/trigger", json=BATCH, headers=KEY)
    again = api.post(f"{prefix}/jobs/batch/trigger", json=BATCH, headers=KEY)

    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["batch_id"] == first.json()["batch_id"]
    assert again.json()["job_ids"] == first.json()["job_ids"]
    assert group_ids(api) == [first.json()["batch_id"]]
    assert sorted(job_ids(api)) == sorted(first.json()["job_ids"])
    assert len(launched.claims) in (0, 2)  # each job started once, or queued


def test_a_batch_key_with_another_body_is_409_and_writes_nothing(
    legacy: tuple[TestClient, Launched],
) -> None:
    api, _ = legacy
    first = api.post("/jobs/batch/trigger", json=BATCH, headers=KEY).json()

    other = api.post("/jobs/batch/trigger", json={**BATCH, "name": "other"}, headers=KEY)

    assert_problem(other, 409)
    assert group_ids(api) == [first["batch_id"]]
    assert sorted(job_ids(api)) == sorted(first["job_ids"])
