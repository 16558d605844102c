"""The command cdk.json gives the CDK CLI synthesises a cloud assembly, from the repo root."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from infra import constants
from jobsched.adapters.dynamodb.tables import TABLES
from tests.support.paths import REPO_ROOT


def test_cdk_json_app_command_synthesises(tmp_path: Path) -> None:
    command = json.loads((REPO_ROOT / "cdk.json").read_text())["app"]
    env = {
        **os.environ,
        # `python3` in cdk.json must be this venv's, as it is for `cdk synth` in an active venv.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # What the CLI sets: App() writes here, and context from `cdk synth -c stage=ci`
        # must win over cdk.json's default stage.
        "CDK_OUTDIR": str(tmp_path),
        "CDK_CONTEXT_JSON": json.dumps({constants.STAGE_CONTEXT_KEY: "ci"}),
    }
    result = subprocess.run(
        shlex.split(command),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    artifact = manifest["artifacts"][constants.stack_name("ci")]
    template_file = tmp_path / artifact["properties"]["templateFile"]
    assert template_file.is_file()
    resources = json.loads(template_file.read_text())["Resources"].values()
    assert {
        r["Properties"]["TableName"] for r in resources if r["Type"] == "AWS::DynamoDB::Table"
    } == {constants.table_name("ci", spec.entity) for spec in TABLES}
