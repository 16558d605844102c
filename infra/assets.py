"""Code assets of the stack, synthesised offline (no docker).

Every Lambda function gets the same folder from `infra.packaging`: our packages (`jobsched/`,
`functions/`, `api/`) and their runtime dependencies installed by pip as wheels for the Lambda
platform (boto3 and its dependencies left to the runtime). The first synth after a change of
requirements runs pip (it needs the package index, or a folder built ahead of time with
`python -m infra.packaging`); later ones reuse the cached folder under `.build/`.
"""

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from infra.packaging import build_lambda_asset

REPO_ROOT = Path(__file__).resolve().parent.parent
CONTAINER_DIR = REPO_ROOT / "container"


def lambda_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(build_lambda_asset()))
