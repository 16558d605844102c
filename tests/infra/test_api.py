"""The API construct as synthesised: the FastAPI Lambda behind an HTTP API's `$default` route,
the stage's throttling and JSON access logs, the function's settings (each one a setting the
app parses), a role scoped statement by statement, the optional custom domain, the pinned
ApiUrl output, and the trigger that seeds the default templates.

Two synths: the defaults (cdk.json), and a prod stage with every API context key set the way
`cdk deploy -c key=value` passes them (strings). cdk-nag runs in both (a finding raises);
cfn-lint runs here on the custom-domain template (tests/infra/test_data.py lints the others).
"""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_cdk import App, Environment
from cfnlint.api import lint
from cfnlint.config import ManualArgs

from infra import constants
from infra.build import unreviewed_findings
from infra.config import ApiConfig, ApiContextError
from infra.constructs.api import (
    ACCESS_LOG_FIELDS,
    API_HANDLER,
    API_TABLE_ACTIONS,
    SEED_HANDLER,
)
from infra.functions import LAMBDA_RUNTIME
from infra.stack import SchedulerStack
from jobsched.adapters.dynamodb.tables import TABLES
from jobsched.settings import Settings
from tests.support.synth import (
    Synth,
    actions_of,
    as_text,
    grants,
    resources_of,
    synthesise,
    table_arn,
    with_action,
)

FUNCTION = "ApiAppFunction"
ROLE = "ApiAppRole"
SEED_FUNCTION = "ApiSeedFunction"
SEED_ROLE = "ApiSeedRole"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
CUSTOM = {
    constants.STAGE_CONTEXT_KEY: "prod",
    constants.API_THROTTLE_RATE_CONTEXT_KEY: "5",
    constants.API_THROTTLE_BURST_CONTEXT_KEY: "10",
    constants.API_DOMAIN_NAME_CONTEXT_KEY: "jobs.example.com",
    constants.API_CERTIFICATE_ARN_CONTEXT_KEY: CERTIFICATE,
    constants.USE_SCHEDULER_CONTEXT_KEY: "false",
    constants.LEGACY_SUNSET_AT_CONTEXT_KEY: "2028-06-30T00:00:00+00:00",
}
# Every setting the API Lambda is given (Settings fields, as JOBSCHED_<FIELD>).
API_VARIABLES = {
    *(constants.settings_env_var(spec.entity) for spec in TABLES),
    "JOBSCHED_TABLE_PREFIX",
    "JOBSCHED_STATE_MACHINE_ARN",
    "JOBSCHED_CLUSTER",
    "JOBSCHED_TASK_DEFINITION",
    "JOBSCHED_CONTAINER_NAME",
    "JOBSCHED_SUBNETS",
    "JOBSCHED_SECURITY_GROUPS",
    "JOBSCHED_ASSIGN_PUBLIC_IP",
    "JOBSCHED_ARTIFACTS_BUCKET",
    "JOBSCHED_LOG_GROUP",
    "JOBSCHED_LOG_STREAM_PREFIX",
    "JOBSCHED_SCHEDULE_GROUP",
    "JOBSCHED_SCHEDULE_TARGET_ARN",
    "JOBSCHED_SCHEDULE_ROLE_ARN",
    "JOBSCHED_SCHEDULE_DLQ_ARN",
    "JOBSCHED_WEBHOOK_FUNCTION",
    "JOBSCHED_USE_SCHEDULER",
    "JOBSCHED_LEGACY_SUNSET_AT",
}


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise(tmp_path_factory.mktemp("api-custom"), CUSTOM)


def _has_indexes(entity: str) -> bool:
    spec = next(spec for spec in TABLES if spec.entity == entity)
    return bool(spec.global_indexes or spec.local_indexes)


# --- the function -----------------------------------------------------------------------------


def test_the_api_function(synth: Synth) -> None:
    properties = synth.properties("AWS::Lambda::Function", FUNCTION)
    assert properties["Handler"] == API_HANDLER == "api.handler.handler"
    assert properties["Runtime"] == LAMBDA_RUNTIME.name
    assert properties["Architectures"] == ["arm64"]
    assert properties["MemorySize"] == 1024
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert "VpcConfig" not in properties
    # Under API Gateway's 30 s integration limit, above the longest wait of the direct APIs.
    defaults = Settings.model_fields
    assert defaults["direct_max_wait_seconds"].default < properties["Timeout"] == 29 < 30


def test_the_function_is_given_every_setting_it_reads(synth: Synth) -> None:
    variables = synth.variables(FUNCTION)
    assert variables.keys() >= API_VARIABLES
    settings_fields = {f"JOBSCHED_{name.upper()}" for name in Settings.model_fields}
    assert variables.keys() <= settings_fields  # nothing the app would ignore
    assert not {"JOBSCHED_WEBHOOK_SECRET", "JOBSCHED_PUBLIC_DOCS"} & variables.keys()
    for spec in TABLES:
        table = constants.table_logical_id(spec.entity)
        assert variables[constants.settings_env_var(spec.entity)] == {"Ref": table}


def test_the_settings_name_the_stacks_resources(synth: Synth) -> None:
    v = {name: as_text(value) for name, value in synth.variables(FUNCTION).items()}
    logical = synth.logical_id
    assert v["JOBSCHED_TABLE_PREFIX"] == constants.table_prefix("dev")
    assert v["JOBSCHED_STATE_MACHINE_ARN"].endswith(
        f":stateMachine:{constants.state_machine_name('dev')}"
    )
    assert v["JOBSCHED_CLUSTER"] == f"<{logical('AWS::ECS::Cluster', 'ExecutionCluster')}>"
    task_definition = logical("AWS::ECS::TaskDefinition", "ExecutionWorker")
    assert v["JOBSCHED_TASK_DEFINITION"] == f"<{task_definition}>"  # the revision's ARN
    assert v["JOBSCHED_CONTAINER_NAME"] == "worker"
    assert v["JOBSCHED_ARTIFACTS_BUCKET"] == f"<{logical('AWS::S3::Bucket', 'ExecutionArtifacts')}>"
    assert v["JOBSCHED_LOG_GROUP"] == f"<{logical('AWS::Logs::LogGroup', 'ExecutionTaskLogs')}>"
    assert v["JOBSCHED_LOG_STREAM_PREFIX"] == "job"
    assert v["JOBSCHED_SCHEDULE_GROUP"] == "<ScheduleGroup>"
    fire = logical("AWS::Lambda::Function", "SchedulesFireFunction")
    assert v["JOBSCHED_SCHEDULE_TARGET_ARN"] == f"<{fire}.Arn>"
    webhook = logical("AWS::Lambda::Function", "WebhooksWebhookFunction")
    assert v["JOBSCHED_WEBHOOK_FUNCTION"] == f"<{webhook}>"
    assert v["JOBSCHED_ASSIGN_PUBLIC_IP"] == "true"
    assert v["JOBSCHED_USE_SCHEDULER"] == "true"  # cdk.json's default: the queue
    assert v["JOBSCHED_LEGACY_SUNSET_AT"] == "2027-12-01T00:00:00+00:00"  # the app's default


def test_tasks_outside_the_queue_use_the_state_machines_network(synth: Synth) -> None:
    """Lists are JSON (pydantic-settings reads list fields so): the public subnets and the
    task security group, as the dispatcher's runTask.sync uses them."""
    v = {name: as_text(value) for name, value in synth.variables(FUNCTION).items()}
    public = sorted(
        k
        for k, subnet in synth.resources("AWS::EC2::Subnet").items()
        if subnet["Properties"]["MapPublicIpOnLaunch"]
    )
    assert len(public) == 2
    assert json.loads(v["JOBSCHED_SUBNETS"]) == [f"<{subnet}>" for subnet in public]
    group = synth.logical_id("AWS::EC2::SecurityGroup", "ExecutionTaskSecurityGroup")
    assert json.loads(v["JOBSCHED_SECURITY_GROUPS"]) == [f"<{group}.GroupId>"]
    (machine,) = synth.resources("AWS::StepFunctions::StateMachine").values()
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert all(subnet in definition for subnet in public)
    assert group in definition


def test_the_app_parses_the_functions_environment(
    synth: Synth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What CloudFormation will hand the function, with its references filled in, makes
    Settings as the app reads them at cold start (a list as `a,b` would fail there)."""
    for name, value in synth.variables(FUNCTION).items():
        text = as_text(value)
        monkeypatch.setenv(name, text.replace("<", "x-").replace(">", "").replace(".", "-"))
    settings = Settings()
    assert settings.subnets == [
        f"x-{k}"
        for k, s in sorted(synth.resources("AWS::EC2::Subnet").items())
        if s["Properties"]["MapPublicIpOnLaunch"]
    ]
    assert len(settings.security_groups) == 1
    assert settings.assign_public_ip is True
    assert settings.use_scheduler is True
    assert settings.legacy_sunset_at == datetime(2027, 12, 1, tzinfo=UTC)
    assert settings.state_machine_arn  # the app then builds the AWS stores
    assert settings.schedule_target_arn  # and writes schedules to EventBridge Scheduler
    assert settings.webhook_function
    assert settings.table("keys").startswith("x-KeysTable")


# --- the HTTP API -----------------------------------------------------------------------------


def test_one_http_api_with_one_default_route_to_the_function(synth: Synth) -> None:
    (api_id,) = synth.resources("AWS::ApiGatewayV2::Api")
    assert synth.json["Resources"][api_id]["Properties"]["ProtocolType"] == "HTTP"
    (route,) = synth.resources("AWS::ApiGatewayV2::Route").values()
    assert route["Properties"]["RouteKey"] == "$default"  # the app routes every request
    assert route["Properties"]["AuthorizationType"] == "NONE"  # and checks its bearer keys
    (integration_id, integration) = next(
        iter(synth.resources("AWS::ApiGatewayV2::Integration").items())
    )
    assert as_text(route["Properties"]["Target"]) == f"integrations/<{integration_id}>"
    function = synth.logical_id("AWS::Lambda::Function", FUNCTION)
    assert integration["Properties"] == {
        "ApiId": {"Ref": api_id},
        "IntegrationType": "AWS_PROXY",
        "IntegrationUri": {"Fn::GetAtt": [function, "Arn"]},
        "PayloadFormatVersion": "2.0",  # what api/handler.py's Mangum expects
    }
    (permission,) = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]}
    ]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert as_text(permission["SourceArn"]).endswith(f":<{api_id}>/*/*")


def test_the_default_stage_is_throttled_and_logs_json(synth: Synth) -> None:
    (stage,) = synth.resources("AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == "$default"
    assert properties["AutoDeploy"] is True
    assert properties["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": constants.DEFAULT_API_THROTTLE_RATE,
        "ThrottlingBurstLimit": constants.DEFAULT_API_THROTTLE_BURST,
    }
    logs = synth.logical_id("AWS::Logs::LogGroup", "ApiAccessLogs")
    settings = properties["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": [logs, "Arn"]}
    line = json.loads(settings["Format"])  # one JSON object per request
    assert line == dict(ACCESS_LOG_FIELDS)
    for field, variable in {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "path": "$context.path",
        "status": "$context.status",
        "latency": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
    }.items():
        assert line[field] == variable
    log_group = synth.resource("AWS::Logs::LogGroup", "ApiAccessLogs")
    assert log_group["Properties"]["RetentionInDays"] == 7  # a dev stage's
    assert log_group["DeletionPolicy"] == "Delete"


def test_context_sets_throttling_the_queue_switch_and_the_sunset(custom: Synth) -> None:
    (stage,) = custom.resources("AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": 5,
        "ThrottlingBurstLimit": 10,
    }
    variables = custom.variables(FUNCTION)
    assert variables["JOBSCHED_USE_SCHEDULER"] == "false"
    assert variables["JOBSCHED_LEGACY_SUNSET_AT"] == "2028-06-30T00:00:00+00:00"
    assert variables["JOBSCHED_TABLE_PREFIX"] == constants.table_prefix("prod")
    log_group = custom.resource("AWS::Logs::LogGroup", "ApiAccessLogs")
    assert log_group["Properties"]["RetentionInDays"] == 90
    assert log_group["DeletionPolicy"] == "RetainExceptOnCreate"


# --- the custom domain and the outputs --------------------------------------------------------


def test_no_custom_domain_without_context(synth: Synth) -> None:
    assert not synth.resources("AWS::ApiGatewayV2::DomainName")
    assert not synth.resources("AWS::ApiGatewayV2::ApiMapping")
    outputs = synth.template.find_outputs("*")
    assert not {"ApiDomainTarget", "ApiDomainHostedZoneId"} & outputs.keys()


def test_a_custom_domain_maps_to_the_default_stage(custom: Synth) -> None:
    (domain_id, domain) = next(iter(custom.resources("AWS::ApiGatewayV2::DomainName").items()))
    assert domain["Properties"]["DomainName"] == "jobs.example.com"
    (configuration,) = domain["Properties"]["DomainNameConfigurations"]
    assert configuration == {
        "CertificateArn": CERTIFICATE,
        "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2",
    }
    (mapping,) = custom.resources("AWS::ApiGatewayV2::ApiMapping").values()
    (api_id,) = custom.resources("AWS::ApiGatewayV2::Api")
    (stage_id,) = custom.resources("AWS::ApiGatewayV2::Stage")
    assert mapping["Properties"]["ApiId"] == {"Ref": api_id}
    assert mapping["Properties"]["DomainName"] == {"Ref": domain_id}
    assert mapping["Properties"]["Stage"] == "$default"
    assert mapping["DependsOn"] == [stage_id]  # the stage exists before it is mapped
    assert "ApiMappingKey" not in mapping["Properties"]  # the whole domain is the API
    outputs = custom.template.find_outputs("*")
    assert outputs["ApiDomainTarget"]["Value"] == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
    assert outputs["ApiDomainHostedZoneId"]["Value"] == {
        "Fn::GetAtt": [domain_id, "RegionalHostedZoneId"]
    }


def test_the_api_url_output_has_a_pinned_id(synth: Synth) -> None:
    (api_id,) = synth.resources("AWS::ApiGatewayV2::Api")
    outputs = synth.template.find_outputs("*")
    assert outputs["ApiUrl"]["Value"] == {"Fn::GetAtt": [api_id, "ApiEndpoint"]}


# --- IAM --------------------------------------------------------------------------------------


def test_the_role_is_for_lambda_only(synth: Synth) -> None:
    properties = synth.properties("AWS::IAM::Role", ROLE)
    (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert "ManagedPolicyArns" not in properties


def test_the_api_reaches_each_table_as_its_use_cases_do(synth: Synth) -> None:
    statements = synth.statements(ROLE)
    dynamodb = {
        resource: actions
        for resource, actions in grants(statements).items()
        if any(a.startswith("dynamodb:") for a in actions)
    }
    expected: dict[str, set[str]] = {}
    for entity, actions in API_TABLE_ACTIONS.items():
        expected[table_arn(entity)] = set(actions)
        if "dynamodb:Query" in actions and _has_indexes(entity):
            expected[f"{table_arn(entity)}/index/*"] = set(actions)
    assert dynamodb == expected
    assert set(API_TABLE_ACTIONS) == {spec.entity for spec in TABLES}
    granted = {a for actions in dynamodb.values() for a in actions}
    assert not {"dynamodb:BatchWriteItem", "dynamodb:DeleteTable"} & granted
    assert not any("*" in a for a in granted)
    # keys are looked up, and listed, minted and revoked by admins (/keys), never deleted; the
    # keys table is the one the API scans
    keys = {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert dynamodb[table_arn("keys")] == keys
    scanned = [resource for resource, actions in dynamodb.items() if "dynamodb:Scan" in actions]
    assert scanned == [table_arn("keys")]


def test_every_other_statement_and_its_scope(synth: Synth) -> None:
    logical = synth.logical_id
    statements = [
        s
        for s in synth.statements(ROLE)
        if not any(a.startswith("dynamodb:") for a in actions_of(s))
    ]
    cluster = logical("AWS::ECS::Cluster", "ExecutionCluster")
    task_definition = logical("AWS::ECS::TaskDefinition", "ExecutionWorker")
    bucket = logical("AWS::S3::Bucket", "ExecutionArtifacts")
    schedules = (
        "arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/<ScheduleGroup>/*"
    )
    state_machine = (
        "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:"
        + constants.state_machine_name("dev")
    )
    assert grants(statements) == {
        state_machine: {"states:StartExecution"},  # enqueue kicks the dispatcher
        schedules: {
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:GetSchedule",
        },
        f"<{logical('AWS::IAM::Role', 'SchedulesSchedulerRole')}.Arn>": {"iam:PassRole"},
        f"<{logical('AWS::IAM::Role', 'ExecutionWorkerTaskRole')}.Arn>": {"iam:PassRole"},
        f"<{logical('AWS::IAM::Role', 'ExecutionWorkerExecutionRole')}.Arn>": {"iam:PassRole"},
        "*": {"ecs:ListTasks", "xray:PutTraceSegments", "xray:PutTelemetryRecords"},
        f"arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<{cluster}>/*": {
            "ecs:DescribeTasks",
            "ecs:StopTask",
        },
        f"<{task_definition}>": {"ecs:RunTask"},
        f"<{logical('AWS::Logs::LogGroup', 'ExecutionTaskLogs')}.Arn>": {
            "logs:GetLogEvents",
            "logs:FilterLogEvents",
        },
        f"<{bucket}.Arn>/runs/*/*": {"s3:GetObject"},
        f"<{logical('AWS::Logs::LogGroup', f'{FUNCTION}Logs')}.Arn>": {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        },
        f"<{logical('AWS::Lambda::Function', 'WebhooksWebhookFunction')}.Arn>": {
            "lambda:InvokeFunction"  # unqualified: $LATEST, as LambdaNotifier invokes it
        },
    }


def test_ecs_actions_are_held_to_the_cluster(synth: Synth) -> None:
    statements = synth.statements(ROLE)
    cluster = synth.logical_id("AWS::ECS::Cluster", "ExecutionCluster")
    in_cluster = {"ArnEquals": {"ecs:cluster": {"Fn::GetAtt": [cluster, "Arn"]}}}
    (list_tasks,) = with_action(statements, "ecs:ListTasks")
    assert list_tasks["Condition"] == in_cluster
    (run_task,) = with_action(statements, "ecs:RunTask")
    assert actions_of(run_task) == {"ecs:RunTask"}
    assert run_task["Condition"] == in_cluster


def test_pass_role_hands_each_role_to_its_service_only(synth: Synth) -> None:
    passes = with_action(synth.statements(ROLE), "iam:PassRole")
    by_service = {
        s["Condition"]["StringEquals"]["iam:PassedToService"]: sorted(resources_of(s))
        for s in passes
    }
    assert len(passes) == len(by_service) == 2
    logical = synth.logical_id
    assert by_service == {
        "ecs-tasks.amazonaws.com": sorted(
            [
                f"<{logical('AWS::IAM::Role', 'ExecutionWorkerTaskRole')}.Arn>",
                f"<{logical('AWS::IAM::Role', 'ExecutionWorkerExecutionRole')}.Arn>",
            ]
        ),
        "scheduler.amazonaws.com": [f"<{logical('AWS::IAM::Role', 'SchedulesSchedulerRole')}.Arn>"],
    }


# --- default templates on deployment ----------------------------------------------------------


def test_the_seed_function_writes_templates_only(synth: Synth) -> None:
    properties = synth.properties("AWS::Lambda::Function", SEED_FUNCTION)
    assert properties["Handler"] == SEED_HANDLER == "functions.seed.handler"
    assert properties["Architectures"] == ["arm64"]
    variables = synth.variables(SEED_FUNCTION)
    assert variables["JOBSCHED_TABLE_PREFIX"] == constants.table_prefix("dev")
    assert variables["JOBSCHED_TEMPLATES_TABLE"] == {"Ref": "TemplatesTable"}
    # settings every process reads, no more
    assert variables.keys() <= synth.variables(FUNCTION).keys()
    logs = synth.logical_id("AWS::Logs::LogGroup", f"{SEED_FUNCTION}Logs")
    assert grants(synth.statements(SEED_ROLE)) == {
        # create_template's conditional put (attribute_not_exists): no read, no transaction
        "<TemplatesTable.Arn>": {"dynamodb:PutItem"},
        f"<{logs}.Arn>": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "*": {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
    }


def test_a_trigger_runs_the_seed_after_the_templates_table_exists(synth: Synth) -> None:
    (trigger,) = synth.resources("Custom::Trigger").values()
    function = synth.logical_id("AWS::Lambda::Function", SEED_FUNCTION)
    (version_id, version) = next(
        (k, v)
        for k, v in synth.resources("AWS::Lambda::Version").items()
        if v["Properties"]["FunctionName"] == {"Ref": function}
    )
    properties = trigger["Properties"]
    # The function's current version: a change of its code (where the defaults live) or of
    # its settings makes a new version, which runs the seed again.
    assert properties["HandlerArn"] == {"Ref": version_id}
    assert properties["ExecuteOnHandlerChange"] is True
    assert properties["InvocationType"] == "RequestResponse"  # a failed seed fails the deploy
    assert "TemplatesTable" in trigger["DependsOn"]
    seed_role = synth.logical_id("AWS::IAM::Role", SEED_ROLE)
    depends = synth.json["Resources"][function]["DependsOn"]
    assert seed_role in depends
    assert any(d.startswith(f"{SEED_ROLE}DefaultPolicy") for d in depends)  # may put at once
    assert version["Type"] == "AWS::Lambda::Version"


# --- context ----------------------------------------------------------------------------------


def _config(**context: Any) -> ApiConfig:
    return ApiConfig.from_context(App(context=context))


def test_config_defaults_are_cdk_jsons() -> None:
    from infra.build import context_defaults

    defaults = context_defaults()
    config = ApiConfig.from_context(App(context=defaults))
    assert config == ApiConfig()
    assert defaults[constants.API_THROTTLE_RATE_CONTEXT_KEY] == constants.DEFAULT_API_THROTTLE_RATE
    assert (
        defaults[constants.API_THROTTLE_BURST_CONTEXT_KEY] == constants.DEFAULT_API_THROTTLE_BURST
    )
    assert defaults[constants.USE_SCHEDULER_CONTEXT_KEY] is constants.DEFAULT_USE_SCHEDULER


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("False", False), ("0", False), ("1", True)],
)
def test_use_scheduler_from_json_or_the_command_line(value: Any, expected: bool) -> None:
    assert _config(use_scheduler=value).use_scheduler is expected


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"api_throttle_rate": "0"}, "api_throttle_rate"),
        ({"api_throttle_rate": "fast"}, "api_throttle_rate"),
        ({"api_throttle_burst": "2.5"}, "api_throttle_burst"),
        ({"api_throttle_burst": 6000}, "api_throttle_burst"),
        ({"use_scheduler": "maybe"}, "use_scheduler"),
        ({"api_domain_name": "jobs.example.com"}, "both"),
        ({"api_certificate_arn": CERTIFICATE}, "both"),
        ({"api_domain_name": "jobs.example.com", "api_certificate_arn": "cert"}, "ACM"),
        ({"legacy_sunset_at": "next year"}, "ISO 8601"),
        ({"legacy_sunset_at": "2028-01-01T00:00:00"}, "time zone"),
    ],
)
def test_bad_context_fails_synthesis_with_the_key(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiContextError, match=message):
        _config(**context)


def test_the_certificate_must_be_in_the_stacks_region() -> None:
    app = App(context={**CUSTOM, constants.STAGE_CONTEXT_KEY: "dev"})
    with pytest.raises(ApiContextError, match="certificate in eu-west-1"):
        SchedulerStack(
            app,
            "regional",
            stage="dev",
            env=Environment(account="123456789012", region="eu-west-1"),
        )


# --- checks over the whole template -----------------------------------------------------------


def test_cdk_nag_leaves_nothing_unreviewed(synth: Synth, custom: Synth) -> None:
    assert unreviewed_findings(synth.assembly) == []
    assert unreviewed_findings(custom.assembly) == []


def test_cfn_lint_passes_with_a_custom_domain(custom: Synth) -> None:
    matches = lint(
        json.dumps(custom.json),
        config=ManualArgs(ignore_checks=["W3005"], regions=["us-east-1"]),
    )
    assert [str(match) for match in matches] == []


def test_the_lambda_code_holds_the_app_and_the_seed(synth: Synth) -> None:
    code = synth.properties("AWS::Lambda::Function", FUNCTION)["Code"]
    assert synth.properties("AWS::Lambda::Function", SEED_FUNCTION)["Code"] == code
    asset = synth.assembly / f"asset.{code['S3Key'].removesuffix('.zip')}"
    assert (asset / "functions" / "seed.py").is_file()
    assert (asset / "api" / "handler.py").is_file()
