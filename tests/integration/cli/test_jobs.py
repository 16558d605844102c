"""`jobsched jobs`: the commands in process; the jobs' runs are made by the real dispatcher
(tests/support/ui_runs.py), from a thread where the command waits for them."""

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.models import Scope
from jobsched.models.budgets import Budget, BudgetPeriod
from jobsched.models.gates import FailedCheck, GateVerdict
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from jobsched_client.models import JobDetailOut
from local.cli import jobs
from local.cli.exit_codes import ExitCode
from local.exec.logs import FileLogReader
from tests.support.cli import Cli
from tests.support.dispatch import Edges
from tests.support.ui_runs import RunWorld, make_world
from tests.support.waiting import BOUND_SECONDS, wait_until

BOUND = str(int(BOUND_SECONDS))  # --timeout of a wait the test ends itself: only a hang hits it
LINES = [
    '{"ts": "2026-01-02T03:04:05.678Z", "event": "started", "unit_id": "u", "job_id": "j", '
    '"workload": "echo"}',
    '{"ts": "2026-01-02T03:04:06.000Z", "event": "echo", "unit_id": "u", "job_id": "j", '
    '"message": "hello there"}',
    "Traceback (most recent call last): not an event",
]


class CountedLogReader(FileLogReader):
    """The local runtime's log reader, counting the lines it has handed out."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.lines_read = 0

    def read(
        self, log_path: str | None, cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        lines, after = super().read(log_path, cursor, limit)
        self.lines_read += len(lines)
        return lines, after


@pytest.fixture
def log_reader(tmp_path: Path) -> CountedLogReader:
    return CountedLogReader(tmp_path / "data")


@pytest.fixture
def stores(stores: Stores, log_reader: CountedLogReader) -> Stores:
    """The embedded store, whose run logs are files as the local runtime's."""
    edges = Edges()
    return stores.with_edges(kicker=edges, tasks=edges, logs=log_reader)


@pytest.fixture
def world(stores: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunWorld:
    monkeypatch.setattr(jobs, "POLL_SECONDS", 0.02)
    return make_world(stores, tmp_path / "data")


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[JobDetailOut]:
    """Each state of the job the command's --wait has shown, in order."""
    shown: list[JobDetailOut] = []
    show = jobs.Watch.show

    def recorded(self: jobs.Watch, job: JobDetailOut) -> None:
        show(self, job)
        shown.append(job)

    monkeypatch.setattr(jobs.Watch, "show", recorded)
    return shown


@pytest.fixture
def worker(
    world: RunWorld, seen: list[JobDetailOut], log_reader: CountedLogReader
) -> Iterator[Callable[..., None]]:
    """`worker(exit_code)`: a thread that runs the submitted job once the command has seen it
    queued, writing LINES to its log and ending it with that exit code; with `live=True`, it
    ends the run only once the log was read (the command follows a run that is going)."""
    threads: list[threading.Thread] = []

    def run(exit_code: int, live: bool = False, verdict: GateVerdict | None = None) -> None:
        def work() -> None:
            wait_until(lambda: any(job.status == "queued" for job in seen), what="a wait")
            claim = world.start()
            world.log(claim, LINES)
            if live:
                wait_until(lambda: log_reader.lines_read >= len(LINES), what="the log read")
            world.finish(claim, exit_code, verdict=verdict)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)

    yield run
    for thread in threads:
        thread.join(BOUND_SECONDS)


def submitted(cli: Cli, *args: str) -> str:
    made = cli("jobs", "submit", "echo", *args, "--json")
    assert made.exit_code == 0, made.output
    job_id: str = json.loads(made.stdout)["job_id"]
    return job_id


def test_submit_prints_the_id_place_and_eta(cli: Cli) -> None:
    first = cli("jobs", "submit", "echo", "-p", "message=yo", "-p", "count=2")
    assert first.exit_code == 0, first.output
    words = first.stdout.split()
    assert words[0] == "queued"
    assert words[1].startswith("job_")
    assert "(position 1, starts ~" in first.stdout

    created = json.loads(cli("jobs", "submit", "echo", "--priority", "high", "--json").stdout)
    assert created["priority"] == "high"
    assert created["queue_position"] == 1  # high goes ahead of normal
    shown = json.loads(cli("jobs", "show", words[1], "--json").stdout)
    assert shown["params"] == {"message": "yo", "count": 2}
    assert shown["queue_position"] == 2


def test_submit_with_an_idempotency_key_makes_one_job(cli: Cli, tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("message: from a file\ncount: 3\n")
    first = submitted(cli, "-f", str(params), "--idempotency-key", "k-1")
    again = cli("jobs", "submit", "echo", "-f", str(params), "--idempotency-key", "k-1")
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == f"queued {first} (an earlier submit with this idempotency key)"
    listed = json.loads(cli("jobs", "list", "--json").stdout)
    assert [j["params"] for j in listed] == [{"message": "from a file", "count": 3}]


def test_submit_refuses_bad_params_and_templates(cli: Cli) -> None:
    bad = cli("jobs", "submit", "echo", "-p", "count=99")
    assert bad.exit_code == ExitCode.INVALID
    assert bad.stderr.startswith("error: 422")
    assert cli("jobs", "submit", "nope").exit_code == ExitCode.NOT_FOUND
    usage = cli("jobs", "submit", "echo", "-p", "count")
    assert usage.exit_code == ExitCode.USAGE
    assert usage.stderr.strip() == "error: --param takes key=value, not 'count'"


def test_submit_wait_ends_with_the_outcome(cli: Cli, worker: Callable[[int], None]) -> None:
    worker(0)
    waited = cli("jobs", "submit", "echo", "--wait", "--timeout", BOUND)
    assert waited.exit_code == ExitCode.OK, waited.output
    job_id = waited.stdout.split()[1]
    assert f"{job_id}: queued, position 1" in waited.stderr  # stderr is no terminal: lines
    last = waited.stdout.strip().splitlines()[-1]
    assert last.startswith(f"finished {job_id}: run ")
    assert last.endswith("completed (exit code 0)")
    assert "hello there" not in waited.stdout  # --wait alone prints no log


def test_submit_follow_prints_the_log_readably(cli: Cli, worker: Callable[..., None]) -> None:
    worker(0, live=True)
    followed = cli("jobs", "submit", "echo", "--follow", "--timeout", BOUND)
    assert followed.exit_code == ExitCode.OK, followed.output
    lines = followed.stdout.strip().splitlines()
    assert lines[1:4] == [
        "03:04:05 info  started workload=echo",
        "03:04:06 info  echo: hello there",
        "Traceback (most recent call last): not an event",
    ]
    assert lines[4].endswith("completed (exit code 0)")


def test_a_failed_run_exits_job_failed(cli: Cli, worker: Callable[[int], None]) -> None:
    worker(3)
    failed = cli("jobs", "submit", "echo", "--follow", "--timeout", BOUND)
    assert failed.exit_code == ExitCode.JOB_FAILED, failed.output
    assert "03:04:06 info  echo: hello there" in failed.stdout
    assert "run " in failed.stdout
    assert "failed (exit code 3)" in failed.stdout


def test_a_rejected_run_exits_job_failed_with_what_failed(
    cli: Cli, worker: Callable[..., None]
) -> None:
    failed = FailedCheck(index=0, kind="count", reason="1 file, not 3")
    worker(0, verdict=GateVerdict(failed=[failed]))
    waited = cli("jobs", "submit", "echo", "--wait", "--timeout", BOUND)
    assert waited.exit_code == ExitCode.JOB_FAILED, waited.output
    assert "rejected (exit code 0): rejected: 1 check failed: 1 file, not 3" in waited.stdout


def test_wait_in_json_prints_the_ended_job(cli: Cli, worker: Callable[[int], None]) -> None:
    worker(0)
    waited = cli("jobs", "submit", "echo", "--follow", "--timeout", BOUND, "--json")
    assert waited.exit_code == ExitCode.OK, waited.output
    job = json.loads(waited.stdout)  # one document: the log went to stderr
    assert job["status"] == "finished"
    assert job["run"]["status"] == "completed"
    assert "03:04:06 info  echo: hello there" in waited.stderr


def test_wait_gives_up_after_its_timeout(cli: Cli) -> None:
    waited = cli("jobs", "submit", "echo", "--wait", "--timeout", "0.1")
    assert waited.exit_code == ExitCode.TIMEOUT
    job_id = waited.stdout.split()[1]
    assert waited.stderr.strip().splitlines()[-1] == (
        f"error: job {job_id} is still queued after 0.1 s (it goes on)"
    )
    assert json.loads(cli("jobs", "show", job_id, "--json").stdout)["status"] == "queued"


def test_a_job_cancelled_while_waited_exits_job_failed(cli: Cli, world: RunWorld) -> None:
    def cancel_it() -> None:
        entry = wait_until(lambda: next(world.stores.queue.entries(), None), what="a job")
        cancel_job(world.stores, entry.job_id)

    thread = threading.Thread(target=cancel_it, daemon=True)
    thread.start()
    waited = cli("jobs", "submit", "echo", "--wait", "--timeout", BOUND)
    thread.join(BOUND_SECONDS)
    assert waited.exit_code == ExitCode.JOB_FAILED, waited.output
    job_id = waited.stdout.split()[1]
    assert waited.stdout.strip().splitlines()[-1] == f"cancelled {job_id} before it ran"


def test_list_shows_a_table_and_json_with_filters(cli: Cli) -> None:
    first = submitted(cli, "-p", "message=one")
    second = submitted(cli, "-p", "message=two")
    cli("jobs", "hold", second, "--note", "not yet")

    table = cli("jobs", "list")
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].split()[:3] == ["job_id", "template", "status"]
    assert first in table.stdout
    assert second in table.stdout

    held = json.loads(cli("jobs", "list", "--status", "held", "--json").stdout)
    assert [j["job_id"] for j in held] == [second]
    assert held[0]["hold"]["note"] == "not yet"
    one = json.loads(cli("jobs", "list", "--limit", "1", "-o", "json").stdout)
    assert len(one) == 1
    assert json.loads(cli("jobs", "list", "--template", "work", "--json").stdout) == []
    assert cli("jobs", "list", "--status", "lost").exit_code == ExitCode.USAGE


def test_show_hold_release(cli: Cli) -> None:
    job_id = submitted(cli)
    assert cli("jobs", "hold", job_id, "--note", "after lunch").stdout.strip() == (
        f"held {job_id} (position 1)"
    )
    shown = cli("jobs", "show", job_id)
    assert "after lunch (by cli-test)" in shown.stdout
    assert "held" in shown.stdout
    released = cli("jobs", "release", job_id, "--json")
    assert json.loads(released.stdout)["status"] == "queued"
    detail = cli("jobs", "show", job_id)
    assert "eta" in detail.stdout
    assert "start " in detail.stdout
    again = cli("jobs", "release", job_id)
    assert again.exit_code == ExitCode.CONFLICT
    assert len(again.stderr.strip().splitlines()) == 1


def test_runs_lists_the_job_s_runs(cli: Cli, world: RunWorld) -> None:
    job_id = submitted(cli)
    claim = world.start()
    world.finish(claim, 1, error="it broke")
    table = cli("jobs", "runs", job_id)
    assert table.exit_code == 0, table.output
    assert claim.unit_id in table.stdout
    assert "failed" in table.stdout
    chain = json.loads(cli("jobs", "runs", job_id, "--json").stdout)
    assert [(r["run_id"], r["exit_code"]) for r in chain] == [(claim.unit_id, 1)]
    shown = cli("jobs", "show", job_id).stdout
    assert f"{claim.unit_id} failed (attempt 1, exit code 1)" in shown


def test_rerun_makes_a_rerun_of_the_job(cli: Cli, tmp_path: Path) -> None:
    job_id = submitted(cli, "-p", "message=again", "--priority", "75")
    changes = tmp_path / "changes.yaml"
    changes.write_text("message: from a file\ncount: 3\n", encoding="utf-8")

    rerun = cli("jobs", "rerun", job_id, "-f", str(changes), "-p", "count=4")

    assert rerun.exit_code == 0, rerun.output
    assert rerun.stdout.startswith("queued job_")
    assert rerun.stdout.rstrip().endswith(f", rerun of {job_id}")
    new_id = rerun.stdout.split()[1]
    new = json.loads(cli("jobs", "show", new_id, "--json").stdout)
    assert new["params"] == {"message": "from a file", "count": 4}  # -p over the file's
    assert new["priority"] == "high"
    assert new["template_id"] == "echo"
    assert new["rerun_of"] == job_id  # the API's rerun, not a plain submit
    old = json.loads(cli("jobs", "show", job_id, "--json").stdout)
    assert old["status"] == "queued"
    assert old["params"]["count"] == 1
    low = json.loads(cli("jobs", "rerun", new_id, "--priority", "low", "--json").stdout)
    assert (low["rerun_of"], low["priority"], low["idempotent_replay"]) == (new_id, "low", False)
    assert cli("jobs", "rerun", "job_nope").exit_code == ExitCode.NOT_FOUND
    refused = cli("jobs", "rerun", job_id, "-p", "count=99")
    assert refused.exit_code == ExitCode.INVALID
    assert "params.count" in refused.stderr


def test_rerun_wait_ends_with_the_reruns_outcome(
    cli: Cli, world: RunWorld, worker: Callable[[int], None]
) -> None:
    job_id = submitted(cli)
    first = world.start()
    world.finish(first, 0)
    worker(0)  # runs the rerun once the command has seen it queued

    waited = cli("jobs", "rerun", job_id, "--wait", "--timeout", BOUND)

    assert waited.exit_code == ExitCode.OK, waited.output
    rerun_id = waited.stdout.split()[1]
    assert rerun_id != job_id
    assert waited.stdout.strip().splitlines()[-1].startswith(f"finished {rerun_id}: run ")


@pytest.mark.usefixtures("wide")
def test_lineage_prints_the_tree_of_reruns(cli: Cli, world: RunWorld) -> None:
    root = submitted(cli, "-p", "message=first")
    claim = world.start()
    world.finish(claim, 0)
    child = json.loads(cli("jobs", "rerun", root, "-p", "count=2", "--json").stdout)["job_id"]
    grandchild = json.loads(cli("jobs", "rerun", child, "--json").stdout)["job_id"]
    sibling = json.loads(cli("jobs", "rerun", root, "--json").stdout)["job_id"]

    shown = cli("jobs", "lineage", grandchild)

    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.rstrip().splitlines()
    assert lines[0] == f"lineage of {root} (4 jobs)"
    ids = [root, child, grandchild, sibling]
    first_ids = [next((w for w in text.split() if w.startswith("job_")), "") for text in lines]
    at = {job: first_ids.index(job, 1) for job in ids}
    assert at[root] < at[child] < at[grandchild] < at[sibling]  # each under the job it reruns
    depth = {job: lines[at[job]].index(job) for job in ids}
    assert depth[root] < depth[child] < depth[grandchild]
    assert depth[sibling] == depth[child]
    assert f"run {claim.unit_id} completed exit 0" in lines[at[root]]
    assert "finished" in lines[at[root]]
    assert "count=2" in lines[at[child]]  # what the rerun changed
    assert "no run yet" in lines[at[child]]
    assert lines[at[grandchild]].endswith("<- this job")
    assert "created 20" in lines[at[sibling]]
    as_json = json.loads(cli("jobs", "lineage", root, "--json").stdout)
    assert (as_json["job_id"], as_json["root_id"], as_json["truncated"]) == (root, root, False)
    assert [job["job_id"] for job in as_json["jobs"]] == [root, child, grandchild, sibling]
    assert as_json["jobs"][0]["run"]["exit_code"] == 0
    assert cli("jobs", "lineage", "job_nope").exit_code == ExitCode.NOT_FOUND


def test_a_read_only_key_cannot_cancel(cli: Cli, cli_for: Callable[[list[Scope]], Cli]) -> None:
    job_id = submitted(cli)
    reader = cli_for([Scope.READ])
    refused = reader("jobs", "cancel", job_id)
    assert refused.exit_code == ExitCode.DENIED
    assert refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith("error: 403")
    assert reader("jobs", "show", job_id).exit_code == 0


@pytest.mark.usefixtures("wide")
def test_show_says_which_spent_budget_the_job_waits_for(cli: Cli, stores: Stores) -> None:
    budgets = [Budget(period=BudgetPeriod.MONTH, tokens=10)]
    create_template(
        stores,
        TemplateCreate(template_id="capped", name="Capped", workload="echo", budgets=budgets),
    )
    enqueue(stores, JobCreate(template_id="capped"))
    # Spent in the real clock's month, which the API reads the budget in.
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
    claim = dispatcher.claim()
    assert claim is not None
    used = Usage(calls=1, prompt_tokens=5, completion_tokens=5)
    dispatcher.finish(claim, Outcome(exit_code=0, usage=used), claim_next=False)
    waiting, _ = enqueue(stores, JobCreate(template_id="capped"))

    shown = cli("jobs", "show", waiting.job_id)

    assert shown.exit_code == 0, shown.output
    assert "waits: the monthly budget of template 'capped'" in shown.stdout
    assert "10 of 10 tokens committed" in shown.stdout
    as_json = json.loads(cli("jobs", "show", waiting.job_id, "--json").stdout)
    assert as_json["budget_wait"]["budgets"][0]["used_tokens"] == 10
    assert as_json["eta"]["state"] == "budget"
