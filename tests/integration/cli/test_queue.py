"""`jobsched queue`."""

import json
from collections.abc import Callable
from pathlib import Path

from jobsched.models import Scope
from local.cli.exit_codes import ExitCode
from tests.support.cli import Cli


def submit(cli: Cli, count: int, *args: str) -> list[str]:
    made = [cli("jobs", "submit", "echo", *args, "--json") for _ in range(count)]
    return [json.loads(result.stdout)["job_id"] for result in made]


def order(cli: Cli) -> list[str]:
    return [item["job_id"] for item in json.loads(cli("queue", "--json").stdout)["items"]]


def test_the_group_alone_shows_the_order_with_etas(cli: Cli) -> None:
    ids = submit(cli, 3)
    cli("jobs", "hold", ids[1], "--note", "later")

    table = cli("queue")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0] == "queue running"
    assert lines[1].split() == ["pos", "job_id", "template", "priority", "held", "start", "finish"]
    assert lines[2].split()[:6] == ["1", ids[0], "echo", "normal", "no", "now"]
    assert lines[3].split()[:5] == ["2", ids[1], "echo", "normal", "yes"]
    assert "held" in lines[3].split()[5:]
    assert lines[4].split()[5] == "in"  # "in 5m": after the first job's assumed five minutes

    shown = json.loads(cli("queue", "--json").stdout)
    assert [item["job_id"] for item in shown["items"]] == ids
    assert shown["paused"] is False
    assert shown["items"][0]["eta"]["state"] == "estimated"
    explicit = json.loads(cli("queue", "show", "-o", "json").stdout)
    assert [item["job_id"] for item in explicit["items"]] == ids


def test_limit_pages_through_the_queue(cli: Cli) -> None:
    ids = submit(cli, 3)
    two = json.loads(cli("queue", "--limit", "2", "--json").stdout)
    assert [item["job_id"] for item in two["items"]] == ids[:2]
    assert two["next_cursor"]
    table = cli("queue", "show", "--limit", "2").stdout
    assert ids[2] not in table
    assert "--limit N shows more places" in table
    assert cli("queue", "--limit", "0").exit_code == ExitCode.USAGE


def test_an_empty_queue(cli: Cli) -> None:
    shown = cli("queue")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines() == ["queue running", "nothing queued"]


def test_move_by_position_before_and_after(cli: Cli) -> None:
    a, b, c = submit(cli, 3)
    moved = cli("queue", "move", c, "--position", "1")
    assert moved.exit_code == 0, moved.output
    assert moved.stdout.strip() == f"moved {c} to position 1"
    assert order(cli) == [c, a, b]
    cli("queue", "move", c, "--after", b)
    assert order(cli) == [a, b, c]
    data = json.loads(cli("queue", "move", c, "--before", a, "--json").stdout)
    assert data["queue_position"] == 1
    assert order(cli) == [c, a, b]


def test_a_move_among_higher_priorities_says_so(cli: Cli) -> None:
    (urgent,) = submit(cli, 1, "--priority", "high")
    (plain,) = submit(cli, 1)
    moved = cli("queue", "move", plain, "--before", urgent)
    assert moved.exit_code == 0, moved.output
    assert moved.stdout.startswith(f"moved {plain} to position 1 (")
    assert "high" in moved.stdout


def test_move_needs_one_place_and_a_known_job(cli: Cli) -> None:
    (job,) = submit(cli, 1)
    neither = cli("queue", "move", job)
    assert neither.exit_code == ExitCode.USAGE
    assert neither.stderr.strip() == "error: give one of --position, --before or --after"
    both = cli("queue", "move", job, "--position", "1", "--after", job)
    assert both.exit_code == ExitCode.USAGE
    unknown = cli("queue", "move", "job_nope", "--position", "1")
    assert unknown.exit_code == ExitCode.NOT_FOUND
    assert unknown.stdout == ""
    assert len(unknown.stderr.strip().splitlines()) == 1
    assert unknown.stderr.startswith("error: 404")


def test_priority_and_reorder(cli: Cli) -> None:
    a, b, c = submit(cli, 3)
    raised = cli("queue", "priority", c, "high")
    assert raised.stdout.strip() == f"{c} priority high (position 1)"
    assert order(cli) == [c, a, b]
    assert json.loads(cli("queue", "priority", c, "50", "--json").stdout)["priority"] == "normal"
    assert order(cli) == [a, b, c]  # the end of its new band

    reordered = cli("queue", "reorder", c, a)
    assert reordered.exit_code == 0, reordered.output
    assert reordered.stdout.splitlines() == [
        f"moved {c} to position 1",
        f"moved {a} to position 3",
    ]
    assert order(cli) == [c, b, a]
    listed = json.loads(cli("queue", "reorder", a, c, "--json").stdout)
    assert [j["job_id"] for j in listed] == [a, c]
    bad = cli("queue", "priority", a, "urgent")
    assert bad.exit_code == ExitCode.INVALID


def test_pause_and_resume_show_at_the_top(cli: Cli) -> None:
    submit(cli, 1)
    paused = cli("queue", "pause", "--note", "deploying")
    assert paused.exit_code == 0, paused.output
    assert paused.stdout.startswith("queue paused ")
    assert paused.stdout.rstrip().endswith(": deploying")
    top = cli("queue").stdout.splitlines()
    assert top[0].startswith("queue paused ")
    assert top[0].endswith(": deploying")
    assert top[2].split()[-2:] == ["paused", "paused"]  # no ETA while paused
    assert json.loads(cli("queue", "--json").stdout)["state"]["note"] == "deploying"

    resumed = json.loads(cli("queue", "resume", "--note", "done", "--json").stdout)
    assert resumed["paused"] is False
    assert resumed["note"] == "done"
    assert cli("queue").stdout.startswith("queue running (resumed)")


def test_pause_needs_an_admin_key(cli: Cli, cli_for: Callable[[list[Scope]], Cli]) -> None:
    writer = cli_for([Scope.WRITE])
    refused = writer("queue", "pause")
    assert refused.exit_code == ExitCode.DENIED
    assert refused.stderr.startswith("error: 403")
    assert len(refused.stderr.strip().splitlines()) == 1


def test_stats(cli: Cli) -> None:
    submit(cli, 2)
    table = cli("queue", "stats")
    assert table.exit_code == 0, table.output
    assert "queued by template  echo 2" in table.stdout
    data = json.loads(cli("queue", "stats", "--json").stdout)
    assert data["queued"] == 2
    assert data["queued_by_template"] == {"echo": 2}


def test_preview_a_move_writes_nothing(cli: Cli) -> None:
    a, b, c = submit(cli, 3)
    shown = cli("queue", "preview", "--move", c, "--position", "1")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == "3 job(s) change (now → after)"
    rows = {line.split()[0]: line for line in lines[2:]}
    assert "3 → 1" in rows[c]
    assert "1 → 2" in rows[a]
    assert order(cli) == [a, b, c]

    data = json.loads(cli("queue", "preview", "--move", a, "--after", b, "--json").stdout)
    assert set(data["affected"]) == {a, b}
    after = {item["job_id"]: item["position"] for item in data["items"]}
    assert after == {a: 2, b: 1, c: 3}


def test_preview_other_changes(cli: Cli, tmp_path: Path) -> None:
    a, b = submit(cli, 2)
    new = json.loads(
        cli(
            "queue",
            "preview",
            "--new",
            "echo",
            "-p",
            "count=2",
            "--priority",
            "high",
            "--json",
        ).stdout
    )
    assert new["items"][0]["job_id"] == "new"
    assert new["items"][0]["priority"] == "high"

    priority = json.loads(cli("queue", "preview", "--priority", f"{b}=high", "--json").stdout)
    assert [item["job_id"] for item in priority["items"]] == [b, a]
    cancel = json.loads(cli("queue", "preview", "--cancel", a, "--json").stdout)
    assert {item["job_id"]: item["position"] for item in cancel["items"]} == {b: 1, a: None}
    hold = cli("queue", "preview", "--hold", a)
    assert hold.exit_code == 0, hold.output
    assert a in hold.stdout
    reorder = json.loads(cli("queue", "preview", "--reorder", f"{b},{a}", "--json").stdout)
    assert [item["job_id"] for item in reorder["items"]] == [b, a]
    body = tmp_path / "change.yaml"
    body.write_text(f"move:\n  job_id: {b}\n  position: 1\n")
    from_file = json.loads(cli("queue", "preview", "-f", str(body), "--json").stdout)
    assert [item["job_id"] for item in from_file["items"]] == [b, a]
    assert order(cli) == [a, b]


def test_preview_refuses_unclear_changes(cli: Cli) -> None:
    a, b = submit(cli, 2)
    none = cli("queue", "preview")
    assert none.exit_code == ExitCode.USAGE
    assert none.stderr.startswith("error: give one change:")
    two = cli("queue", "preview", "--cancel", a, "--hold", b)
    assert two.exit_code == ExitCode.USAGE
    assert "not --cancel, --hold" in two.stderr
    assert cli("queue", "preview", "--cancel", a, "--position", "1").exit_code == ExitCode.USAGE
    unknown = cli("queue", "preview", "--cancel", "job_nope")
    assert unknown.exit_code == ExitCode.NOT_FOUND
    nothing = cli("queue", "preview", "--move", a, "--position", "1")
    assert nothing.stdout.strip() == "nothing changes"
