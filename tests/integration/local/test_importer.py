"""An emulator data dir (state.json, the local runtime's store before SQLite) is imported into
the SQLite store once, whole: the queue in its order, the paused flag, the running unit with its
slot, groups, schedules, keys and content; the file is then set aside and never read again."""

from pathlib import Path

from jobsched.adapters.dynamodb import Dynamo
from jobsched.adapters.sqlite import build_stores as build_sqlite_stores
from jobsched.adapters.sqlite.db import Database
from jobsched.jobs import queue
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.keys import mint_key
from jobsched.jobs.seed import seed_default_templates
from jobsched.jobs.templates import TemplatePatch, update_template
from jobsched.models import JobStatus, RunStatus, Scope
from jobsched.models.content import SourceKind, StoredStory
from jobsched.ports import Stores
from jobsched.schedules.usecases import ScheduleCreate, create_schedule
from jobsched.settings import Settings
from local.importer import IMPORTED_FILE, import_snapshot
from local.snapshot import STATE_FILE, save_snapshot
from tests.support.content_samples import story_data
from tests.support.local import claim_one, echo


def test_a_saved_emulator_state_is_imported_once_and_whole(
    base_stores: Stores, local_dynamo: Dynamo, local_settings: Settings, sqlite_db: Database
) -> None:
    running = echo(base_stores, message="running")
    claim = claim_one(base_stores)
    first = echo(base_stores, message="first in line")
    second = echo(base_stores, message="second in line")
    group, _ = create_group(base_stores, GroupCreate(jobs=[GroupJobSpec(template_id="echo")]))
    schedule = create_schedule(
        base_stores,
        ScheduleCreate(name="nightly", template_id="echo", expression="cron(0 3 * * ? *)"),
    )
    key = mint_key(base_stores.keys, "ci", [Scope.READ])
    story = StoredStory(**story_data(), source_kind=SourceKind.RUN, source_id="run_1")
    assert base_stores.content.put_story(story)
    update_template(base_stores, "echo", TemplatePatch(name="Echo 2"))
    queue.pause(base_stores)
    data_dir = Path(sqlite_db.path).parent
    save_snapshot(local_dynamo, data_dir / STATE_FILE)

    assert import_snapshot(data_dir, sqlite_db, local_settings) > 0

    stores = build_sqlite_stores(local_settings, sqlite_db)
    assert claim.run is not None
    run = stores.runs.get(claim.run.run_id)
    assert (run.job_id, run.status) == (running.job_id, RunStatus.STARTED)
    assert stores.jobs.get(running.job_id).status == JobStatus.RUNNING
    assert [slot.holder for slot in stores.dispatch.slots() if slot.holder] == [run.run_id]
    entries, _, state = queue.view_queue(stores, 10, None)
    assert state.paused
    queued = [entry.job_id for _, entry in entries]
    assert queued[:2] == [first.job_id, second.job_id]
    assert queued[2] == group.job_ids[0]
    assert stores.groups.get(group.group_id).job_ids == group.job_ids
    assert stores.schedules.get(schedule.schedule_id).expression == schedule.expression
    assert stores.keys.get(key.record.key_id) == key.record
    assert stores.content.get_story(story.story_id) == story
    assert {t.template_id for t in stores.templates.list_page(50, None).items} >= {"echo"}
    versions = stores.templates.list_versions("echo", 10, None).items
    assert [(v.version, v.name) for v in versions] == [(2, "Echo 2"), (1, "Echo")]

    assert not (data_dir / STATE_FILE).exists()
    assert (data_dir / IMPORTED_FILE).exists()


def test_a_database_that_holds_data_is_never_overwritten_by_an_import(
    base_stores: Stores, local_dynamo: Dynamo, local_settings: Settings, sqlite_db: Database
) -> None:
    target = build_sqlite_stores(local_settings, sqlite_db)
    kept = mint_key(target.keys, "kept", [Scope.ADMIN])
    seed_default_templates(target)
    mint_key(base_stores.keys, "from the file", [Scope.READ])
    data_dir = Path(sqlite_db.path).parent
    save_snapshot(local_dynamo, data_dir / STATE_FILE)

    assert import_snapshot(data_dir, sqlite_db, local_settings) == 0

    assert [k.key_id for k in target.keys.list_all()] == [kept.record.key_id]
    assert (data_dir / IMPORTED_FILE).exists()
