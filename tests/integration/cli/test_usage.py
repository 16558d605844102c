"""`jobsched usage` and a run's usage in `jobsched runs show` (issue 17, point 1)."""

import json
from pathlib import Path

import pytest

from jobsched.adapters.sqlite import build_stores as build_sqlite_stores
from jobsched.adapters.sqlite.db import Database
from jobsched.models.usage import ModelUsage, Usage
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.cli.exit_codes import ExitCode
from tests.support.cli import Cli, one_line_refusal
from tests.support.ui_runs import RunWorld, make_world

USAGE = Usage(
    calls=2,
    prompt_tokens=1200,
    completion_tokens=800,
    cost_usd=0.0042,
    unpriced_calls=1,
    by_model=[
        ModelUsage(model="gpt-4o-mini", calls=1, prompt_tokens=1000, completion_tokens=700),
        ModelUsage(model="private", calls=1, prompt_tokens=200, completion_tokens=100),
    ],
)


@pytest.fixture
def world(settings: Settings, sqlite_db: Database, tmp_path: Path) -> RunWorld:
    return make_world(build_sqlite_stores(settings, sqlite_db), tmp_path / "data")


@pytest.fixture
def stores(world: RunWorld) -> Stores:
    return world.stores


def used_run(world: RunWorld, template: str = "work") -> str:
    world.submit(template)
    claim = world.start()
    world.finish(claim, 0, usage=USAGE)
    return claim.unit_id


@pytest.mark.usefixtures("wide")
def test_runs_show_says_what_the_run_used(cli: Cli, world: RunWorld) -> None:
    run_id = used_run(world)

    result = cli("runs", "show", run_id)

    assert result.exit_code == 0, result.output
    assert "2,000 tokens (1,200 prompt, 800 completion), US$0.0042, 2 calls (1 unpriced)" in (
        result.stdout
    )
    assert "gpt-4o-mini" in result.stdout


@pytest.mark.usefixtures("wide")
def test_usage_adds_up_per_template(cli: Cli, world: RunWorld) -> None:
    used_run(world, "work")
    used_run(world, "work")
    used_run(world, "other")

    table = cli("usage")
    as_json = cli("usage", "--json")

    assert table.exit_code == 0, table.output
    lines = {line.split()[0]: line.split() for line in table.stdout.splitlines() if line.strip()}
    assert lines["work"][1:3] == ["2", "4,000"]
    assert lines["other"][1:3] == ["1", "2,000"]
    assert lines["total"][1:3] == ["3", "6,000"]
    report = json.loads(as_json.stdout)
    assert report["by"] == "template"
    assert [(g["id"], g["runs"]) for g in report["groups"]] == [("other", 1), ("work", 2)]
    assert report["total"]["cost_usd"] == pytest.approx(0.0126)


def test_usage_by_schedule_with_none_is_only_a_total(cli: Cli, world: RunWorld) -> None:
    used_run(world)
    report = json.loads(cli("usage", "--by", "schedule", "--json").stdout)
    assert report["groups"] == []
    assert report["total"]["runs"] == 0


def test_a_bad_range_is_refused_in_one_line(cli: Cli, world: RunWorld) -> None:
    result = cli("usage", "--since", "2026-02-01T00:00:00Z", "--until", "2026-01-01T00:00:00Z")
    one_line_refusal(result, ExitCode.INVALID)
    assert "until" in result.stderr
