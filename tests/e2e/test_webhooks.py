"""`jobsched local` end to end: a group created over HTTP runs in worker subprocesses and its
webhook reaches a receiver on 127.0.0.1 once, signed (the runtime's ThreadNotifier)."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.hooks import SECRET, HookServer
from tests.support.local_process import api_client, start_local, terminate


@pytest.fixture
def api(tmp_path: Path) -> Iterator[httpx.Client]:
    environment = {
        "JOBSCHED_WEBHOOK_SECRET": SECRET,
        "JOBSCHED_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        "JOBSCHED_HEARTBEAT_SECONDS": "0.5",
    }
    data_dir = ["--data-dir", str(tmp_path / "data"), "--executor", "process"]
    process, base_url = start_local(
        tmp_path / "jobsched-local.log", *data_dir, environment=environment
    )
    try:
        with api_client(base_url) as client:
            yield client
    finally:
        terminate(process)


def test_a_group_run_locally_calls_its_webhook_once(
    api: httpx.Client, hook_server: HookServer
) -> None:
    body = {
        "mode": "sequential",
        "webhook_url": hook_server.url,
        "jobs": [{"template_id": "echo", "params": {"message": "hi"}}] * 2,
    }
    created = api.post("/groups", json=body)
    assert created.status_code == 201, created.text
    group_id = created.json()["group_id"]
    (hook,) = hook_server.wait_for(1)
    assert hook.signed
    payload = json.loads(hook.body)
    assert (payload["group_id"], payload["status"], payload["completed"]) == (
        group_id,
        "completed",
        2,
    )
    group = api.get(f"/groups/{group_id}").json()
    assert group["status"] == "completed"
    assert group["notified_at"] is not None
    time.sleep(0.5)  # nothing more arrives
    assert len(hook_server.hooks) == 1
