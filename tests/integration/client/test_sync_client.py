"""Every resource of the sync client against the app in process (the `api` fixtures of this
tier's conftest), and the API's refusals as typed errors."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from jobsched.jobs.keys import mint_key
from jobsched.models import JobStatus, Scope
from jobsched.ports import Stores
from jobsched_client import (
    AuthenticationError,
    Client,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    ValidationFailedError,
    WaitTimeoutError,
)
from jobsched_client.models import (
    ArtifactChange,
    JobDetailOut,
    LineageOut,
    RunsDiffOut,
    ScheduleDryRunOut,
)
from tests.support.ui_runs import RunWorld, make_world

BASE = "http://testserver"
QUICK = RetryPolicy(attempts=2, backoff=0.01, max_wait=0.05)
POLL = 0.01  # seconds between a wait's polls: every wait here ends on a state, not a clock
SCHEDULE = {"name": "hourly", "template_id": "echo", "expression": "rate(1 hour)"}


def line(n: int) -> str:
    return json.dumps({"event": "progress", "n": n})


@pytest.fixture
def world(stores: Stores, tmp_path: Path) -> RunWorld:
    """Runs made by the real dispatcher, their logs and outputs in files (tests/support)."""
    return make_world(stores, tmp_path / "data")


@pytest.fixture
def world_api(world: RunWorld) -> Iterator[Client]:
    http = TestClient(create_app(stores=world.stores), base_url=f"{BASE}/api/v2")
    key = mint_key(world.stores.keys, "world", [Scope.ADMIN]).secret
    with Client(BASE, key, http=http, retry=QUICK) as client:
        yield client


def queued(api: Client, count: int) -> list[str]:
    return [api.jobs.create("echo", {"message": f"m{n}"}).job_id for n in range(count)]


def test_templates(api: Client) -> None:
    created = api.templates.create({"template_id": "poem", "name": "Poem", "workload": "echo"})
    assert (created.template_id, created.version) == ("poem", 1)
    assert api.templates.get("poem").name == "Poem"
    assert api.templates.update("poem", {"timeout_seconds": 120}).version == 2
    assert {t.template_id for t in api.templates.iter(page_size=1)} == {"echo", "poem"}
    assert len(api.templates.list(limit=1).items) == 1
    assert [v.version for v in api.templates.versions("poem")] == [2, 1]
    assert api.templates.version("poem", 1).timeout_seconds != 120
    assert api.templates.archive("poem").archived is True
    assert api.templates.restore("poem").archived is False


def test_jobs_create_get_hold_release_cancel(api: Client) -> None:
    created = api.jobs.create("echo", {"message": "hi"}, priority="high")
    assert created.status == JobStatus.QUEUED
    assert created.priority == "high"

    shown = api.jobs.get(created.job_id)
    assert isinstance(shown, JobDetailOut)
    assert shown.params["message"] == "hi"
    held = api.jobs.hold(created.job_id, note="later")
    assert held.hold is not None
    assert held.hold.note == "later"
    assert api.jobs.release(created.job_id).hold is None
    assert api.jobs.cancel(created.job_id).status == JobStatus.CANCELLED
    assert list(api.jobs.runs(created.job_id)) == []


def test_a_create_with_a_used_idempotency_key_returns_the_first_job(api: Client) -> None:
    first = api.jobs.create("echo", {"message": "once"}, idempotency_key="same-1")
    again = api.jobs.create("echo", {"message": "once"}, idempotency_key="same-1")

    assert again.job_id == first.job_id
    assert again.idempotent_replay is True
    with pytest.raises(ConflictError):  # the same key for another request
        api.jobs.create("echo", {"message": "other"}, idempotency_key="same-1")


def test_jobs_iter_reads_every_page(api: Client) -> None:
    made = queued(api, 5)

    page = api.jobs.list(limit=2)
    assert len(page.items) == 2
    assert page.next_cursor
    assert sorted(j.job_id for j in api.jobs.iter(page_size=2)) == sorted(made)
    assert [j.job_id for j in api.jobs.iter(status="cancelled")] == []
    assert len(list(api.jobs.iter(template_id="echo", page_size=3))) == 5


def test_the_queue_view_preview_move_priority_reorder(api: Client) -> None:
    one, two, three = queued(api, 3)

    view = api.queue.view()
    assert [item.job_id for item in view.items] == [one, two, three]
    assert [item.job_id for item in api.queue.iter(page_size=1)] == [one, two, three]

    preview = api.queue.preview({"move": {"job_id": three, "position": 1}})
    assert preview.items[0].job_id == three
    assert three in preview.affected
    assert [item.job_id for item in api.queue.view().items] == [one, two, three]  # unwritten

    assert api.queue.move(three, position=1).queue_position == 1
    assert api.queue.move(one, before=three).queue_position == 1
    assert [item.job_id for item in api.queue.view().items] == [one, three, two]
    assert api.queue.set_priority(two, "high").priority == "high"
    reordered = api.queue.reorder([two, three, one])
    assert {job.job_id for job in reordered.items} <= {one, two, three}
    assert [item.job_id for item in api.queue.view().items] == [two, three, one]


def test_the_queue_pause_resume_and_stats(api: Client) -> None:
    queued(api, 2)

    paused = api.queue.pause(note="maintenance")
    assert (paused.paused, paused.note) == (True, "maintenance")
    stats = api.queue.stats()
    assert stats.paused is True
    assert stats.queued == 2
    assert stats.queued_by_template == {"echo": 2}
    assert api.queue.resume().paused is False


def test_runs_list_get_logs_follow_and_artifact(world: RunWorld, world_api: Client) -> None:
    job = world.submit("work", message="hello")
    claim = world.start()
    world.log(claim, [line(n) for n in range(5)])
    report = world.output(claim, "report.txt", b"the report")
    world.finish(claim, 0, artifacts=[report])
    run_id = claim.unit_id

    run = world_api.runs.get(run_id)
    assert (run.job_id, run.exit_code) == (job, 0)
    assert [r.run_id for r in world_api.runs.iter(job_id=job)] == [run_id]
    assert [r.run_id for r in world_api.runs.list(status="completed").items] == [run_id]
    assert [r.run_id for r in world_api.jobs.runs(job)] == [run_id]

    first = world_api.runs.logs(run_id, limit=2)
    assert first.lines == [line(0), line(1)]
    rest = world_api.runs.logs(run_id, cursor=first.next_cursor)
    assert rest.lines == [line(n) for n in range(2, 5)]
    assert list(world_api.runs.follow_logs(run_id, poll=POLL)) == [line(n) for n in range(5)]

    name, data = world_api.runs.artifact(run_id, 0)
    assert (name, data) == ("report.txt", b"the report")
    with pytest.raises(NotFoundError):
        world_api.runs.artifact(run_id, 1)
    assert world_api.runs.dedup_check(run_id).run_id == run_id


def test_follow_logs_gives_up_after_its_timeout_on_a_running_run(
    world: RunWorld, world_api: Client
) -> None:
    world.submit("work")
    claim = world.start()
    world.log(claim, [line(0), line(1)])

    follow = world_api.runs.follow_logs(claim.unit_id, poll=POLL, timeout=0.05)
    assert [next(follow), next(follow)] == [line(0), line(1)]
    with pytest.raises(WaitTimeoutError, match="still going"):
        next(follow)

    world.log(claim, [line(2)])
    world.finish(claim, 0)
    cursor = world_api.runs.logs(claim.unit_id, limit=2).next_cursor
    assert list(world_api.runs.follow_logs(claim.unit_id, cursor=cursor, poll=POLL)) == [line(2)]


def test_jobs_rerun_and_lineage(api: Client) -> None:
    original = api.jobs.create("echo", {"message": "first", "count": 2}, priority="high")

    again = api.jobs.rerun(original.job_id, {"count": 3})
    deeper = api.jobs.rerun(again.job_id, priority="low")
    placed = api.jobs.rerun(original.job_id, position=1)
    keyed = api.jobs.rerun(deeper.job_id, idempotency_key="rerun-1")
    replay = api.jobs.rerun(deeper.job_id, idempotency_key="rerun-1")

    assert (again.rerun_of, again.params) == (original.job_id, {"message": "first", "count": 3})
    assert again.priority == "high"  # the original's
    assert (deeper.rerun_of, deeper.priority) == (again.job_id, "low")
    assert placed.queue_position == 1
    assert (replay.job_id, replay.idempotent_replay) == (keyed.job_id, True)
    tree = api.jobs.lineage(deeper.job_id)
    assert isinstance(tree, LineageOut)
    assert (tree.job_id, tree.root_id, tree.truncated) == (deeper.job_id, original.job_id, False)
    assert [(j.job_id, j.rerun_of) for j in tree.jobs] == [
        (original.job_id, None),
        (again.job_id, original.job_id),
        (deeper.job_id, again.job_id),
        (placed.job_id, original.job_id),
        (keyed.job_id, deeper.job_id),
    ]
    assert all(j.run is None for j in tree.jobs)  # nothing has run
    with pytest.raises(NotFoundError):
        api.jobs.rerun("job_nope")
    with pytest.raises(NotFoundError):
        api.jobs.lineage("job_nope")


def test_runs_diff(world: RunWorld, world_api: Client) -> None:
    runs = []
    for story in (b"once\nthere was\n", b"once\nthere were\n"):
        world.submit("work")
        claim = world.start()
        outputs = [world.output(claim, "story.txt", story), world.output(claim, "a.bin", b"\0")]
        world.finish(claim, 0, artifacts=outputs)
        runs.append(claim.unit_id)
    first, second = runs

    named = world_api.runs.diff(second, first, name="story.txt")
    whole = world_api.runs.diff(second, first)

    assert isinstance(named, RunsDiffOut)
    assert (named.run.run_id, named.against.run_id) == (second, first)
    assert named.diff[-2:] == ["-there was", "+there were"]
    assert not named.identical
    assert [(a.name, a.change) for a in whole.artifacts] == [
        ("a.bin", ArtifactChange.IDENTICAL),
        ("story.txt", ArtifactChange.CHANGED),
    ]
    assert world_api.runs.diff(first, first, name="story.txt").identical
    with pytest.raises(ValidationFailedError) as binary:
        world_api.runs.diff(second, first, name="a.bin")
    assert binary.value.title == "Artifact is not text"
    with pytest.raises(NotFoundError):
        world_api.runs.diff(second, "run_nope")


def test_groups(api: Client) -> None:
    made = api.groups.create({"jobs": [{"template_id": "echo"}, {"template_id": "echo"}]})
    assert len(made.jobs) == 2

    assert api.groups.get(made.group_id).group_id == made.group_id
    assert [g.group_id for g in api.groups.iter(page_size=1)] == [made.group_id]
    assert [g.group_id for g in api.groups.list().items] == [made.group_id]
    assert all(job.hold is not None for job in api.groups.hold(made.group_id, note="n").jobs)
    assert all(job.hold is None for job in api.groups.release(made.group_id).jobs)
    api.groups.cancel(made.group_id)
    assert {j.status for j in api.jobs.iter(group_id=made.group_id)} == {JobStatus.CANCELLED}


def test_reservations_refuse_an_unknown_id(api: Client) -> None:
    with pytest.raises(NotFoundError):
        api.reservations.get("r_missing")
    with pytest.raises(NotFoundError):
        api.reservations.logs("r_missing")


def test_schedules(api: Client) -> None:
    dry = api.schedules.create(SCHEDULE, dry_run=True)
    assert isinstance(dry, ScheduleDryRunOut)
    assert list(api.schedules.iter()) == []  # a dry run writes nothing

    lint = api.schedules.lint(SCHEDULE)
    assert lint.fires_per_day == 24

    created = api.schedules.create(SCHEDULE)
    assert not isinstance(created, ScheduleDryRunOut)
    schedule_id = created.schedule_id
    assert api.schedules.get(schedule_id, next_runs=3).schedule_id == schedule_id
    assert [s.schedule_id for s in api.schedules.list(template_id="echo").items] == [schedule_id]
    assert [s.schedule_id for s in api.schedules.iter(page_size=1)] == [schedule_id]

    assert api.schedules.update(schedule_id, {"name": "every hour"}).name == "every hour"
    would = api.schedules.update(schedule_id, {"name": "x"}, dry_run=True)
    assert isinstance(would, ScheduleDryRunOut)
    assert api.schedules.get(schedule_id).name == "every hour"
    assert api.schedules.disable(schedule_id, note="quiet").enabled is False
    assert api.schedules.enable(schedule_id).enabled is True

    fired = api.schedules.trigger(schedule_id, force=True)
    assert fired.schedule_id == schedule_id
    api.schedules.delete(schedule_id)
    with pytest.raises(NotFoundError):
        api.schedules.get(schedule_id)


def test_keys(api: Client, stores: Stores) -> None:
    me = api.keys.me()
    assert Scope.ADMIN in me.scopes

    made = api.keys.create("ci", ["read"])
    assert made.secret.startswith(f"jsk_{made.key_id}_")
    assert {k.key_id for k in api.keys.list().items} == {me.key_id, made.key_id}
    http = TestClient(create_app(stores=stores), base_url=f"{BASE}/api/v2")
    with Client(BASE, made.secret, http=http, retry=QUICK) as ci:
        assert ci.keys.me().name == "ci"
        assert api.keys.revoke(made.key_id).revoked_at is not None
        with pytest.raises(AuthenticationError):
            ci.keys.me()
    with pytest.raises(ConflictError):
        api.keys.revoke(me.key_id)  # not itself


def test_health_needs_no_key(api: Client) -> None:
    assert api.health()


def test_refusals_are_typed_errors(api: Client, read_api: Client) -> None:
    with pytest.raises(NotFoundError) as missing:
        api.jobs.get("j_missing")
    assert missing.value.status == 404
    assert "j_missing" in missing.value.detail

    with pytest.raises(ValidationFailedError) as invalid:
        api.jobs.list(limit=100_000)
    assert [e.field for e in invalid.value.errors] == ["query.limit"]
    with pytest.raises(ValidationFailedError) as bad_body:
        api.templates.create({"template_id": "x"})
    assert {e.field for e in bad_body.value.errors} >= {"name", "workload"}

    with pytest.raises(PermissionDeniedError):
        read_api.jobs.create("echo")
    with pytest.raises(PermissionDeniedError):
        read_api.keys.list()
    assert read_api.jobs.list().items == []  # reading is allowed

    job = api.jobs.create("echo").job_id
    api.jobs.cancel(job)
    with pytest.raises(ConflictError):
        api.queue.move(job, position=1)


def test_wait_returns_when_the_job_is_cancelled(api: Client) -> None:
    job = api.jobs.create("echo").job_id
    states: list[JobStatus] = []

    def cancel_once_seen(seen: JobDetailOut) -> None:
        states.append(seen.status)
        if seen.status == JobStatus.QUEUED:
            api.jobs.cancel(job)

    ended = api.jobs.wait(job, poll=POLL, on_change=cancel_once_seen)

    assert ended.status == JobStatus.CANCELLED
    assert states == [JobStatus.QUEUED, JobStatus.CANCELLED]


def test_wait_raises_after_its_timeout(api: Client) -> None:
    job = api.jobs.create("echo").job_id

    with pytest.raises(WaitTimeoutError, match=f"job {job} is still queued"):
        api.jobs.wait(job, timeout=0.05, poll=POLL)
    assert api.jobs.get(job).status == JobStatus.QUEUED  # it goes on
