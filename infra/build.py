"""Build the CDK app: context defaults from cdk.json, the stage's stack, cdk-nag checks.

`infra/app.py` synthesises what this builds; the tests build it in-process.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra import constants
from infra.stack import SchedulerStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def context_defaults() -> dict[str, Any]:
    """cdk.json's context. The CDK CLI passes it itself; a bare `.venv/bin/python infra/app.py`
    does not, and must synthesise the same stack."""
    if not CDK_JSON.is_file():
        return {}
    context: dict[str, Any] = json.loads(CDK_JSON.read_text()).get("context", {})
    return context


def build_app(
    context: Mapping[str, Any] | None = None, *, outdir: str | None = None
) -> tuple[App, SchedulerStack]:
    """The app and its stack. `context` overrides cdk.json; the CLI's `-c` overrides both
    (App gives CDK_CONTEXT_JSON precedence). `outdir` defaults to CDK_OUTDIR."""
    app = App(context={**context_defaults(), **(context or {})}, outdir=outdir)
    stage = constants.validate_stage(
        str(app.node.try_get_context(constants.STAGE_CONTEXT_KEY) or constants.DEFAULT_STAGE)
    )
    stack = SchedulerStack(app, constants.stack_name(stage), stage=stage)
    # Findings fail synthesis (and Template.from_stack), so nothing unreviewed deploys.
    # Acknowledge one with Validations.of(construct).acknowledge(...) and a reason.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def unreviewed_findings(assembly_dir: Path) -> list[str]:
    """Findings left in a synthesised assembly's validation report, as `rule construct-path`.

    Synthesis raises on unacknowledged errors; once a stack acknowledges any finding, CDK lets
    it pass on warnings, which `infra/app.py` and the tests therefore check here.
    """
    report_file = assembly_dir / "validation-report.json"
    if not report_file.is_file():
        return []
    report = json.loads(report_file.read_text())
    return [
        f"{violation['ruleName']} {construct['constructPath']}"
        for plugin in report.get("pluginReports", [])
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    ]
