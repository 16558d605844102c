"""How the project's Lambda functions are built: one place for runtime, architecture, logging and
tracing, so every construct's functions are alike."""

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

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
    **options: Any,
) -> lambda_.Function:
    """arm64, JSON logs to a log group of its own (retention by stage), X-Ray tracing."""
    log_group = logs.LogGroup(
        scope,
        f"{name}FunctionLogs",
        retention=log_retention(stage),
        removal_policy=removal_policy(stage),
    )
    log_group.grant_write(role)
    return lambda_.Function(
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
        **options,
    )
