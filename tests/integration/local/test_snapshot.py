"""The local runtime's saved state: every table written to one file and loaded into fresh
tables, on moto's server as in `jobsched local`."""

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.adapters.dynamodb.dump import BATCH_SIZE
from jobsched.adapters.dynamodb.tables import TABLES, create_tables
from jobsched.jobs import queue
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.keys import mint_key
from jobsched.models import JobStatus, RunStatus, Scope
from jobsched.ports import Stores
from jobsched.schedules.usecases import ScheduleCreate, create_schedule
from jobsched.settings import Settings
from local import snapshot
from local.snapshot import (
    SnapshotError,
    Snapshotter,
    load_snapshot,
    save_snapshot,
    scan_tables,
)
from tests.support.local import claim_one, echo, wait_until


def fresh_dynamo(settings: Settings) -> Dynamo:
    """Empty tables of another prefix on the same server: the emulator after a restart."""
    dynamo = Dynamo(settings.model_copy(update={"table_prefix": f"t{uuid.uuid4().hex[:10]}"}))
    create_tables(dynamo)
    return dynamo


def sorted_tables(dynamo: Dynamo) -> dict[str, list[str]]:
    return {
        entity: sorted(json.dumps(item, sort_keys=True) for item in items)
        for entity, items in scan_tables(dynamo).items()
    }


def fill_every_table(stores: Stores, dynamo: Dynamo) -> dict[str, str]:
    running = echo(stores, message="running")
    first = echo(stores, message="first in line")
    second = echo(stores, message="second in line")
    claim = claim_one(stores)  # `running`: a run started, holding a slot
    assert claim.run is not None
    assert claim.run.job_id == running.job_id
    group, _ = create_group(stores, GroupCreate(jobs=[GroupJobSpec(template_id="echo")]))
    schedule = create_schedule(
        stores,
        ScheduleCreate(name="nightly", template_id="echo", expression="cron(0 3 * * ? *)"),
    )
    key = mint_key(stores.keys, "ci", [Scope.READ])
    queue.pause(stores)
    dynamo.client.put_item(  # a research card's record, as the indexer writes it
        TableName=dynamo.table("content"),
        Item={"content_id": {"S": "crd_1"}, "kind": {"S": "card"}, "text": {"S": "octopus"}},
    )
    return {
        "run": claim.run.run_id,
        "first": first.job_id,
        "second": second.job_id,
        "group": group.group_id,
        "schedule": schedule.schedule_id,
        "key": key.record.key_id,
    }


def test_every_table_round_trips(
    base_stores: Stores, local_dynamo: Dynamo, local_settings: Settings, tmp_path: Path
) -> None:
    ids = fill_every_table(base_stores, local_dynamo)
    path = tmp_path / "state.json"

    saved = save_snapshot(local_dynamo, path)

    document = json.loads(path.read_text())
    assert document["format"] == 1
    assert set(document["tables"]) == {spec.entity for spec in TABLES}
    assert all(document["tables"].values()), "every table holds something"
    assert saved == sum(len(items) for items in document["tables"].values())

    restarted = fresh_dynamo(local_settings)
    assert load_snapshot(restarted, path) == saved
    assert sorted_tables(restarted) == sorted_tables(local_dynamo)

    stores = build_stores(restarted.settings, restarted)
    run = stores.runs.get(ids["run"])
    assert run.status == RunStatus.STARTED
    assert stores.jobs.get(run.job_id).status == JobStatus.RUNNING
    assert [slot.holder for slot in stores.dispatch.slots() if slot.holder] == [ids["run"]]
    entries, _, state = queue.view_queue(stores, 10, None)
    assert state.paused
    assert [entry.job_id for _, entry in entries][:2] == [ids["first"], ids["second"]]
    assert [position for position, _ in entries][:2] == [1, 2]
    assert stores.groups.get(ids["group"]).group_id == ids["group"]
    assert stores.schedules.get(ids["schedule"]).name == "nightly"
    key = stores.keys.get(ids["key"])
    assert key is not None
    assert key.scopes == [Scope.READ]


def test_a_missing_file_loads_nothing(local_dynamo: Dynamo, tmp_path: Path) -> None:
    assert load_snapshot(local_dynamo, tmp_path / "state.json") == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"format": 1, "tables": {"jobs": [', "not JSON"),
        ('{"format": 7, "tables": {}}', "format 7"),
        ('{"format": 1, "tables": {"jobs": "x"}}', "not a map of item lists"),
        ('{"format": 1, "tables": {"keys": [{"name": {"S": "no key_id"}}]}}', "keys: "),
    ],
)
def test_load_refuses_a_corrupt_file(
    local_dynamo: Dynamo, tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)

    with pytest.raises(SnapshotError) as raised:
        load_snapshot(local_dynamo, path)

    message = str(raised.value)
    assert str(path) in message
    assert reason in message
    assert "jobsched local --reset" in message


def test_a_failed_save_leaves_the_last_file_whole(
    base_stores: Stores, local_dynamo: Dynamo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    save_snapshot(local_dynamo, path)
    before = path.read_text()
    echo(base_stores, message="not saved")

    def crash(fd: int) -> None:  # the new file is written but not yet on disk
        raise OSError("disk gone")

    monkeypatch.setattr(snapshot.os, "fsync", crash)
    with pytest.raises(OSError, match="disk gone"):
        save_snapshot(local_dynamo, path)

    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["state.json"], "no temporary file left behind"


def test_the_snapshotter_saves_every_period_and_at_stop(
    base_stores: Stores, local_dynamo: Dynamo, tmp_path: Path
) -> None:
    path = tmp_path / "state.json"
    snapshotter = Snapshotter(local_dynamo, path, every_seconds=0.2)
    snapshotter.start()
    job = echo(base_stores, message="saved by the thread")
    wait_until(lambda: path.exists() and job.job_id in path.read_text(), what="a periodic save")

    last = echo(base_stores, message="saved at stop")
    snapshotter.stop()

    assert last.job_id in path.read_text()


def test_an_idle_period_reads_nothing(
    base_stores: Stores, local_dynamo: Dynamo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[int] = []
    real_scan = snapshot.scan_tables

    def counted(dynamo: Dynamo, passes: int = snapshot.SCAN_PASSES) -> Any:
        scans.append(1)
        return real_scan(dynamo, passes)

    monkeypatch.setattr(snapshot, "scan_tables", counted)
    path = tmp_path / "state.json"
    snapshotter = Snapshotter(local_dynamo, path, every_seconds=0.05)
    snapshotter.start()
    wait_until(lambda: path.exists(), what="the first save")
    settled = len(scans)
    time.sleep(0.5)  # ten idle periods
    idle = len(scans) - settled

    job = echo(base_stores, message="a write wakes it")
    wait_until(lambda: job.job_id in path.read_text(), what="a save after a write")
    snapshotter.stop()

    assert idle == 0
    assert snapshotter.writes >= 1


def test_snapshot_size_and_time(
    base_stores: Stores, local_dynamo: Dynamo, local_settings: Settings, tmp_path: Path
) -> None:
    """A benchmark: prints figures, never fails on time. Enough jobs for several full batches
    of the load and a part one (each job over moto's server is slow: a bigger queue only makes
    the figures bigger)."""
    for number in range(3 * BATCH_SIZE + 1):
        echo(base_stores, message=f"job {number}")
    path = tmp_path / "state.json"

    started = time.perf_counter()
    count = save_snapshot(local_dynamo, path)
    saved_in = time.perf_counter() - started
    restarted = fresh_dynamo(local_settings)
    started = time.perf_counter()
    assert load_snapshot(restarted, path) == count
    loaded_in = time.perf_counter() - started

    print(
        f"\nsnapshot: {count} items, {path.stat().st_size / 1024:.0f} KiB, "
        f"save {saved_in * 1000:.0f} ms, load {loaded_in * 1000:.0f} ms"
    )
