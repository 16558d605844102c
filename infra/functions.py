"""How the project's Lambda functions are built: one place for runtime, architecture, logging and
tracing, so every construct's functions are alike."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import checkov
from infra.assets import lambda_code
from infra.constructs.execution import log_retention, removal_policy

LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14


def project_function(
    scope: Construct,
    name: str,
    *,
    handler: str,
    role: iam.Role,
    timeout: Duration,
    environment: Mapping[str, str],
    stage: str,
    description: str,
    memory_size: int = 512,
    reserved_concurrency: int | None = None,
    without_dead_letter_queue: str = checkov.SYNCHRONOUS,
    **options: Any,
) -> lambda_.Function:
    """arm64, JSON logs to a log group of its own (retention by stage), X-Ray tracing.

    `reserved_concurrency` (infra.config.Concurrency; None: opted out) is what it may run at
    once and is sure to get; `without_dead_letter_queue` says why it needs none (an on-failure
    destination in `options` says it itself)."""
    log_group = logs.LogGroup(
        scope,
        f"{name}FunctionLogs",
        retention=log_retention(stage),
        removal_policy=removal_policy(stage),
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        f"{name}Function",
        code=lambda_code(),
        handler=handler,
        runtime=LAMBDA_RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        memory_size=memory_size,
        timeout=timeout,
        role=role,
        environment=dict(environment),
        log_group=log_group,
        # Lambda formats stdlib logging as JSON (with `extra=` fields): structured logs
        # without a logging library at cold start.
        logging_format=lambda_.LoggingFormat.JSON,
        tracing=lambda_.Tracing.ACTIVE,
        description=description,
        reserved_concurrent_executions=reserved_concurrency,
        **options,
    )
    resource = function.node.default_child
    assert isinstance(resource, lambda_.CfnFunction)
    if reserved_concurrency is None:
        checkov.skip(
            resource,
            checkov.CONCURRENCY,
            "deployed with reserve_concurrency=false: the account's concurrency cannot spare "
            "reservations (README, Deploy on AWS)",
        )
    queue_reason = checkov.ON_FAILURE_DESTINATION if "on_failure" in options else None
    checkov.skip(resource, checkov.DEAD_LETTER_QUEUE, queue_reason or without_dead_letter_queue)
    return function
