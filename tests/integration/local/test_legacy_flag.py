"""Every legacy endpoint with the spec's example bodies, with USE_SCHEDULER on and off, against
the local runtime's parts (dispatcher loop, launcher, real worker processes, indexing): each
answer checked field by field against the spec's "Current" shapes."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from api.legacy.deprecation import DeprecationPolicy
from jobsched.content.hook import ContentIndexer
from jobsched.content.indexing import ArtifactReaders, FileArtifactReader
from jobsched.jobs.keys import mint_key
from jobsched.jobs.seed import DEFAULT_MODEL
from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.exec.dispatcher_loop import LocalDispatcher, LoopConfig
from local.exec.executor import LocalExecutor
from local.exec.launcher import LocalLauncher
from local.exec.logs import FileLogReader
from tests.support.local import wait_until
from tests.support.waiting import BOUND_SECONDS

# The spec's "Current" request bodies and response fields.
STORY_BODY = {"max_stories": 1, "enable_dedup": True, "model": DEFAULT_MODEL}
PHASE_2_BODY = {
    **STORY_BODY,
    "_scheduler": {"priority": "normal", "template_id": "story_generation"},
}
RESEARCH_BODY = {"topic": "tidal energy", "max_cards": 2, "model": DEFAULT_MODEL}
JOB_FIELDS = {
    "job_id": str,
    "type": str,
    "status": str,
    "pid": (int, type(None)),
    "created_at": str,
}
BATCH_FIELDS = {
    "batch_id": str,
    "job_ids": list,
    "status": str,
    "webhook_url": (str, type(None)),
    "created_at": str,
}
LEGACY_STATUSES = {"created", "queued", "running", "succeeded", "failed", "cancelled"}


@dataclass
class Notified:
    groups: list[str] = field(default_factory=list)

    def group_ended(self, group_id: str) -> None:
        self.groups.append(group_id)


@dataclass
class Legacy:
    api: TestClient
    stores: Stores
    notified: Notified
    use_scheduler: bool

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.api.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        assert_deprecated(response)
        body: dict[str, Any] = response.json()
        return body

    def until(self, job_id: str, *statuses: str) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            job = self.call("GET", f"/jobs/{job_id}")
            return job if job["status"] in statuses else None

        found: dict[str, Any] = wait_until(reached, what=f"{job_id} to be {statuses}")
        return found


def assert_deprecated(response: Response) -> None:
    assert response.headers["deprecation"].startswith("@")
    assert response.headers["sunset"].endswith("GMT")
    assert 'rel="deprecation"' in response.headers["link"]


def assert_current_job(job: dict[str, Any], job_type: str) -> None:
    for name, kind in JOB_FIELDS.items():
        assert isinstance(job[name], kind), (name, job[name])
    assert job["job_id"].startswith("job_")
    assert job["type"] == job_type
    assert job["status"] in LEGACY_STATUSES
    assert datetime.fromisoformat(job["created_at"]).tzinfo is not None


@pytest.fixture(params=[True, False], ids=["use_scheduler", "immediate"])
def legacy(
    request: pytest.FixtureRequest,
    base_stores: Stores,
    executor: LocalExecutor,
    local_settings: Settings,
) -> Iterator[Legacy]:
    use_scheduler: bool = request.param
    notified = Notified()
    loop = LocalDispatcher(executor, LoopConfig.from_settings(local_settings))
    launcher = LocalLauncher(executor)
    readers = ArtifactReaders({"file": FileArtifactReader()})
    stores = (
        base_stores.with_edges(
            kicker=loop, tasks=executor, logs=FileLogReader(local_settings.data_dir)
        )
        .with_launcher(launcher)
        .with_probe(executor)
        .with_notifier(notified)
        .with_indexer(ContentIndexer(base_stores.content, readers, 0.5))
    )
    launcher.bind(stores)
    loop.start(stores)
    api = TestClient(create_app(stores), raise_server_exceptions=False)
    api.headers["Authorization"] = f"Bearer {mint_key(stores.keys, 't', [Scope.ADMIN]).secret}"
    api.app.state.deprecation = DeprecationPolicy(  # type: ignore[attr-defined]
        local_settings.legacy_deprecated_at,
        local_settings.legacy_sunset_at,
        local_settings.legacy_migration_url,
        use_scheduler=use_scheduler,
    )
    yield Legacy(api, stores, notified, use_scheduler)
    loop.stop(timeout=BOUND_SECONDS)
    launcher.join(10)


def test_story_trigger_and_job_status(legacy: Legacy) -> None:
    job = legacy.call("POST", "/jobs/story/trigger", json=STORY_BODY)

    assert_current_job(job, "story_generation")
    assert job["params"] == STORY_BODY
    assert job["priority"] == "immediate"
    if legacy.use_scheduler:
        assert job["status"] in ("queued", "running")
        assert job["outside_queue"] is False
    else:
        assert job["status"] == "running"  # started at once, no queue
        assert job["outside_queue"] is True
        assert job["queue_position"] is None
    done = legacy.until(job["job_id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done
    assert_current_job(done, "story_generation")
    assert isinstance(done["pid"], int)  # the worker process that ran it

    check = legacy.call("POST", f"/api/v1/jobs/{job['job_id']}/dedup_check")
    assert check["checked"] == 1  # its one story was indexed when the run ended
    assert check["run_id"] == done["run_id"]


def test_the_phase_2_body_with_its_scheduler_block(legacy: Legacy) -> None:
    job = legacy.call("POST", "/api/v1/jobs/story/trigger", json=PHASE_2_BODY)

    assert_current_job(job, "story_generation")
    assert job["priority"] == "normal"
    assert job["params"] == STORY_BODY  # the block is instructions, not params
    assert legacy.until(job["job_id"], "succeeded", "failed")["status"] == "succeeded"


def test_research_trigger(legacy: Legacy) -> None:
    job = legacy.call("POST", "/jobs/research/trigger", json=RESEARCH_BODY)

    assert_current_job(job, "research")
    done = legacy.until(job["job_id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done
    cards = legacy.api.get("/research/list").json()["items"]
    assert len(cards) == 2
    assert {card["topic"] for card in cards} == {"tidal energy"}


def test_batch_trigger_status_and_webhook(legacy: Legacy) -> None:
    body = {
        "jobs": [
            {"job_type": "story_generation", "params": {"max_stories": 1}},
            {"job_type": "research", "params": {"topic": "kelp", "max_cards": 1}},
        ],
        "webhook_url": "https://hooks.example.com/batch",
    }
    batch = legacy.call("POST", "/jobs/batch/trigger", json=body)

    for name, kind in BATCH_FIELDS.items():
        assert isinstance(batch[name], kind), (name, batch[name])
    assert batch["webhook_url"] == body["webhook_url"]
    assert batch["status"] == ("queued" if legacy.use_scheduler else "running")
    assert len(batch["job_ids"]) == 2

    def ended() -> dict[str, Any] | None:
        found = legacy.call("GET", f"/jobs/batch/{batch['batch_id']}")
        return found if found["finished_at"] else None

    done: dict[str, Any] = wait_until(ended, what="the batch to end")
    assert done["status"] == "succeeded", done
    assert [job["status"] for job in done["jobs"]] == ["succeeded", "succeeded"]
    assert legacy.notified.groups == [batch["batch_id"]]  # its webhook is told, once


def test_list_cancel_and_monitor(legacy: Legacy) -> None:
    long = legacy.call(
        "POST", "/jobs/story/trigger", json={"job_type": "echo", "sleep_seconds": 60}
    )
    legacy.until(long["job_id"], "running")

    listed = legacy.call("GET", "/jobs", params={"status": "running"})
    assert [job["job_id"] for job in listed["jobs"]] == [long["job_id"]]
    for job in listed["jobs"]:
        assert_current_job(job, "echo")
    monitored = legacy.call("POST", "/jobs/monitor")
    assert monitored["checked"] == 1
    assert monitored["changed"] == []
    assert monitored["running"] + monitored["starting"] == [long["job_id"]]
    one = legacy.call("POST", f"/jobs/{long['job_id']}/monitor")
    assert one["job"]["status"] == "running"

    cancelled = legacy.call("POST", f"/jobs/{long['job_id']}/cancel")

    assert_current_job(cancelled, "echo")
    assert cancelled["status"] == "cancelled"
    assert legacy.call("GET", "/jobs", params={"status": "cancelled"})["count"] == 1
