"""The worker's contract with the dispatcher: environment variable names, defaults, parsing.

The dispatcher sets these as ECS container overrides, or as the subprocess environment locally.
Everything is read here, once; the rest of the worker receives a `WorkerConfig`.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_UNIT_ID = "JOBSCHED_UNIT_ID"  # the run id, or a reservation id
ENV_JOB_ID = "JOBSCHED_JOB_ID"  # empty for a reservation
ENV_WORKLOAD = "JOBSCHED_WORKLOAD"
ENV_PARAMS = "JOBSCHED_PARAMS"
ENV_OUTPUT_DIR = "JOBSCHED_OUTPUT_DIR"
ENV_ARTIFACTS_BUCKET = "JOBSCHED_ARTIFACTS_BUCKET"
ENV_ARTIFACTS_PREFIX = "JOBSCHED_ARTIFACTS_PREFIX"
ENV_HEARTBEAT_SECONDS = "JOBSCHED_HEARTBEAT_SECONDS"
ENV_HEARTBEAT = "JOBSCHED_HEARTBEAT"
ENV_RESULT = "JOBSCHED_RESULT"
ENV_MODEL_PROVIDER = "JOBSCHED_MODEL_PROVIDER"
ENV_MODEL_KEYS_SECRET = "JOBSCHED_MODEL_KEYS_SECRET"  # noqa: S105 (a name, not a secret)

DEFAULT_HEARTBEAT_SECONDS = 30.0
DEFAULT_REGION = "us-east-1"
# Offline unless asked otherwise: a run never calls a paid model API by accident.
MODEL_PROVIDERS = ("offline", "litellm")
DEFAULT_MODEL_PROVIDER = "offline"
# How long a workload may keep running after it was asked to stop before the worker gives up on
# it and reports anyway. Below ECS's default stopTimeout (30 s), so the report still goes out.
STOP_GRACE_SECONDS = 10.0

EXIT_OK = 0
EXIT_FAILED = 1  # the workload raised, or its outputs could not be kept
EXIT_USAGE = 2  # the worker was started wrongly: unknown workload, bad params or templates
EXIT_STOPPED = 143  # 128 + SIGTERM, what a shell reports for a terminated process


class ConfigError(Exception):
    """The environment does not describe a runnable unit; the worker exits with EXIT_USAGE."""


@dataclass(frozen=True)
class WorkerConfig:
    unit_id: str
    job_id: str
    workload: str
    params: dict[str, Any]
    output_dir: Path | None  # None: a fresh temporary directory
    artifacts_bucket: str
    artifacts_prefix: str
    heartbeat_seconds: float
    heartbeat: dict[str, Any] | None  # a TransactWriteItems request template
    result: dict[str, Any] | None
    aws_region: str
    model_provider: str  # one of MODEL_PROVIDERS
    model_keys_secret: str  # a Secrets Manager secret id or ARN; empty: keys come from the env


def unit_ids(env: Mapping[str, str]) -> tuple[str, str]:
    """The ids every log line carries; read first so that even a config error is attributed."""
    return env.get(ENV_UNIT_ID, ""), env.get(ENV_JOB_ID, "")


def aws_region(env: Mapping[str, str]) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def transact_template(env: Mapping[str, str], name: str) -> dict[str, Any] | None:
    """A `{"TransactItems": [...]}` template from `name`, or None when it is unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        template = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} is not valid JSON: {exc}") from exc
    items = template.get("TransactItems") if isinstance(template, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f'{name} must be a JSON object {{"TransactItems": [...]}}')
    checked: dict[str, Any] = template
    return checked


def _params(env: Mapping[str, str]) -> dict[str, Any]:
    raw = env.get(ENV_PARAMS, "").strip() or "{}"
    try:
        params = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{ENV_PARAMS} is not valid JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise ConfigError(f"{ENV_PARAMS} must be a JSON object, not {type(params).__name__}")
    return params


def _heartbeat_seconds(env: Mapping[str, str]) -> float:
    raw = env.get(ENV_HEARTBEAT_SECONDS, "").strip()
    if not raw:
        return DEFAULT_HEARTBEAT_SECONDS
    try:
        seconds = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{ENV_HEARTBEAT_SECONDS} is not a number: {raw!r}") from exc
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"{ENV_HEARTBEAT_SECONDS} must be a positive number, not {raw!r}")
    return seconds


def _prefix(raw: str) -> str:
    # "runs/abc", "/runs/abc/" and "runs/abc/" all mean the folder runs/abc/.
    stripped = raw.strip().strip("/")
    return f"{stripped}/" if stripped else ""


def _model_provider(env: Mapping[str, str]) -> str:
    name = env.get(ENV_MODEL_PROVIDER, "").strip().lower() or DEFAULT_MODEL_PROVIDER
    if name not in MODEL_PROVIDERS:
        choices = " or ".join(MODEL_PROVIDERS)
        raise ConfigError(f"{ENV_MODEL_PROVIDER} must be {choices}, not {name!r}")
    return name


def load(env: Mapping[str, str]) -> WorkerConfig:
    """Read and check the whole contract; raises ConfigError with a message for the log."""
    workload = env.get(ENV_WORKLOAD, "").strip()
    if not workload:
        raise ConfigError(f"{ENV_WORKLOAD} is not set")
    unit_id, job_id = unit_ids(env)
    output_dir = env.get(ENV_OUTPUT_DIR, "").strip()
    return WorkerConfig(
        unit_id=unit_id,
        job_id=job_id,
        workload=workload,
        params=_params(env),
        output_dir=Path(output_dir) if output_dir else None,
        artifacts_bucket=env.get(ENV_ARTIFACTS_BUCKET, "").strip(),
        artifacts_prefix=_prefix(env.get(ENV_ARTIFACTS_PREFIX, "")),
        heartbeat_seconds=_heartbeat_seconds(env),
        heartbeat=transact_template(env, ENV_HEARTBEAT),
        result=transact_template(env, ENV_RESULT),
        aws_region=aws_region(env),
        model_provider=_model_provider(env),
        model_keys_secret=env.get(ENV_MODEL_KEYS_SECRET, "").strip(),
    )
