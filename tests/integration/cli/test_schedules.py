"""`jobsched schedules`."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local.cli import schedules
from local.cli.exit_codes import ExitCode
from tests.support.cli import Cli, one_line_refusal

DAILY = ("-s", "name=Daily", "-s", "template_id=echo", "-s", "expression=cron(0 9 * * ? *)")
# Every Sunday of March at 02:30 in Paris: its last Sunday's 02:30 does not exist (DST).
INTO_THE_GAP = (
    "-s",
    "name=Gap",
    "-s",
    "template_id=echo",
    "-s",
    "expression=cron(30 2 ? 3 SUN *)",
    "-s",
    "timezone=Europe/Paris",
)


def create(cli: Cli, *fields: str) -> str:
    made = cli("schedules", "create", *fields, "--json")
    assert made.exit_code == 0, made.output
    schedule_id: str = json.loads(made.stdout)["schedule_id"]
    return schedule_id


@pytest.mark.usefixtures("wide")
def test_create_then_list_as_a_table_and_json(cli: Cli) -> None:
    made = cli("schedules", "create", *DAILY)
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("created sch")
    assert "(next " in made.stdout

    table = cli("schedules", "list")
    assert table.exit_code == 0, table.output
    assert "Daily" in table.stdout
    assert "cron(0 9 * * ? *)" in table.stdout

    listed = json.loads(cli("schedules", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["Daily"]
    assert json.loads(cli("schedules", "list", "--template", "other", "--json").stdout) == []


def test_create_from_a_file_with_fields_over_it(cli: Cli, tmp_path: Path) -> None:
    spec = tmp_path / "schedule.yaml"
    spec.write_text(
        "name: From file\ntemplate_id: echo\nexpression: rate(1 hour)\nparams: {count: 2}\n"
    )
    made = cli("schedules", "create", "-f", str(spec), "-s", "name=Renamed", "--json")
    assert made.exit_code == 0, made.output
    data = json.loads(made.stdout)
    assert data["name"] == "Renamed"
    assert data["params"]["count"] == 2
    assert data["expression"] == "rate(1 hour)"


def test_a_dry_run_writes_nothing_and_prints_the_warnings(cli: Cli) -> None:
    dry = cli("schedules", "create", *INTO_THE_GAP, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.stdout
    assert "dst_skipped" in dry.stdout
    as_json = json.loads(cli("schedules", "create", *INTO_THE_GAP, "--dry-run", "--json").stdout)
    assert "dst_skipped" in {w["code"] for w in as_json["warnings"]}
    assert json.loads(cli("schedules", "list", "--json").stdout) == []


def test_an_invalid_expression_is_refused_in_one_line(cli: Cli) -> None:
    bad = ("-s", "name=Bad", "-s", "template_id=echo", "-s", "expression=cron(61 9 * * ? *)")
    for command in ("create", "lint"):
        refused = cli("schedules", command, *bad)
        one_line_refusal(refused, ExitCode.INVALID)
        assert "expression" in refused.stderr
    assert cli("schedules", "create").exit_code == ExitCode.USAGE


@pytest.mark.usefixtures("wide")
def test_show_and_next_give_fire_times_with_dst_notes(cli: Cli) -> None:
    schedule_id = create(cli, *INTO_THE_GAP)
    shown = cli("schedules", "show", schedule_id, "--next", "2")
    assert shown.exit_code == 0, shown.output
    assert "Europe/Paris" in shown.stdout
    assert "local (Europe/Paris)" in shown.stdout
    assert len(json.loads(cli("schedules", "show", schedule_id, "--json").stdout)["next_runs"]) == 5

    fires = json.loads(cli("schedules", "next", schedule_id, "--count", "5", "--json").stdout)
    assert len(fires) == 5
    noted = [f for f in fires if f["note"]]
    assert noted, fires  # the last Sunday of March: 02:30 does not exist in Paris
    table = cli("schedules", "next", schedule_id, "--count", "5")
    assert noted[0]["note"].split()[0] in table.stdout


def test_update_with_and_without_a_dry_run(cli: Cli) -> None:
    schedule_id = create(cli, *DAILY)
    dry = cli("schedules", "update", schedule_id, "-s", "expression=rate(2 hours)", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.stdout
    stored = json.loads(cli("schedules", "show", schedule_id, "--json").stdout)
    assert stored["expression"] == "cron(0 9 * * ? *)"

    updated = cli("schedules", "update", schedule_id, "-s", "expression=rate(2 hours)")
    assert updated.stdout.startswith(f"updated {schedule_id}")
    stored = json.loads(cli("schedules", "show", schedule_id, "--json").stdout)
    assert stored["expression"] == "rate(2 hours)"
    assert cli("schedules", "update", schedule_id).exit_code == ExitCode.USAGE


def test_disable_with_a_note_and_enable(cli: Cli) -> None:
    schedule_id = create(cli, *DAILY)
    disabled = cli("schedules", "disable", schedule_id, "--note", "holidays")
    assert disabled.stdout.strip() == f"disabled {schedule_id}"
    data = json.loads(cli("schedules", "show", schedule_id, "--json").stdout)
    assert data["enabled"] is False
    assert data["disabled_note"] == "holidays"
    assert "it is disabled" in cli("schedules", "next", schedule_id).stdout

    enabled = json.loads(cli("schedules", "enable", schedule_id, "--json").stdout)
    assert enabled["enabled"] is True


def test_trigger_prints_the_job_it_made(cli: Cli) -> None:
    schedule_id = create(cli, *DAILY, "-s", "overlap_policy=skip")
    made = cli("schedules", "trigger", schedule_id)
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("queued job_")
    assert f"from {schedule_id}" in made.stdout
    job_id = made.stdout.split()[1]
    jobs = json.loads(cli("schedules", "trigger", schedule_id, "--force", "--json").stdout)
    assert jobs["schedule_id"] == schedule_id
    assert jobs["job_id"] != job_id


def test_delete_asks_at_a_terminal_unless_yes(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    schedule_id = create(cli, *DAILY)
    monkeypatch.setattr(schedules, "interactive", lambda: True)
    kept = cli("schedules", "delete", schedule_id, input="n\n")
    assert kept.exit_code == ExitCode.ERROR
    assert cli("schedules", "show", schedule_id).exit_code == 0

    deleted = cli("schedules", "delete", schedule_id, input="y\n")
    assert deleted.exit_code == 0, deleted.output
    # (the runner echoes the answer typed into stdout)
    assert deleted.stdout.splitlines()[-1] == f"deleted {schedule_id}"
    one_line_refusal(cli("schedules", "show", schedule_id), ExitCode.NOT_FOUND)

    other = create(cli, *DAILY)
    assert cli("schedules", "delete", other, "--yes").exit_code == 0
    monkeypatch.setattr(schedules, "interactive", lambda: False)  # a script: nobody to ask
    third = create(cli, *DAILY)
    assert json.loads(cli("schedules", "delete", third, "--json").stdout)["deleted"] is True


def test_unknown_schedules_are_not_found_in_one_line(cli: Cli) -> None:
    for args in (
        ("show",),
        ("next",),
        ("enable",),
        ("disable",),
        ("trigger",),
        ("delete", "--yes"),
        ("update", "-s", "name=x"),
    ):
        refused = cli("schedules", args[0], "sch_nope", *args[1:])
        one_line_refusal(refused, ExitCode.NOT_FOUND)
        assert refused.stderr.startswith("error: 404")


def test_lint_lists_warnings_and_strict_fails_on_them(cli: Cli) -> None:
    linted = cli("schedules", "lint", *INTO_THE_GAP)
    assert linted.exit_code == 0, linted.output
    assert "dst_skipped" in linted.stdout
    assert "fires per day: 1" in linted.stdout

    strict = cli("schedules", "lint", *INTO_THE_GAP, "--strict", "--json")
    assert strict.exit_code == ExitCode.INVALID
    assert "dst_skipped" in {w["code"] for w in json.loads(strict.stdout)["warnings"]}

    clean = cli("schedules", "lint", *DAILY, "--strict")
    assert clean.exit_code == 0, clean.output
    assert "no warnings" in clean.stdout


@pytest.mark.usefixtures("wide")
def test_show_prints_the_schedules_budgets_in_its_time_zone(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "api.routers.schedules.utcnow", lambda: datetime(2027, 1, 15, 8, tzinfo=UTC)
    )
    budget = '[{"period": "day", "tokens": 50}]'
    schedule_id = create(cli, *DAILY, "-s", "timezone=Asia/Tokyo", "-s", f"budgets={budget}")

    shown = cli("schedules", "show", schedule_id)

    assert shown.exit_code == 0, shown.output
    [line] = [line for line in shown.stdout.splitlines() if line.startswith("budget ")]
    assert line.split(None, 1)[1].rstrip() == (
        "day 2027-01-15 (Asia/Tokyo): 0 of 50 tokens; open, turns 2027-01-15 15:00:00Z"
    )
