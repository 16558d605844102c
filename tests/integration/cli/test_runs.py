"""`jobsched runs`: runs made by the real dispatcher, their logs as files under a data folder
(as the local runtime's), their artifacts downloaded as the local runtime's are."""

import io
import json
import threading
from pathlib import Path

import pytest

from jobsched.adapters.sqlite import build_stores as build_sqlite_stores
from jobsched.adapters.sqlite.db import Database
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.cli.exit_codes import ExitCode
from local.cli.logs import format_log_line
from local.exec.logs import FileLogReader
from tests.support.cli import Cli
from tests.support.ui_runs import RunWorld, make_world
from tests.support.waiting import BOUND_SECONDS


@pytest.fixture
def world(settings: Settings, sqlite_db: Database, tmp_path: Path) -> RunWorld:
    return make_world(build_sqlite_stores(settings, sqlite_db), tmp_path / "data")


@pytest.fixture
def stores(world: RunWorld) -> Stores:
    """The command's app over the world's stores: logs and artifacts read from its files."""
    return world.stores


def line(event: str, ts: str = "2026-01-18T10:00:01.250Z", **fields: object) -> str:
    return json.dumps({"ts": ts, "event": event, "unit_id": "r_x", "job_id": "j_x", **fields})


def finished_run(world: RunWorld, lines: list[str], exit_code: int = 0) -> str:
    world.submit("work", n=1)
    claim = world.start()
    world.log(claim, lines)
    uri = world.output(claim, "result.txt", b"the result\n")
    world.finish(claim, exit_code, artifacts=[uri])
    return claim.unit_id


def test_format_log_line_reads_the_workers_events() -> None:
    assert format_log_line(line("echo", message="hello world", count=2)) == (
        "10:00:01 info  echo: hello world count=2"
    )
    assert format_log_line(line("progress", done=1, total=3, note="a b")) == (
        '10:00:01 info  progress done=1 total=3 note="a b"'
    )
    failed = format_log_line(
        line("error", message="boom", error_type="ValueError", traceback="Traceback\n  boom\n")
    )
    assert failed == "10:00:01 error error: boom error_type=ValueError\nTraceback\n  boom"
    assert format_log_line(line("heartbeat_failed", error="throttled")).startswith(
        "10:00:01 warn  heartbeat_failed error=throttled"
    )
    # Not the worker's JSON: shown as it is.
    for raw in ("Traceback (most recent call last):", "[1, 2]", '{"a": 1}', ""):
        assert format_log_line(raw) == raw


@pytest.mark.usefixtures("wide")
def test_list_shows_a_table_and_json_with_filters(cli: Cli, world: RunWorld) -> None:
    done = finished_run(world, [line("echo", message="one")])
    failed = finished_run(world, [line("error", message="no")], exit_code=3)

    table = cli("runs", "list")
    assert table.exit_code == 0, table.output
    assert done in table.stdout
    assert failed in table.stdout
    assert "exit" in table.stdout
    assert "ago" in table.stdout  # started, relative
    assert "completed" in table.stdout

    listed = json.loads(cli("runs", "list", "--json").stdout)
    assert {r["run_id"] for r in listed} == {done, failed}
    only = json.loads(cli("runs", "list", "--status", "completed", "--json").stdout)
    assert [r["run_id"] for r in only] == [done]
    assert len(json.loads(cli("runs", "list", "--limit", "1", "--json").stdout)) == 1
    assert json.loads(cli("runs", "list", "--template", "other", "--json").stdout) == []


def test_list_refuses_a_time_without_a_zone(cli: Cli) -> None:
    refused = cli("runs", "list", "--since", "2026-01-18T10:00:00")
    assert refused.exit_code == ExitCode.INVALID
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "since" in refused.stderr


@pytest.mark.usefixtures("wide")
def test_show_lists_every_field_and_the_artifacts_by_index(cli: Cli, world: RunWorld) -> None:
    run_id = finished_run(world, [line("echo", message="one")])
    shown = cli("runs", "show", run_id)
    assert shown.exit_code == 0, shown.output
    assert "artifact 0" in shown.stdout
    assert "result.txt" in shown.stdout
    assert "exit_code" in shown.stdout
    assert "template_version" in shown.stdout
    data = json.loads(cli("runs", "show", run_id, "--json").stdout)
    assert data["run_id"] == run_id
    assert data["exit_code"] == 0


def test_an_unknown_run_is_not_found_in_one_line(cli: Cli) -> None:
    for args in (("show",), ("logs",), ("logs", "-f"), ("artifact",)):
        extra = ("0",) if args == ("artifact",) else ()
        missing = cli("runs", *args, "r_nope", *extra)
        assert missing.exit_code == ExitCode.NOT_FOUND, (args, missing.output)
        assert missing.stdout == ""
        assert len(missing.stderr.strip().splitlines()) == 1
        assert missing.stderr.startswith("error: 404")


def test_logs_read_from_the_start_formatted_or_raw(cli: Cli, world: RunWorld) -> None:
    lines = [line("started", workload="echo"), "not json", line("echo", message="hi")]
    run_id = finished_run(world, lines)

    shown = cli("runs", "logs", run_id)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines() == [
        "10:00:01 info  started workload=echo",
        "not json",
        "10:00:01 info  echo: hi",
    ]
    assert cli("runs", "logs", run_id, "--raw").stdout.splitlines() == lines
    assert cli("runs", "logs", run_id, "--raw", "--limit", "2").stdout.splitlines() == lines[:2]


def test_logs_page_through_a_long_log(cli: Cli, world: RunWorld) -> None:
    lines = [line("progress", done=n) for n in range(450)]  # more than two pages of 200
    run_id = finished_run(world, lines)
    assert cli("runs", "logs", run_id, "--raw").stdout.splitlines() == lines
    assert len(cli("runs", "logs", run_id, "--limit", "250").stdout.splitlines()) == 250


def test_follow_reads_until_the_run_ends(
    cli: Cli, world: RunWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.submit("work", n=1)
    claim = world.start()
    world.log(claim, [line("started", workload="echo")])
    read = threading.Event()
    reading = FileLogReader.read

    def noted(self: FileLogReader, *args: object, **kwargs: object) -> object:
        read.set()
        return reading(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FileLogReader, "read", noted)

    def work_then_end() -> None:
        # Only once the command is following: these lines come while it reads.
        if read.wait(BOUND_SECONDS):
            world.log(claim, [line("echo", message="later"), line("finished", exit_code=0)])
            world.finish(claim, 0)

    worker = threading.Thread(target=work_then_end)
    worker.start()
    try:
        followed = cli("runs", "logs", claim.unit_id, "-f", "--timeout", str(BOUND_SECONDS))
    finally:
        worker.join(BOUND_SECONDS)
    assert followed.exit_code == 0, followed.output
    assert followed.stdout.splitlines() == [
        "10:00:01 info  started workload=echo",
        "10:00:01 info  echo: later",
        "10:00:01 info  finished exit_code=0",
    ]


def test_follow_gives_up_after_its_timeout(cli: Cli, world: RunWorld) -> None:
    world.submit("work", n=1)
    claim = world.start()
    world.log(claim, [line("started")])
    gave_up = cli("runs", "logs", claim.unit_id, "-f", "--timeout", "0")
    assert gave_up.exit_code == ExitCode.TIMEOUT
    assert gave_up.stdout.splitlines() == ["10:00:01 info  started"]
    assert "still going" in gave_up.stderr


def test_logs_refuse_options_that_do_not_go_together(cli: Cli) -> None:
    assert cli("runs", "logs", "r_x", "-f", "--limit", "3").exit_code == ExitCode.USAGE
    assert cli("runs", "logs", "r_x", "--timeout", "3").exit_code == ExitCode.USAGE


def test_artifact_saves_under_its_name_and_never_overwrites(
    cli: Cli, world: RunWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = finished_run(world, [line("echo")])
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)

    saved = cli("runs", "artifact", run_id, "0")
    assert saved.exit_code == 0, saved.output
    assert (here / "result.txt").read_bytes() == b"the result\n"

    (here / "result.txt").write_text("mine")
    refused = cli("runs", "artifact", run_id, "0")
    assert refused.exit_code == ExitCode.ERROR
    assert "--force" in refused.stderr
    assert (here / "result.txt").read_text() == "mine"
    assert cli("runs", "artifact", run_id, "0", "--force").exit_code == 0
    assert (here / "result.txt").read_bytes() == b"the result\n"

    assert cli("runs", "artifact", run_id, "0", "-o", "copy.txt").exit_code == 0
    assert (here / "copy.txt").read_bytes() == b"the result\n"
    assert cli("runs", "artifact", run_id, "0", "-o", "-").stdout == "the result\n"

    beyond = cli("runs", "artifact", run_id, "5", "-o", "x")
    assert beyond.exit_code == ExitCode.NOT_FOUND
    assert not (here / "x").exists()


def run_with(world: RunWorld, outputs: dict[str, bytes]) -> str:
    world.submit("work", n=1)
    claim = world.start()
    world.finish(claim, 0, artifacts=[world.output(claim, n, d) for n, d in outputs.items()])
    run_id: str = claim.unit_id
    return run_id


@pytest.mark.usefixtures("wide")
def test_diff_shows_what_changed_between_two_runs(cli: Cli, world: RunWorld) -> None:
    first = run_with(world, {"story.txt": b"one\ntwo\n", "a.bin": b"\0\1", "old.txt": b"x\n"})
    second = run_with(world, {"story.txt": b"one\n2\n", "a.bin": b"\0\2", "new.txt": b"y\n"})

    named = cli("runs", "diff", second, first, "--name", "story.txt")
    whole = cli("runs", "diff", second, first)

    assert named.exit_code == 0, named.output
    assert named.stdout.splitlines() == [
        f"--- {first}/story.txt",
        f"+++ {second}/story.txt",
        "@@ -1,2 +1,2 @@",
        " one",
        "-two",
        "+2",
    ]
    assert whole.exit_code == 0, whole.output
    table = {line.split()[0]: line.split()[1] for line in whole.stdout.splitlines()[1:5]}
    assert table == {
        "a.bin": "changed",
        "new.txt": "added",
        "old.txt": "removed",
        "story.txt": "changed",
    }
    assert "a.bin: changed, not shown:" in whole.stdout  # binary: no diff
    assert "not UTF-8 text" in whole.stdout
    assert f"+++ {second}/new.txt" in whole.stdout
    assert f"--- {first}/old.txt" in whole.stdout
    assert "-two\n+2" in whole.stdout
    as_json = json.loads(cli("runs", "diff", second, first, "-n", "story.txt", "--json").stdout)
    assert as_json["diff"][-2:] == ["-two", "+2"]
    assert as_json["run"]["run_id"] == second
    assert json.loads(cli("runs", "diff", second, first, "--json").stdout)["identical"] is False


def test_diff_of_identical_runs_and_its_refusals(cli: Cli, world: RunWorld) -> None:
    first = run_with(world, {"story.txt": b"same\n", "a.bin": b"\0"})
    second = run_with(world, {"story.txt": b"same\n", "a.bin": b"\0"})

    assert cli("runs", "diff", second, first, "-n", "story.txt").stdout == "story.txt: identical\n"
    assert cli("runs", "diff", second, first).stdout.rstrip().endswith("identical")
    missing = cli("runs", "diff", second, "run_nope")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert missing.stdout == ""
    binary = cli("runs", "diff", second, first, "-n", "a.bin")
    assert binary.exit_code == ExitCode.INVALID
    assert binary.stderr.startswith("error: 422 Artifact is not text")


def test_diff_lines_are_colored_at_a_terminal(
    cli: Cli, world: RunWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from local.cli import runs

    screen = Console(force_terminal=True, color_system="standard", width=200, file=io.StringIO())
    monkeypatch.setattr(runs, "console", screen)
    first = run_with(world, {"story.txt": b"one\n"})
    second = run_with(world, {"story.txt": b"two\n"})

    assert cli("runs", "diff", second, first, "-n", "story.txt").exit_code == 0

    shown = screen.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[31m-one\x1b[0m" in shown
    assert "\x1b[32m+two\x1b[0m" in shown
    assert "\x1b[36m@@ -1 +1 @@\x1b[0m" in shown
