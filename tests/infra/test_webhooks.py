"""The webhooks construct as synthesised: the webhook Lambda with its environment, a role scoped
to the groups table and the signing key, asynchronous invokes without Lambda retries and with a
dead-letter queue, the generated key, and the dispatcher functions allowed to invoke it.

The whole stack's cdk-nag and cfn-lint checks are in tests/infra/test_data.py; this module's
synthesis runs cdk-nag too (a finding raises)."""

import pytest

from infra import constants
from infra.build import unreviewed_findings
from infra.constructs.webhooks import (
    FUNCTION_ENV_VAR,
    FUNCTION_TIMEOUT,
    SLOWEST_DELIVERY_SECONDS,
    WEBHOOK_HANDLER,
)
from infra.functions import LAMBDA_RUNTIME
from jobsched.settings import Settings
from tests.support.synth import Synth, grants, synthesise

FUNCTION = "WebhooksWebhookFunction"
ROLE = "WebhooksWebhookRole"
QUEUE = "WebhooksDeadLetterQueue"
SECRET = "WebhooksSecret"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise(tmp_path_factory.mktemp("webhooks"))


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise(tmp_path_factory.mktemp("prod"), {constants.STAGE_CONTEXT_KEY: "prod"})


# --- the function -----------------------------------------------------------------------------


def test_the_webhook_function(synth: Synth) -> None:
    properties = synth.properties("AWS::Lambda::Function", FUNCTION)
    assert properties["Handler"] == WEBHOOK_HANDLER == "functions.webhook.handler"
    assert properties["Runtime"] == LAMBDA_RUNTIME.name
    assert properties["Architectures"] == ["arm64"]
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert "VpcConfig" not in properties  # webhooks go to the internet, never into a VPC
    # Room for the slowest delivery the sender allows (every attempt timing out, the longest
    # waits between them), within Lambda's 15 minutes.
    assert SLOWEST_DELIVERY_SECONDS < properties["Timeout"] == FUNCTION_TIMEOUT.to_seconds()
    assert properties["Timeout"] <= 900


def test_the_function_reads_its_key_from_secrets_manager_not_its_environment(
    synth: Synth,
) -> None:
    variables = synth.variables(FUNCTION)
    secret = synth.logical_id("AWS::SecretsManager::Secret", SECRET)
    assert variables["JOBSCHED_WEBHOOK_SECRET_ARN"] == {"Ref": secret}  # a secret's Ref: ARN
    assert variables["JOBSCHED_TABLE_PREFIX"] == constants.table_prefix("dev")
    assert variables["JOBSCHED_GROUPS_TABLE"] == {"Ref": "GroupsTable"}
    assert "JOBSCHED_WEBHOOK_SECRET" not in variables
    assert "JOBSCHED_WEBHOOK_ALLOW_PRIVATE" not in variables  # the address guard stays on


def test_the_variables_are_the_settings_the_code_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBSCHED_WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:eu:1:secret:k")
    monkeypatch.setenv(FUNCTION_ENV_VAR, "jobsched-dev-webhook")
    settings = Settings()
    assert settings.webhook_secret_arn == "arn:aws:secretsmanager:eu:1:secret:k"
    assert settings.webhook_function == "jobsched-dev-webhook"


def test_the_role_reads_groups_claims_their_notification_and_reads_the_key(
    synth: Synth,
) -> None:
    secret = synth.logical_id("AWS::SecretsManager::Secret", SECRET)
    queue = synth.logical_id("AWS::SQS::Queue", QUEUE)
    logs = synth.logical_id("AWS::Logs::LogGroup", f"{FUNCTION}Logs")
    statements = synth.statements(ROLE)
    assert not [s for s in statements if "Condition" in s]
    assert grants(statements) == {
        # the group itself only: no index, no Scan, no other table
        "<GroupsTable.Arn>": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        f"<{secret}>": {"secretsmanager:GetSecretValue"},
        f"<{queue}.Arn>": {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
        f"<{logs}.Arn>": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "*": {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
    }


def test_the_role_is_for_lambda_only(synth: Synth) -> None:
    properties = synth.properties("AWS::IAM::Role", ROLE)
    (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert "ManagedPolicyArns" not in properties


# --- asynchronous invokes and the dead-letter queue -------------------------------------------


def test_no_lambda_retries_and_failures_go_to_the_dead_letter_queue(synth: Synth) -> None:
    function = synth.logical_id("AWS::Lambda::Function", FUNCTION)
    queue = synth.logical_id("AWS::SQS::Queue", QUEUE)
    (config,) = [
        config
        for config in synth.resources("AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert config["Properties"] == {
        "FunctionName": {"Ref": function},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 0,  # the sender retries itself; the claim refuses a repeat
        "MaximumEventAgeInSeconds": 6 * 3600,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}},
    }


def test_the_dead_letter_queue_is_encrypted_tls_only_and_watched(synth: Synth) -> None:
    properties = synth.properties("AWS::SQS::Queue", QUEUE)
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
    queue = synth.logical_id("AWS::SQS::Queue", QUEUE)
    (policy,) = [
        policy
        for policy in synth.resources("AWS::SQS::QueuePolicy").values()
        if policy["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    alarm = synth.properties("AWS::CloudWatch::Alarm", "WebhooksDeadLetterAlarm")
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


# --- the signing key --------------------------------------------------------------------------


def test_the_key_is_generated_and_kept_outside_dev(synth: Synth, prod: Synth) -> None:
    secret = synth.resource("AWS::SecretsManager::Secret", SECRET)
    assert secret["Properties"]["GenerateSecretString"] == {
        "ExcludePunctuation": True,  # safe in a header, a shell and a config file
        "PasswordLength": 64,
    }
    assert "SecretString" not in secret["Properties"]  # never in the template
    assert secret["DeletionPolicy"] == "Delete"
    assert (
        prod.resource("AWS::SecretsManager::Secret", SECRET)["DeletionPolicy"]
        == "RetainExceptOnCreate"
    )
    assert prod.resource("AWS::SQS::Queue", QUEUE)["DeletionPolicy"] == "RetainExceptOnCreate"


# --- who may invoke it ------------------------------------------------------------------------


def test_every_dispatcher_function_names_the_webhook_function(synth: Synth) -> None:
    function = synth.logical_id("AWS::Lambda::Function", FUNCTION)
    named = {
        logical_id: f["Properties"]
        .get("Environment", {})
        .get("Variables", {})
        .get(FUNCTION_ENV_VAR)
        for logical_id, f in synth.resources("AWS::Lambda::Function").items()
    }
    dispatcher = {k: v for k, v in named.items() if k.startswith("Dispatcher")}
    assert len(dispatcher) == 5  # four steps and the sweeper: each may end a group
    assert set(map(str, dispatcher.values())) == {str({"Ref": function})}
    others = {k for k, v in named.items() if v is not None and not k.startswith("Dispatcher")}
    # The API too: cancelling a group ends it, and its webhook hears it.
    assert len(others) == 1
    assert all(k.startswith("Api") for k in others)


def test_the_dispatcher_roles_may_invoke_the_webhook_function_only(synth: Synth) -> None:
    function = synth.logical_id("AWS::Lambda::Function", FUNCTION)
    for role in ("DispatcherStepRole", "DispatcherSweeperRole"):
        invoke = {
            resource
            for resource, actions in grants(synth.statements(role)).items()
            if any(action.startswith("lambda:") for action in actions)
        }
        assert invoke == {f"<{function}.Arn>"}  # unqualified: $LATEST, not `:*` versions
    for role in ("SchedulesFireRole", "SchedulesRepairRole", ROLE):
        assert not any(
            action.startswith("lambda:")
            for actions in grants(synth.statements(role)).values()
            for action in actions
        )


def test_outputs_name_the_function_and_the_key(synth: Synth) -> None:
    outputs = synth.template.find_outputs("*")
    function = synth.logical_id("AWS::Lambda::Function", FUNCTION)
    secret = synth.logical_id("AWS::SecretsManager::Secret", SECRET)
    assert outputs["WebhookFunctionName"]["Value"] == {"Ref": function}
    assert outputs["WebhookSecretArn"]["Value"] == {"Ref": secret}


def test_the_lambda_code_holds_the_handler(synth: Synth) -> None:
    code = synth.properties("AWS::Lambda::Function", FUNCTION)["Code"]
    asset = synth.assembly / f"asset.{code['S3Key'].removesuffix('.zip')}"
    assert (asset / "functions" / "webhook.py").is_file()
    assert (asset / "jobsched" / "webhooks" / "notify.py").is_file()


def test_cdk_nag_leaves_nothing_unreviewed(synth: Synth, prod: Synth) -> None:
    assert unreviewed_findings(synth.assembly) == []
    assert unreviewed_findings(prod.assembly) == []
