"""How long `cdk synth` of the whole app takes, against a one-bucket CDK app synthesised in the
same run (the jsii/Node start-up every CDK app pays), each in fresh interpreters (median of
RUNS), with the Lambda asset already built (its first build is a one-off: see `asset_sizes`)."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3

BASELINE = """
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
app = App(outdir={outdir!r})
s3.Bucket(Stack(app, "Baseline"), "Bucket")
app.synth()
"""

OURS = """
from infra.build import build_app
app, _ = build_app(outdir={outdir!r})
app.synth()
"""


def _synth_seconds(code: str) -> float:
    with tempfile.TemporaryDirectory() as outdir:
        env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code.format(outdir=outdir)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start


def main() -> None:
    _synth_seconds(OURS)  # warm: builds the Lambda asset once if it is missing
    baseline = statistics.median(_synth_seconds(BASELINE) for _ in range(RUNS))
    ours = statistics.median(_synth_seconds(OURS) for _ in range(RUNS))
    print("Synthesis of the CDK app (fresh interpreter, median of", RUNS, "runs)")
    print(f"  one-bucket app (jsii start-up): {baseline:6.1f} s")
    print(f"  jobsched app, all constructs:   {ours:6.1f} s   ratio {ours / baseline:.2f}")


if __name__ == "__main__":
    main()
