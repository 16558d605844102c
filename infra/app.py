"""The CDK app entry point that cdk.json runs from the repo root: `.venv/bin/python infra/app.py`,
the interpreter of the venv `make setup` creates, so `npx aws-cdk ...` needs no activated venv."""

import sys
from pathlib import Path


def _import_from_repo_root() -> None:
    """Run as a script, Python puts infra/ first on sys.path: there `infra` is not importable
    and infra/constructs would shadow the `constructs` library. Use the repo root instead."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    sys.path.insert(0, str(here.parent))


def main() -> None:
    from infra.build import build_app, unreviewed_findings

    app, _ = build_app()
    assembly = app.synth()
    findings = unreviewed_findings(Path(assembly.directory))
    if findings:
        sys.exit("cdk-nag findings to fix or acknowledge:\n  " + "\n  ".join(findings))


if __name__ == "__main__":
    _import_from_repo_root()
    main()
