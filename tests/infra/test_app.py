"""The deploy steps of the README work as written from a fresh clone after `make setup`: cdk.json
runs the venv's interpreter (no activated venv), and every command the steps name exists."""

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from infra import constants
from jobsched.adapters.dynamodb.tables import TABLES
from tests.support.paths import REPO_ROOT

# The CDK CLI's commands (`cdk --help`), for the README's `npx aws-cdk <command>` lines.
CDK_COMMANDS = frozenset(
    {
        "acknowledge", "bootstrap", "context", "deploy", "destroy", "diff", "docs", "doctor",
        "drift", "gc", "import", "init", "list", "ls", "metadata", "migrate", "notices",
        "refactor", "rollback", "synth", "synthesize", "watch",
    }
)  # fmt: skip


def _cdk_json() -> dict[str, object]:
    content: dict[str, object] = json.loads((REPO_ROOT / "cdk.json").read_text())
    return content


def _makefile() -> str:
    return (REPO_ROOT / "Makefile").read_text()


def _venv() -> str:
    """The venv `make setup` creates (the Makefile's VENV default)."""
    match = re.search(r"^VENV \?= (\S+)$", _makefile(), re.MULTILINE)
    assert match, "the Makefile names its venv with `VENV ?= ...`"
    return match.group(1)


def _deploy_steps() -> list[str]:
    """The command lines of the README's first code block under "Deploy on AWS"."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Deploy on AWS", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line]


def test_cdk_json_runs_the_venv_interpreter_of_make_setup() -> None:
    program, *arguments = shlex.split(str(_cdk_json()["app"]))
    assert program == f"{_venv()}/bin/python"  # relative: the CLI runs it in the repo root
    assert arguments == ["infra/app.py"]


def test_cdk_json_app_command_synthesises_without_an_active_venv(tmp_path: Path) -> None:
    interpreter = REPO_ROOT / f"{_venv()}/bin/python"
    assert interpreter.exists(), f"run `make setup` first: cdk.json runs {interpreter}"
    env = {
        # Nothing of a venv: no VIRTUAL_ENV, no PYTHONPATH, a PATH with system directories only.
        "PATH": os.defpath,
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        # What the CLI sets: App() writes here, and context from `cdk synth -c stage=ci`
        # must win over cdk.json's default stage.
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps({constants.STAGE_CONTEXT_KEY: "ci"}),
    }
    if shutil.which("node", path=env["PATH"]) is None:  # jsii's runtime, wherever it lives
        node = shutil.which("node")
        assert node, "the CDK's Python library needs Node.js"
        env["PATH"] = f"{Path(node).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        shlex.split(str(_cdk_json()["app"])),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    artifact = manifest["artifacts"][constants.stack_name("ci")]
    template_file = tmp_path / artifact["properties"]["templateFile"]
    resources = json.loads(template_file.read_text())["Resources"].values()
    assert {
        r["Properties"]["TableName"] for r in resources if r["Type"] == "AWS::DynamoDB::Table"
    } == {constants.table_name("ci", spec.entity) for spec in TABLES}


def test_the_readme_deploy_steps_name_commands_that_exist() -> None:
    steps = _deploy_steps()
    assert steps[0] == "make setup"  # the venv every later step uses
    targets = set(re.findall(r"^([a-z][\w-]*):", _makefile(), re.MULTILINE))
    for step in steps:
        program, *arguments = shlex.split(step)
        if program == "make":
            assert set(arguments) <= targets, step
        elif program == "npx":
            assert shutil.which("npx"), "Node.js's npx runs the CDK CLI"
            assert arguments[0] == "aws-cdk", step
        else:  # the venv's interpreter, which cdk.json runs too
            assert program == f"{_venv()}/bin/python", step
            assert (REPO_ROOT / arguments[0]).is_file(), step


def test_every_cdk_command_in_the_readme_exists_and_takes_known_context() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    calls = re.findall(r"npx aws-cdk ([a-z]+)((?: -c [a-z_]+=\S+)*)", readme)
    assert len(calls) >= 3  # bootstrap, deploy, destroy at least
    context = set(_cdk_json()["context"])  # type: ignore[arg-type]
    for command, options in calls:
        assert command in CDK_COMMANDS, command
        assert set(re.findall(r"-c ([a-z_]+)=", options)) <= context, options
