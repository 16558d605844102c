"""The `jobsched` command, as installed, against `jobsched local`: found without a URL or key,
then the first minutes of the README: submit and follow a job, read its run, reorder the queue,
make a schedule and ask for its next fires and its lint, and a refusal as one line and an exit
code."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.cli.exit_codes import ExitCode
from tests.support.local_process import FAST, kill, start_local
from tests.support.waiting import BOUND_SECONDS, wait_until

JOBSCHED = str(Path(sys.executable).with_name("jobsched"))  # the installed entry point
BOUND = str(int(BOUND_SECONDS))


class Terminal:
    """Runs `jobsched ...` as a user would, in an environment that names no deployment."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment

    def __call__(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [JOBSCHED, *args],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=BOUND_SECONDS * 2,
            check=False,
        )
        assert done.returncode == code, f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    data_dir = tmp_path / "data"
    process, _ = start_local(
        tmp_path / "local.log", "--data-dir", str(data_dir), environment=FAST, key=None
    )
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JOBSCHED_URL", "JOBSCHED_API_KEY", "JOBSCHED_PROFILE")
    }
    environment |= {
        "JOBSCHED_DATA_DIR": str(data_dir),
        "JOBSCHED_CONFIG": str(tmp_path / "config.toml"),
        "COLUMNS": "200",
    }
    try:
        yield Terminal(environment)
    finally:
        kill(process)


def test_the_first_minutes_from_a_terminal(terminal: Terminal, tmp_path: Path) -> None:
    assert "echo" in terminal("templates", "list").stdout

    # Submit and follow: the log as it is written, then the outcome, exit 0.
    followed = terminal(
        "jobs", "submit", "echo", "-p", "message=hello e2e", "-p", "output=true",
        "--follow", "--timeout", BOUND,
    )  # fmt: skip
    assert "hello e2e" in followed.stdout
    assert "completed (exit code 0)" in followed.stdout.strip().splitlines()[-1]
    (run,) = terminal.json("runs", "list")
    assert "hello e2e" in terminal("runs", "logs", run["run_id"]).stdout
    artifact = terminal("runs", "artifact", run["run_id"], "0", "--out", "-")
    assert "hello e2e" in artifact.stdout

    # A job that runs until told, and two behind it: move the last to the front.
    go = tmp_path / "go"
    blocker = terminal.json(
        "jobs", "submit", "echo", "-p", f"until_file={go}", "-p", "sleep_seconds=600"
    )
    wait_until(lambda: terminal.json("jobs", "show", blocker["job_id"])["status"] == "running")
    first = terminal.json("jobs", "submit", "echo")["job_id"]
    second = terminal.json("jobs", "submit", "echo")["job_id"]
    assert [i["job_id"] for i in terminal.json("queue")["items"]] == [first, second]
    assert "position 1" in terminal("queue", "move", second, "--position", "1").stdout
    assert [i["job_id"] for i in terminal.json("queue")["items"]] == [second, first]
    table = terminal("queue").stdout
    assert table.index(second) < table.index(first)
    go.write_text("")
    wait_until(lambda: terminal.json("jobs", "show", blocker["job_id"])["status"] == "finished")

    # A schedule: made, its next fires, and the lint of a time DST skips.
    nightly = ["-s", "name=nightly", "-s", "template_id=echo", "-s", "timezone=Europe/Berlin"]
    made = terminal.json("schedules", "create", *nightly, "-s", "expression=cron(0 2 * * ? *)")
    fires = terminal.json("schedules", "next", made["schedule_id"], "--count", "3")
    assert len(fires) == 3
    linted = terminal.json("schedules", "lint", *nightly, "-s", "expression=cron(30 2 * * ? *)")
    assert "dst_skipped" in [w["code"] for w in linted["warnings"]]

    # A refusal: the problem body as one line on stderr, and the documented exit code.
    missing = terminal("jobs", "show", "job_nope", code=ExitCode.NOT_FOUND)
    assert missing.stdout == ""
    assert missing.stderr.strip().splitlines() == ["error: 404 Not found: no job 'job_nope'"]
    invalid = terminal("jobs", "submit", "echo", "-p", "exit_code=999", code=ExitCode.INVALID)
    assert invalid.stderr.startswith("error: 422 Validation failed")
