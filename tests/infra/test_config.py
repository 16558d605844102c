"""Deployment choices through CDK context: checked at synthesis, applied to every construct."""

from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template

from infra import constants
from infra.build import build_app
from infra.config import ContextError, DeployConfig

KEYS = "arn:aws:secretsmanager:us-east-1:123456789012:secret:model-keys-AbCdEf"
CHOSEN = {
    "stage": "dev-config",
    "slots": "3",  # as `-c slots=3` passes it
    "task_cpu": 2048,
    "task_memory_mib": 8192,
    "log_retention_days": 30,
    "history_retention_days": 90,
    "model_provider": "litellm",
    "model_keys_secret_arn": KEYS,
}


def config(**context: Any) -> DeployConfig:
    return DeployConfig.from_context(App(context=context))


def test_the_defaults() -> None:
    assert config() == DeployConfig(1, 1024, 2048, None, None, "offline", None)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"slots": 0}, "slots=0: must be 1 to 100"),
        ({"slots": "many"}, "slots='many'"),
        ({"slots": True}, "slots=True"),
        ({"task_cpu": 300}, "task_cpu=300: must be one of Fargate's cpu units"),
        ({"task_cpu": 256, "task_memory_mib": 4096}, "Fargate allows 512-2048 MiB"),
        ({"log_retention_days": 10}, "log_retention_days=10"),
        ({"history_retention_days": 0}, "history_retention_days=0"),
        ({"model_provider": "openai"}, "model_provider='openai': must be one of offline, litellm"),
        ({"model_keys_secret_arn": "my-keys"}, "must be a Secrets Manager ARN"),
        ({"table_deletion_protection": "sometimes"}, "table_deletion_protection='sometimes'"),
    ],
)
def test_a_bad_value_fails_with_its_key_and_why(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ContextError, match=message.replace("(", r"\(")):
        config(**context)


def test_null_keeps_runs_and_the_stage_retention() -> None:
    chosen = config(history_retention_days="null", log_retention_days=None)
    assert chosen.history_retention_days is None
    assert "JOBSCHED_RUN_RETENTION_DAYS" not in chosen.settings_environment()


@pytest.fixture(scope="module")
def chosen(tmp_path_factory: pytest.TempPathFactory) -> Template:
    _, stack = build_app(CHOSEN, outdir=str(tmp_path_factory.mktemp("config")))
    return Template.from_stack(stack)


def test_the_choices_reach_the_resources(chosen: Template) -> None:
    chosen.has_resource_properties("AWS::ECS::TaskDefinition", {"Cpu": "2048", "Memory": "8192"})
    log_groups = chosen.find_resources("AWS::Logs::LogGroup")
    assert log_groups
    assert {group["Properties"]["RetentionInDays"] for group in log_groups.values()} == {30}
    functions = chosen.find_resources("AWS::Lambda::Function")
    for function in functions.values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if "JOBSCHED_TABLE_PREFIX" in variables:  # ours, not CDK's helper functions
            assert variables["JOBSCHED_SLOTS"] == "3"
            assert variables["JOBSCHED_RUN_RETENTION_DAYS"] == "90"
    chosen.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "jobsched-dev-config-runs",
            "TimeToLiveSpecification": Match.object_like(
                {"AttributeName": "expires_at", "Enabled": True}
            ),
        },
    )


def test_the_worker_uses_the_chosen_model_provider_and_may_read_only_its_keys(
    chosen: Template,
) -> None:
    (task,) = chosen.find_resources("AWS::ECS::TaskDefinition").values()
    (container,) = task["Properties"]["ContainerDefinitions"]
    assert {v["Name"]: v["Value"] for v in container["Environment"]} == {
        "JOBSCHED_MODEL_PROVIDER": "litellm",
        "JOBSCHED_MODEL_KEYS_SECRET": KEYS,
    }
    task_role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in chosen.find_resources("AWS::IAM::Policy").values()
        if {"Ref": task_role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    secrets = [s for s in statements if "secretsmanager:GetSecretValue" in str(s["Action"])]
    assert [s["Resource"] for s in secrets] == [KEYS]


@pytest.mark.parametrize(
    ("slots", "step_concurrency"), [(1, None), (3, None), (10, None), (100, None), (3, 40)]
)
def test_a_groups_width_shares_the_step_functions_concurrency_among_the_slots(
    slots: int, step_concurrency: int | None
) -> None:
    """Every slot may run a group: together their Maps never exceed what one step function
    may run at once (its reserved concurrency), and each is as wide as that allows (one job at
    the least)."""
    chosen = config(slots=slots, step_concurrency=step_concurrency)
    width = chosen.group_width
    concurrency = chosen.step_concurrency
    assert concurrency == (step_concurrency or max(constants.DISPATCH_STEP_CONCURRENCY, slots))
    assert width >= 1
    assert width * slots <= concurrency or width == 1
    assert (width + 1) * slots > concurrency
