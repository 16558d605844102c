"""What a unit's ECS task starts with: the worker's environment (container/README.md) as
container overrides, the task size from its template, and a timeout for the task state.

The state machine maps each name of WORKER_ENVIRONMENT from the step's `task.environment`
into the container overrides, so the names are fixed here and in infra/ alike; the names
themselves are the worker contract's (jobsched/worker_contract.py).
"""

import json
from typing import Any, Final

from jobsched.models.units import Claim
from jobsched.ports.dispatch import DispatchStore
from jobsched.settings import Settings
from jobsched.worker_contract import (
    ENV_ARTIFACTS_BUCKET,
    ENV_ARTIFACTS_PREFIX,
    ENV_HEARTBEAT,
    ENV_HEARTBEAT_SECONDS,
    ENV_JOB_ID,
    ENV_PARAMS,
    ENV_REGION,
    ENV_RESULT,
    ENV_UNIT_ID,
    ENV_WORKLOAD,
)

# What each task is given, in the state machine's order.
WORKER_ENVIRONMENT: Final = (
    ENV_UNIT_ID,
    ENV_JOB_ID,
    ENV_WORKLOAD,
    ENV_PARAMS,
    ENV_ARTIFACTS_BUCKET,
    ENV_ARTIFACTS_PREFIX,
    ENV_HEARTBEAT_SECONDS,
    ENV_HEARTBEAT,
    ENV_RESULT,
    ENV_REGION,
)

# RunTask accepts at most 8192 characters of overrides, JSON punctuation included.
MAX_OVERRIDES_CHARS: Final = 8192


class UnrunnableUnitError(Exception):
    """The unit cannot start as an ECS task (no template, overrides over ECS's limit). The
    dispatcher ends it failed at once rather than holding the slot for a task that never runs."""


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _request(request: dict[str, Any] | None) -> str:
    # Every name stays (the state machine maps each one); an empty one the worker leaves unsent.
    return _json(request) if request is not None else ""


def artifacts_prefix(unit_id: str) -> str:
    return f"runs/{unit_id}/"


def worker_environment(claim: Claim, settings: Settings, dispatch: DispatchStore) -> dict[str, str]:
    """The worker's environment for `claim`, by WORKER_ENVIRONMENT name."""
    if claim.template is None:
        raise UnrunnableUnitError(f"{claim.kind} {claim.unit_id} has no template")
    return {
        ENV_UNIT_ID: claim.unit_id,
        ENV_JOB_ID: claim.job.job_id if claim.job else "",
        ENV_WORKLOAD: claim.template.workload,
        ENV_PARAMS: _json(claim.params),
        ENV_ARTIFACTS_BUCKET: settings.artifacts_bucket or "",
        ENV_ARTIFACTS_PREFIX: artifacts_prefix(claim.unit_id),
        ENV_HEARTBEAT_SECONDS: f"{settings.heartbeat_seconds:g}",
        ENV_HEARTBEAT: _request(dispatch.heartbeat_request(claim)),
        ENV_RESULT: _request(dispatch.result_request(claim)),
        ENV_REGION: settings.aws_region,
    }


def ecs_overrides(claim: Claim, settings: Settings, dispatch: DispatchStore) -> dict[str, Any]:
    """RunTask's `overrides` for `claim`: the worker's environment and the template's size."""
    environment = worker_environment(claim, settings, dispatch)
    assert claim.template is not None  # worker_environment checked it
    return {
        "containerOverrides": [
            {
                "name": settings.container_name,
                "environment": [{"name": k, "value": v} for k, v in environment.items()],
            }
        ],
        "cpu": str(claim.template.cpu),
        "memory": str(claim.template.memory),
    }


def task_spec(claim: Claim, settings: Settings, dispatch: DispatchStore) -> dict[str, Any]:
    """The `task` a claim step hands the state machine: what its runTask.sync step reads."""
    overrides = ecs_overrides(claim, settings, dispatch)
    size = len(_json(overrides))
    if size > MAX_OVERRIDES_CHARS:
        raise UnrunnableUnitError(
            f"the task's overrides are {size} characters, over ECS's {MAX_OVERRIDES_CHARS} "
            "(params too large to pass to a task)"
        )
    assert claim.template is not None
    container = overrides["containerOverrides"][0]
    return {
        "environment": {item["name"]: item["value"] for item in container["environment"]},
        "cpu": overrides["cpu"],
        "memory": overrides["memory"],
        # The template's limit plus the time a task may take to start (image pull, ENI): the
        # same allowance the claim's lease gives before the first heartbeat.
        "timeout_seconds": int(claim.template.timeout_seconds + settings.startup_lease_seconds),
    }
