"""`jobsched groups`."""

import json
from pathlib import Path

import pytest

from local.cli.exit_codes import ExitCode
from local.cli.groups import job_spec
from tests.support.cli import Cli, one_line_refusal


def create(cli: Cli, *args: str) -> dict[str, object]:
    made = cli("groups", "create", *args, "--json")
    assert made.exit_code == 0, made.output
    group: dict[str, object] = json.loads(made.stdout)
    return group


def test_a_job_spec_is_a_template_and_its_params() -> None:
    assert job_spec("echo") == {"template_id": "echo", "params": {}}
    assert job_spec("echo:message=hi there,count=2") == {
        "template_id": "echo",
        "params": {"message": "hi there", "count": 2},
    }
    # A comma inside a value stays there: only `,key=` starts a new pair.
    assert job_spec("echo:tags=[1,2],message=a,b")["params"] == {"tags": [1, 2], "message": "a,b"}


@pytest.mark.usefixtures("wide")
def test_create_from_options_then_list_as_a_table_and_json(cli: Cli) -> None:
    made = cli(
        "groups",
        "create",
        "-j",
        "echo:message=one",
        "-j",
        "echo:message=two,count=2",
        "--mode",
        "sequential",
        "--name",
        "nightly",
        "--priority",
        "high",
        "--on-failure",
        "stop",
    )
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("created grp")
    assert "(sequential, 2 jobs)" in made.stdout

    table = cli("groups", "list")
    assert table.exit_code == 0, table.output
    assert "nightly" in table.stdout
    assert "sequential" in table.stdout

    [group] = json.loads(cli("groups", "list", "--json").stdout)
    assert group["name"] == "nightly"
    assert group["mode"] == "sequential"
    assert group["on_failure"] == "stop"
    assert group["priority"] == "high"
    assert len(group["job_ids"]) == 2


def test_create_from_a_file_with_options_over_it(cli: Cli, tmp_path: Path) -> None:
    spec = tmp_path / "group.yaml"
    spec.write_text(
        "name: from file\nmode: parallel\njobs:\n  - template_id: echo\n    params: {count: 3}\n"
    )
    group = create(cli, "-f", str(spec), "-j", "echo", "--max-parallel", "1", "--name", "over")
    assert group["name"] == "over"
    assert group["max_parallel"] == 1
    jobs = group["jobs"]
    assert isinstance(jobs, list)
    assert [j["params"]["count"] for j in jobs] == [3, 1]


def test_create_refuses_no_jobs_and_bad_specs(cli: Cli) -> None:
    assert cli("groups", "create", "--name", "x").exit_code == ExitCode.USAGE
    assert cli("groups", "create", "-j", ":count=1").exit_code == ExitCode.USAGE
    assert cli("groups", "create", "-j", "echo:count").exit_code == ExitCode.USAGE
    invalid = cli("groups", "create", "-j", "echo:count=99")  # the template's schema: at most 10
    one_line_refusal(invalid, ExitCode.INVALID)
    one_line_refusal(cli("groups", "create", "-j", "nope"), ExitCode.NOT_FOUND)


@pytest.mark.usefixtures("wide")
def test_show_gives_the_group_and_its_jobs_in_order(cli: Cli) -> None:
    group = create(cli, "-j", "echo:message=a", "-j", "echo:message=b", "--mode", "sequential")
    group_id = str(group["group_id"])
    shown = cli("groups", "show", group_id)
    assert shown.exit_code == 0, shown.output
    job_ids = group["job_ids"]
    assert isinstance(job_ids, list)
    for job_id in job_ids:
        assert job_id in shown.stdout
    assert shown.stdout.index(job_ids[0]) < shown.stdout.index(job_ids[1])
    assert "queued" in shown.stdout

    data = json.loads(cli("groups", "show", group_id, "--json").stdout)
    assert data["group_id"] == group_id
    assert [j["job_id"] for j in data["jobs"]] == job_ids
    assert [j["params"]["message"] for j in data["jobs"]] == ["a", "b"]


def test_hold_release_and_cancel(cli: Cli) -> None:
    group_id = str(create(cli, "-j", "echo", "-j", "echo", "--mode", "sequential")["group_id"])

    held = cli("groups", "hold", group_id, "--note", "wait for data")
    assert held.stdout.strip() == f"held {group_id}"
    data = json.loads(cli("groups", "show", group_id, "--json").stdout)
    assert data["hold"]["note"] == "wait for data"
    assert {j["status"] for j in data["jobs"]} == {"held"}

    released = json.loads(cli("groups", "release", group_id, "--json").stdout)
    assert released["hold"] is None
    assert {j["status"] for j in released["jobs"]} == {"queued"}
    one_line_refusal(cli("groups", "release", group_id), ExitCode.CONFLICT)

    cancelled = cli("groups", "cancel", group_id)
    assert cancelled.stdout.strip() == f"cancelled {group_id}"
    data = json.loads(cli("groups", "show", group_id, "--json").stdout)
    assert data["status"] == "cancelled"
    assert {j["status"] for j in data["jobs"]} == {"cancelled"}
    one_line_refusal(cli("groups", "hold", group_id), ExitCode.CONFLICT)


def test_unknown_groups_are_not_found_in_one_line(cli: Cli) -> None:
    for command in ("show", "cancel", "hold", "release"):
        refused = cli("groups", command, "grp_nope")
        one_line_refusal(refused, ExitCode.NOT_FOUND)
        assert refused.stderr.startswith("error: 404")
