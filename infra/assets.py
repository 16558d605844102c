"""Lambda code of the stack, synthesised offline (no docker, no network).

For now the asset is the repository filtered to the two packages the functions import
(`jobsched/`, `functions/`); the packaging issue adds their third-party dependencies (pydantic,
pydantic-settings, python-ulid, fractional-indexing) built for the Lambda platform.
"""

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTAINER_DIR = REPO_ROOT / "container"

# Everything out, then the packages back in (glob patterns, matched like .gitignore).
_LAMBDA_EXCLUDES = [
    "*",
    ".*",  # "*" does not match dot-files (.venv, .git)
    "!jobsched",
    "!jobsched/**",
    "!functions",
    "!functions/**",
    "**/__pycache__",
    "**/*.pyc",
]


def lambda_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(REPO_ROOT), exclude=_LAMBDA_EXCLUDES)
