"""`jobsched status`: the overview's counts, running jobs, fires, figures and attention."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from jobsched.ids import new_id
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobRun, PendingSync, RunStatus, Schedule, Scope
from jobsched.models.gates import FailedCheck, GateVerdict
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from jobsched_client import Client
from jobsched_client.summary import RUN_PAGES
from tests.support.cli import Cli
from tests.support.ui_runs import make_world


@dataclass
class World:
    completed: str
    failed: str
    lost: str
    running: str
    held: str
    schedule: str
    pending: str


@pytest.fixture
def world(cli: Cli, stores: Stores, tmp_path: Path) -> World:
    """A run of each ending (the failed one waits to retry), one running, one held, a schedule
    and one whose change EventBridge has not taken."""
    runs = make_world(stores, tmp_path / "data")
    runs.clock.now = time.time() - 600  # ten minutes ago: inside the last day, never ahead
    completed, failed, lost, running, held = (runs.submit() for _ in range(5))
    for job_id, outcome in ((completed, 0), (failed, 1), (lost, None)):
        claim = runs.start()
        assert claim.job is not None
        assert claim.job.job_id == job_id
        if outcome is None:
            runs.dispatcher.finish(claim, Outcome.lost(), claim_next=False)
        else:
            runs.finish(claim, outcome)
    claim = runs.start()
    assert claim.job is not None
    # The failed and lost jobs wait out their backoff: the next one claimed is `running`.
    assert claim.job.job_id == running
    assert cli("jobs", "hold", held, "--note", "wait for data").exit_code == 0
    made = cli(
        "schedules",
        "create",
        *("-s", "name=hourly", "-s", "template_id=work", "-s", "expression=rate(1 hour)"),
        "--json",
    )
    assert made.exit_code == 0, made.output
    pending = Schedule(
        schedule_id=new_id("sch"),
        name="pending",
        template_id="work",
        expression="rate(1 day)",
        pending_sync=PendingSync(),
    )
    stores.schedules.create(pending)
    return World(
        completed,
        failed,
        lost,
        running,
        held,
        json.loads(made.stdout)["schedule_id"],
        pending.schedule_id,
    )


def status_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("status", *args)
    assert result.exit_code == 0, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def test_the_json_has_every_part_with_the_api_figures(cli: Cli, world: World) -> None:
    shown = status_json(cli, "--json")
    assert set(shown) == {
        "at",
        "stats",
        "running",
        "running_more",
        "fires",
        "fires_until",
        "fires_cut",
        "schedules_more",
        "runs",
        "attention",
    }
    stats = json.loads(cli("queue", "stats", "--json").stdout)
    assert shown["stats"]["counts_by_status"] == stats["counts_by_status"]
    assert shown["stats"]["paused"] is False
    assert [job["job_id"] for job in shown["running"]] == [world.running]
    assert shown["running"][0]["run"]["status"] == "started"
    # The hourly schedule's fires of the next day (the pending one's only if within it), sorted.
    hourly = [f for f in shown["fires"] if f["schedule_id"] == world.schedule]
    assert 23 <= len(hourly) <= 25
    assert [f["utc"] for f in shown["fires"]] == sorted(f["utc"] for f in shown["fires"])
    assert {"utc", "local", "note", "name", "timezone"} <= set(hourly[0])
    runs = shown["runs"]
    assert (runs["completed"], runs["failed"], runs["started"]) == (1, 2, 4)
    assert runs["truncated"] is False
    assert runs["duration_seconds"]["n"] == 3  # the running one has no end yet
    assert runs["wait_seconds"]["n"] == 4
    found = shown["attention"]
    assert [r["job_id"] for r in found["lost"]] == [world.lost]
    assert [r["job_id"] for r in found["failed"]] == [world.failed]
    assert found["failed"][0]["exit_code"] == 1
    assert {j["job_id"] for j in found["retrying"]} == {world.failed, world.lost}
    assert [j["job_id"] for j in found["held"]] == [world.held]
    assert found["held"][0]["hold"]["note"] == "wait for data"
    assert [s["schedule_id"] for s in found["sync_pending"]] == [world.pending]
    assert found["webhooks"] == []


def test_waits_and_durations_are_the_overviews_percentiles(
    cli: Cli, stores: Stores, echo_template: str
) -> None:
    """Runs of known waits (1-4 s after their jobs' creation) and durations (10-40 s)."""
    for i in range(1, 5):
        job, _ = enqueue(stores, JobCreate(template_id="echo", params={}))
        started = job.created_at + timedelta(seconds=i)
        stores.runs.put(
            JobRun(
                run_id=new_id("run"),
                job_id=job.job_id,
                template_id="echo",
                status=RunStatus.COMPLETED,
                started_at=started,
                finished_at=started + timedelta(seconds=10 * i),
            )
        )
    runs = status_json(cli, "-o", "json")["runs"]
    assert runs["wait_seconds"] == {"p50": 2.0, "p90": 4.0, "n": 4}
    assert runs["duration_seconds"] == {"p50": 20.0, "p90": 40.0, "n": 4}
    assert runs["completed"] == 4

    table = cli("status")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert "runs, last 24 hours: 4 completed, 0 failed" in lines
    assert ["wait", "2s", "4s", "4"] in [line.split() for line in lines]
    assert ["duration", "20s", "40s", "4"] in [line.split() for line in lines]


@pytest.mark.usefixtures("wide")
def test_the_table_shows_each_section(cli: Cli, world: World) -> None:
    shown = status_json(cli, "--json")
    run_id = shown["running"][0]["run"]["run_id"]
    found = shown["attention"]
    retrying = {j["job_id"]: j["run"]["run_id"] for j in found["retrying"]}
    result = cli("status")
    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["queue", "running"]
    for heading in ("running (1)", "schedule fires, next 24 hours", "needs attention"):
        assert heading in out
    [running] = [line for line in lines if line and line[0] == world.running]
    assert running[1] == "Work"
    assert running[-1] == run_id
    assert "jobsched jobs cancel JOB_ID" in out
    assert "and " in out
    assert "more (--json lists them)" in out
    attention = [line.split() for line in out.split("needs attention")[1].splitlines()[2:-1]]
    kinds = {(line[0], line[1]) for line in attention}  # a run's id, else the job's
    assert ("lost", found["lost"][0]["run_id"]) in kinds
    assert ("failed", found["failed"][0]["run_id"]) in kinds
    assert ("retrying", retrying[world.failed]) in kinds
    assert ("held", world.held) in kinds
    assert "by cli-test: wait for data" in out
    [sync] = [line for line in attention if line[0] == "sync"]
    assert sync[1] == world.pending


def test_a_paused_queue_says_so_with_its_note(cli: Cli) -> None:
    assert cli("queue", "pause", "--note", "deploying").exit_code == 0
    shown = status_json(cli, "--json")
    assert shown["stats"]["paused"] is True
    assert shown["stats"]["state"]["note"] == "deploying"
    first = cli("status").stdout.splitlines()[0]
    assert first.startswith("queue paused")
    assert first.endswith(": deploying")


def test_an_empty_scheduler_and_yaml(cli: Cli) -> None:
    table = cli("status")
    assert table.exit_code == 0, table.output
    assert "nothing runs now" in table.stdout
    assert "needs attention\nnothing" in table.stdout
    shown = yaml.safe_load(cli("status", "-o", "yaml").stdout)
    assert shown["running"] == []
    assert shown["fires"] == []
    assert shown["runs"]["wait_seconds"] == {"p50": None, "p90": None, "n": 0}


def test_a_read_only_key_sees_the_status(
    cli_for: Callable[[list[Scope]], Cli], world: World
) -> None:
    reader = cli_for([Scope.READ])
    shown = status_json(reader, "--json")
    assert [job["job_id"] for job in shown["running"]] == [world.running]
    assert [j["job_id"] for j in shown["attention"]["held"]] == [world.held]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request the client sends."""
    sent: list[str] = []
    real = Client.send

    def counting(self: Client, method: str, path: str, **options: Any) -> Any:
        sent.append(f"{method} {path}")
        return real(self, method, path, **options)

    monkeypatch.setattr(Client, "send", counting)
    return sent


def test_the_calls_are_bounded_whatever_the_queue_length(
    cli: Cli, stores: Stores, echo_template: str, calls: list[str]
) -> None:
    status_json(cli, "--json")
    few = len(calls)
    assert few <= 8 + RUN_PAGES
    for _ in range(250):  # more than a page of jobs
        enqueue(stores, JobCreate(template_id="echo", params={}))
    calls.clear()
    status_json(cli, "--json")
    assert len(calls) == few


def test_a_rejected_run_needs_attention_with_the_failed_ones(
    cli: Cli, stores: Stores, tmp_path: Path
) -> None:
    runs = make_world(stores, tmp_path / "data")
    runs.clock.now = time.time() - 600
    runs.submit()
    claim = runs.start()
    check = FailedCheck(index=0, kind="count", reason="1 file, not 3", measured=1)
    runs.finish(claim, 0, verdict=GateVerdict(failed=[check]))

    [shown] = status_json(cli, "--json")["attention"]["failed"]
    assert (shown["run_id"], shown["status"]) == (claim.unit_id, "rejected")
    assert shown["error"] == "rejected: 1 check failed: 1 file, not 3"
    table = cli("status").stdout
    assert "rejected" in table
