"""POST /jobs/{job_id}/dedup_check: a job's stories, indexed when its run finished, compared
with everything else stored; and the finish of a unit indexes what it wrote."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from jobsched.content.hook import ContentIndexer
from jobsched.content.indexing import ArtifactReaders, FileArtifactReader
from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.keys import mint_key
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import Scope
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from tests.support.content_samples import LIGHTHOUSE, VOLCANO_STORY, story_data

THRESHOLD = 0.5


@pytest.fixture
def indexed(stores: Stores) -> Stores:
    seed_default_templates(stores)
    readers = ArtifactReaders({"file": FileArtifactReader()})
    return stores.with_indexer(ContentIndexer(stores.content, readers, THRESHOLD))


@pytest.fixture
def api(indexed: Stores) -> TestClient:
    client = TestClient(create_app(indexed), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {mint_key(indexed.keys, 't', [Scope.READ]).secret}"
    return client


def run_story_job(stores: Stores, out: Path, seed: str, text: str, **params: Any) -> str:
    """A story job through the real dispatcher; its worker 'wrote' one story file."""
    job, _ = enqueue(stores, JobCreate(template_id="story_generation", params=params))
    claim = Dispatcher(stores, stores.dispatch).claim()
    assert claim is not None
    path = out / claim.unit_id / "stories" / f"{story_data(seed)['story_id']}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(story_data(seed, text=text)))
    Dispatcher(stores, stores.dispatch).finish(claim, Outcome(0, artifacts=[path.as_uri()]))
    return job.job_id


def test_a_jobs_near_duplicate_story_is_reported_with_the_one_it_repeats(
    indexed: Stores, api: TestClient, tmp_path: Path
) -> None:
    first = run_story_job(indexed, tmp_path, "a", LIGHTHOUSE)
    repeat = LIGHTHOUSE.replace("storm", "gale", 1)  # one word changed
    second = run_story_job(indexed, tmp_path, "b", repeat, enable_dedup=False)
    far = run_story_job(indexed, tmp_path, "c", VOLCANO_STORY)

    response = api.post(f"/jobs/{second}/dedup_check")

    assert response.status_code == 200, response.text
    check = response.json()
    assert check["job_id"] == second
    assert check["run_id"] == indexed.jobs.get(second).last_run_id
    assert check["checked"] == 1
    assert check["threshold"] == 0.5
    [duplicate] = check["duplicates"]
    assert duplicate["id"] == story_data("b")["story_id"]
    assert duplicate["duplicate_of"] == story_data("a")["story_id"]
    assert duplicate["similarity"] >= THRESHOLD
    assert api.post(f"/api/v1/jobs/{far}/dedup_check").json()["duplicates"] == []
    strict = api.post(f"/jobs/{first}/dedup_check", json={"threshold": 1.0}).json()
    assert strict["duplicates"] == []  # near is not identical
    assert response.headers["deprecation"].startswith("@")


def test_enable_dedup_drops_the_repeat_when_the_run_is_indexed(
    indexed: Stores, tmp_path: Path
) -> None:
    run_story_job(indexed, tmp_path, "a", LIGHTHOUSE)
    repeat = LIGHTHOUSE.replace("storm", "gale", 1)
    second = run_story_job(indexed, tmp_path, "b", repeat, enable_dedup=True)

    run_id = indexed.jobs.get(second).last_run_id or ""
    assert indexed.content.by_source(run_id) == []  # dropped, not stored


def test_a_job_that_has_not_run_has_nothing_to_check(indexed: Stores, api: TestClient) -> None:
    job, _ = enqueue(indexed, JobCreate(template_id="story_generation"))

    assert api.post(f"/jobs/{job.job_id}/dedup_check").status_code == 409
    assert api.post("/jobs/job_nope/dedup_check").status_code == 404
    bad = api.post(f"/jobs/{job.job_id}/dedup_check", json={"threshold": 2})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "threshold"


def test_the_v2_check_of_a_run_answers_as_the_legacy_check_of_its_job(
    indexed: Stores, api: TestClient, tmp_path: Path
) -> None:
    run_story_job(indexed, tmp_path, "a", LIGHTHOUSE)
    second = run_story_job(
        indexed, tmp_path, "b", LIGHTHOUSE.replace("storm", "gale", 1), enable_dedup=False
    )
    run_id = indexed.jobs.get(second).last_run_id

    v2 = api.post(f"/api/v2/runs/{run_id}/dedup-check")

    assert v2.status_code == 200, v2.text
    legacy = api.post(f"/jobs/{second}/dedup_check").json()
    assert v2.json() == {**legacy, "job_id": second}
    assert "deprecation" not in v2.headers
    strict = api.post(f"/api/v2/runs/{run_id}/dedup-check", json={"threshold": 1.0}).json()
    assert strict["duplicates"] == []
    assert api.post("/api/v2/runs/run_nope/dedup-check").status_code == 404
