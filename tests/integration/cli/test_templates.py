"""`jobsched templates`."""

import json

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
