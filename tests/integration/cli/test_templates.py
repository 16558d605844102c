"""`jobsched templates`."""

import json
from datetime import UTC, datetime

import pytest

from local.cli.exit_codes import ExitCode
from tests.support.cli import Cli


def test_list_shows_a_table_and_json(cli: Cli) -> None:
    table = cli("templates", "list")
    assert table.exit_code == 0, table.output
    assert "echo" in table.stdout

    listed = json.loads(cli("templates", "list", "--json").stdout)
    assert [t["template_id"] for t in listed] == ["echo"]


def test_create_update_archive_restore(cli: Cli) -> None:
    created = cli(
        "templates",
        "create",
        "-s",
        "template_id=poem",
        "-s",
        "name=Poem",
        "-s",
        "workload=echo",
        "-o",
        "json",
    )
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["version"] == 1

    updated = cli("templates", "update", "poem", "-s", "timeout_seconds=120", "--json")
    assert json.loads(updated.stdout)["timeout_seconds"] == 120
    assert json.loads(updated.stdout)["version"] == 2

    assert "archived poem" in cli("templates", "archive", "poem").stdout
    assert json.loads(cli("templates", "show", "poem", "--json").stdout)["archived"] is True
    assert "restored poem" in cli("templates", "restore", "poem").stdout
    old = json.loads(cli("templates", "show", "poem", "--version", "1", "--json").stdout)
    assert old["timeout_seconds"] != 120


def test_a_problem_is_one_line_on_stderr_with_its_exit_code(cli: Cli) -> None:
    missing = cli("templates", "show", "nope")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert missing.stdout == ""
    assert missing.stderr.strip().splitlines() == ["error: 404 Not found: no template 'nope'"]

    invalid = cli("templates", "create", "-s", "template_id=x")
    assert invalid.exit_code == ExitCode.INVALID
    assert invalid.stderr.startswith("error: 422")


@pytest.mark.usefixtures("wide")
def test_show_prints_each_budgets_current_period(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "api.routers.templates.utcnow", lambda: datetime(2027, 1, 15, 8, tzinfo=UTC)
    )
    budgets = '[{"period": "day", "tokens": 1000}, {"period": "month", "usd": 2.5}]'
    made = cli(
        "templates", "create", "-s", "template_id=capped", "-s", "name=Capped", "-s",
        "workload=echo", "-s", f"budgets={budgets}",
    )  # fmt: skip
    assert made.exit_code == 0, made.output

    shown = cli("templates", "show", "capped")

    assert shown.exit_code == 0, shown.output
    lines = [
        line.split(None, 1)[1].rstrip()
        for line in shown.stdout.splitlines()
        if line.startswith("budget ")
    ]
    assert lines == [
        "day 2027-01-15 (UTC): 0 of 1,000 tokens; open, turns 2027-01-16 00:00:00Z",
        "month 2027-01 (UTC): US$0.0000 of US$2.50; open, turns 2027-02-01 00:00:00Z",
    ]
    status = json.loads(cli("templates", "show", "capped", "--json").stdout)["budget_status"]
    assert [s["period_key"] for s in status] == ["2027-01-15", "2027-01"]
