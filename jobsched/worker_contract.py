"""The worker's contract with the dispatcher (container/README.md): the environment a unit's
worker starts with, and the placeholders of the transactions it sends.

Written once, here, for every side that starts a worker: the ECS overrides
(jobsched/adapters/aws/overrides.py and the state machine in infra/), the local executor
(local/exec/executor.py), and the DynamoDB adapter that prepares the transactions. The job
image cannot import the core (it ships container/ alone), so its own copy of these names
(container/worker/config.py, transact.py) is held equal to this module by a test.
"""

from typing import Any, Final

# Set per unit by the dispatcher.
ENV_UNIT_ID: Final = "JOBSCHED_UNIT_ID"  # the run id, or a reservation id
ENV_JOB_ID: Final = "JOBSCHED_JOB_ID"  # empty for a reservation
ENV_WORKLOAD: Final = "JOBSCHED_WORKLOAD"
ENV_PARAMS: Final = "JOBSCHED_PARAMS"  # JSON object
ENV_HEARTBEAT_SECONDS: Final = "JOBSCHED_HEARTBEAT_SECONDS"
ENV_HEARTBEAT: Final = "JOBSCHED_HEARTBEAT"  # a TransactWriteItems request with placeholders
ENV_RESULT: Final = "JOBSCHED_RESULT"  # likewise, sent once at exit
# Where outputs go: a bucket and prefix on AWS, a folder locally (artifacts are file:// URIs).
ENV_ARTIFACTS_BUCKET: Final = "JOBSCHED_ARTIFACTS_BUCKET"
ENV_ARTIFACTS_PREFIX: Final = "JOBSCHED_ARTIFACTS_PREFIX"
ENV_OUTPUT_DIR: Final = "JOBSCHED_OUTPUT_DIR"
# The worker's region (its default is us-east-1); set per task, so the task definition itself
# holds no environment. AWS_DEFAULT_REGION is read when AWS_REGION is not set.
ENV_REGION: Final = "AWS_REGION"
ENV_DEFAULT_REGION: Final = "AWS_DEFAULT_REGION"
# Set by the deployment on the task definition (infra/constructs/execution.py), not per unit.
ENV_MODEL_PROVIDER: Final = "JOBSCHED_MODEL_PROVIDER"
ENV_MODEL_KEYS_SECRET: Final = "JOBSCHED_MODEL_KEYS_SECRET"  # noqa: S105 (a name, not a secret)

# Every name the worker reads.
WORKER_READS: Final = frozenset(
    {
        ENV_UNIT_ID,
        ENV_JOB_ID,
        ENV_WORKLOAD,
        ENV_PARAMS,
        ENV_HEARTBEAT_SECONDS,
        ENV_HEARTBEAT,
        ENV_RESULT,
        ENV_ARTIFACTS_BUCKET,
        ENV_ARTIFACTS_PREFIX,
        ENV_OUTPUT_DIR,
        ENV_REGION,
        ENV_DEFAULT_REGION,
        ENV_MODEL_PROVIDER,
        ENV_MODEL_KEYS_SECRET,
    }
)

# The workloads the job image implements (container/worker/workloads WORKLOADS): a template's
# `workload` names one of these, or every job of it would fail at start.
WORKLOADS: Final = frozenset({"echo", "story_generation", "research"})

# Strings in the prepared transactions that the worker replaces with what only it knows.
NOW: Final = "__NOW__"  # epoch seconds when it sends
LEASE_UNTIL: Final = "__LEASE_UNTIL__"  # epoch seconds its slot's lease runs to
EXIT_CODE: Final = "__EXIT_CODE__"
ARTIFACTS: Final = "__ARTIFACTS__"  # a JSON list of URIs
# The run's model usage as compact JSON text (in the result only): {"calls", "prompt_tokens",
# "completion_tokens", "cost_usd" (priced calls only), "unpriced_calls", "by_model": [{"model",
# the same five}, ...] sorted by model}; zeros and [] for a run that called no model.
# Read by jobsched/models/usage.py.
USAGE: Final = "__USAGE__"
PLACEHOLDERS: Final = frozenset({NOW, LEASE_UNTIL, EXIT_CODE, ARTIFACTS, USAGE})


def fill(template: Any, values: dict[str, str]) -> Any:
    """A copy of `template` with every string equal to a placeholder replaced by its value:
    what the worker does before it sends (container/worker/transact.py `fill`), for a parent
    that sends the worker's transaction itself."""
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, str):
        return values.get(template, template)
    return template
