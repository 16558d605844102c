"""The HTTP API: the FastAPI app (api/handler.py, Mangum) in one Lambda behind an API Gateway
HTTP API with a single `$default` route, its stage's access logs and throttling, an optional
custom domain, and the trigger that seeds the default templates on deployment.

The app routes and authenticates every request itself (bearer API keys; /health is open), so
API Gateway only forwards: no authorizer, no per-route configuration (docs/decisions.md, "API
on AWS").
"""

import json
from collections.abc import Mapping

from aws_cdk import CfnOutput, Duration, Stack, Token, triggers
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from jsii import implements

from infra import constants, nag
from infra.config import API_CONCURRENCY_KEY, ApiConfig, ApiContextError, Concurrency
from infra.constructs.data import Data, has_indexes
from infra.constructs.dispatcher import Dispatcher
from infra.constructs.execution import Execution, log_retention, removal_policy
from infra.constructs.schedules import Schedules
from infra.constructs.webhooks import Webhooks
from infra.functions import project_function
from jobsched.adapters.aws.overrides import artifacts_prefix

API_HANDLER = "api.handler.handler"
SEED_HANDLER = "functions.seed.handler"
ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"
# Pinned output ids: deploy scripts and clients read them by name.
URL_OUTPUT = "ApiUrl"
DOMAIN_TARGET_OUTPUT = "ApiDomainTarget"
DOMAIN_ZONE_OUTPUT = "ApiDomainHostedZoneId"

_GET, _QUERY, _PUT, _UPDATE, _DELETE, _CHECK, _SCAN = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:Scan",
)
# What the API's use cases do to each table (jobsched/adapters/dynamodb), and nothing more: no
# batch writes, no streams, no Scan but of the keys table (a few items, listed by admins).
# Query comes with the table's indexes (`table/index/*`).
# Transactions need the action of each item they hold (a condition is a ConditionCheck item).
API_TABLE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    # jobs and their queue items: enqueue, moves, cancel and claims outside the queue write
    # them; a cancel or a claim deletes the queue item
    "jobs": (_GET, _QUERY, _PUT, _UPDATE, _DELETE),
    # runs started outside the queue, ended by cancel or monitor; listed by job and status
    "runs": (_GET, _QUERY, _PUT, _UPDATE),
    # groups created with their jobs, counted and ended; listed by kind
    "groups": (_GET, _QUERY, _PUT, _UPDATE),
    # slots, the queue state and the direct APIs' reservations; claims check the slots; a cancel
    # frees a running job's concurrency keys (an update of their counter items)
    "lock": (_GET, _QUERY, _PUT, _UPDATE, _CHECK),
    # created, listed, replaced by version (each version kept as an item of its own), archived
    # and restored (never deleted); an enqueue checks the version it read
    "templates": (_GET, _QUERY, _PUT, _UPDATE, _CHECK),
    # records and their EventBridge write markers: created, changed, deleted, listed
    "schedules": (_GET, _QUERY, _PUT, _UPDATE, _DELETE),
    # stories and cards read and listed; a run that monitor ends is indexed first-write-wins
    "content": (_GET, _QUERY, _PUT),
    # a bearer key is looked up by id; admins list (a scan: no index, a few items), mint
    # (a conditional put) and revoke (an update) keys over /keys; never deleted
    "keys": (_GET, _SCAN, _PUT, _UPDATE),
}
# The seed creates missing templates with conditional puts (attribute_not_exists: the template
# and its first version, in one transaction), no more.
SEED_TEMPLATE_ACTIONS = ("dynamodb:PutItem",)

# One JSON line per request (API Gateway fills in the $context values).
ACCESS_LOG_FIELDS: Mapping[str, str] = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
}
ACCESS_LOG_FORMAT = json.dumps(dict(ACCESS_LOG_FIELDS), separators=(",", ":"))


class Api(Construct):
    """Public: `function`, `role`, `environment`, `http_api`, `default_stage`,
    `access_log_group`, `url`, `domain_name` (None without one), `seed_function`,
    `seed_trigger`, `config`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        data: Data,
        execution: Execution,
        dispatcher: Dispatcher,
        schedules: Schedules,
        webhooks: Webhooks,
        config: ApiConfig | None = None,
        concurrency: Concurrency = Concurrency(),
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.config = config or ApiConfig.from_context(self)
        self.concurrency = concurrency
        self._check_bound()
        self.data = data
        self.execution = execution
        self.environment = self._environment(dispatcher, schedules)
        self.role = self._role(dispatcher, schedules)
        self.function = project_function(
            self,
            "App",
            handler=API_HANDLER,
            role=self.role,
            timeout=Duration.seconds(constants.API_TIMEOUT_SECONDS),
            environment=self.environment,
            stage=stage,
            description=f"jobsched API: {API_HANDLER} (FastAPI via Mangum)",
            # More than the step functions' 512 MB: FastAPI's cold start and the direct APIs'
            # JSON work want more CPU, which comes with memory.
            memory_size=constants.API_MEMORY_MB,
            # Its bound: direct calls hold a function up to 28 s each, and a burst of them must
            # not take the concurrency the dispatcher's functions need.
            reserved_concurrency=concurrency.reserved("api"),
        )
        # Cancelling a group ends it: its webhook is sent (JOBSCHED_WEBHOOK_FUNCTION, invoke).
        webhooks.notify_from([self.function])

        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"{constants.APP_NAME}-{stage}",
            description=f"jobsched job scheduler API ({stage})",
            create_default_stage=False,
        )
        # Every method and path to the app, which routes and authenticates itself.
        self.route = apigwv2.HttpRoute(
            self,
            "DefaultRoute",
            http_api=self.http_api,
            route_key=apigwv2.HttpRouteKey.DEFAULT,
            integration=integrations.HttpLambdaIntegration("AppIntegration", self.function),
        )
        nag.acknowledge(
            self.route,
            "AwsSolutions-APIG4",
            "the app authenticates every route but /health with bearer API keys (hashed in the "
            "keys table, scoped read/write/admin); an authorizer would look the key up twice",
        )
        self.access_log_group = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(stage),
            removal_policy=removal_policy(stage),
        )
        self.default_stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=self.config.throttle_rate, burst_limit=self.config.throttle_burst
            ),
            access_log_settings=_AccessLogSettings(self.access_log_group),
        )
        self.url = self.http_api.api_endpoint
        self.domain_name = self._domain() if self.config.domain_name else None
        self.seed_function, self.seed_trigger = self._seed()
        self._outputs()

    # --- the function's settings and permissions ------------------------------------------------

    def _environment(self, dispatcher: Dispatcher, schedules: Schedules) -> dict[str, str]:
        """Dispatcher's (tables, deployment settings, state machine, cluster, task definition,
        container, bucket, task logs) plus where a task started outside the queue runs (the
        state machine's own network: public subnets, the task security group, a public IP),
        the schedule writer's, and the API's own choices. Lists are JSON: pydantic-settings
        reads list fields from the environment that way."""
        stack = Stack.of(self)
        subnets = self.execution.vpc.select_subnets(subnet_type=ec2.SubnetType.PUBLIC)
        return {
            **dispatcher.environment,
            "JOBSCHED_SUBNETS": stack.to_json_string(subnets.subnet_ids),
            "JOBSCHED_SECURITY_GROUPS": stack.to_json_string(
                [self.execution.security_group.security_group_id]
            ),
            "JOBSCHED_ASSIGN_PUBLIC_IP": "true",
            **schedules.environment(),
            "JOBSCHED_USE_SCHEDULER": "true" if self.config.use_scheduler else "false",
            "JOBSCHED_LEGACY_SUNSET_AT": self.config.legacy_sunset_at.isoformat(),
        }

    def _role(self, dispatcher: Dispatcher, schedules: Schedules) -> iam.Role:
        role = iam.Role(
            self,
            "AppRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="jobsched API",
        )
        self._grant_tables(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(  # enqueues, moves and reservations kick the dispatcher
                actions=["states:StartExecution"], resources=[dispatcher.state_machine_arn]
            )
        )
        # Schedules' records are mirrored to EventBridge Scheduler (create, update, delete).
        schedules.grant_manage_schedules(role)
        self._grant_tasks(role)
        self._grant_reads(role)
        return role

    def _grant_tables(self, role: iam.Role) -> None:
        for entity, actions in API_TABLE_ACTIONS.items():
            table_arn = self.data.tables[entity].table_arn
            resources = [table_arn]
            if "dynamodb:Query" in actions and has_indexes(entity):
                resources.append(f"{table_arn}/index/*")
                nag.acknowledge(
                    role,
                    nag.wildcard_resource(f"<{constants.table_logical_id(entity)}.Arn>/index/*"),
                    f"queries of the {entity} table's own indexes (lists, filters, queue order)",
                )
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=list(actions), resources=resources)
            )

    def _grant_tasks(self, role: iam.Role) -> None:
        """Cancel and monitor find and stop the cluster's tasks; USE_SCHEDULER=false starts
        the worker's task itself (ECS RunTask, handing ECS the task's two roles)."""
        execution = self.execution
        execution.grant_task_control(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # The exact revision JOBSCHED_TASK_DEFINITION names, in this cluster only.
                actions=["ecs:RunTask"],
                resources=[execution.task_definition.task_definition_arn],
                conditions={"ArnEquals": {"ecs:cluster": execution.cluster.cluster_arn}},
            )
        )
        execution_role = execution.task_definition.execution_role
        assert execution_role is not None
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[execution.task_definition.task_role.role_arn, execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": ECS_TASKS_SERVICE}},
            )
        )

    def _grant_reads(self, role: iam.Role) -> None:
        """Run logs (GET /runs/{id}/logs reads the task log group: a stream by name, or the
        unit's lines filtered across the group), and a finished run's output files, which
        monitor indexes when it ends a run whose worker reported and GET
        /runs/{id}/artifacts/{index} downloads (the reader refuses any other bucket or key)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # `<group>:*`: the group and its streams, as CloudWatch Logs' IAM expects it.
                actions=["logs:GetLogEvents", "logs:FilterLogEvents"],
                resources=[self.execution.log_group.log_group_arn],
            )
        )
        runs = f"{artifacts_prefix('*')}*"
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.execution.bucket.arn_for_objects(runs)],
            )
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource(f"<{nag.logical_id(self.execution.bucket)}.Arn>/{runs}"),
            "a run's output files under runs/<unit id>/, read to index them and to download them",
        )

    # --- the custom domain --------------------------------------------------------------------

    def _domain(self) -> apigwv2.DomainName:
        config = self.config
        assert config.domain_name is not None
        assert config.certificate_arn is not None
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and config.certificate_region != region:
            raise ApiContextError(
                f"{constants.API_CERTIFICATE_ARN_CONTEXT_KEY}: a regional API needs a "
                f"certificate in {region}, not in {config.certificate_region}"
            )
        domain = apigwv2.DomainName(
            self,
            "DomainName",
            domain_name=config.domain_name,
            certificate=acm.Certificate.from_certificate_arn(
                self, "Certificate", config.certificate_arn
            ),
            endpoint_type=apigwv2.EndpointType.REGIONAL,
            security_policy=apigwv2.SecurityPolicy.TLS_1_2,
        )
        apigwv2.ApiMapping(
            self, "ApiMapping", api=self.http_api, domain_name=domain, stage=self.default_stage
        )
        return domain

    def _check_bound(self) -> None:
        """A burst the stage's throttle lets through must fit the function's bound: API Gateway
        answers a throttled request 429, but a request Lambda throttles 500."""
        if self.concurrency.reserve and self.concurrency.api < self.config.throttle_burst:
            raise ApiContextError(
                f"{API_CONCURRENCY_KEY}={self.concurrency.api}: must be at least "
                f"{constants.API_THROTTLE_BURST_CONTEXT_KEY}={self.config.throttle_burst}, or "
                "a burst the stage lets through gets 5xx from Lambda's throttling"
            )

    # --- default templates on deployment ---------------------------------------------------------

    def _seed(self) -> tuple[lambda_.Function, triggers.Trigger]:
        """A function that creates the missing default templates, run by a CloudFormation
        trigger after the templates table exists: on the first deployment, and again whenever
        the function's code or settings change (the defaults are in its code)."""
        templates = self.data.tables["templates"]
        role = iam.Role(
            self,
            "SeedRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="jobsched default templates seed",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(SEED_TEMPLATE_ACTIONS), resources=[templates.table_arn]
            )
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource("*"),
            nag.XRAY_TAKES_NO_RESOURCE,
        )
        function = project_function(
            self,
            "Seed",
            handler=SEED_HANDLER,
            role=role,
            timeout=Duration.seconds(constants.SEED_TIMEOUT_SECONDS),
            # Every process's settings (the role, not the names, keeps it to the templates).
            environment={
                **self.data.settings_environment(),
                "JOBSCHED_TABLE_PREFIX": constants.table_prefix(self.stage),
            },
            stage=self.stage,
            description=f"jobsched: create the missing default templates ({SEED_HANDLER})",
            reserved_concurrency=self.concurrency.reserved("seed"),
        )
        trigger = triggers.Trigger(
            self,
            "SeedTrigger",
            handler=function,
            # A failed seed fails the deployment: a fresh install is not left without templates.
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            execute_after=[templates],
            execute_on_handler_change=True,
            timeout=Duration.seconds(constants.SEED_TIMEOUT_SECONDS),
        )
        return function, trigger

    # --- outputs ------------------------------------------------------------------------------

    def _outputs(self) -> None:
        outputs = [(URL_OUTPUT, self.url, "The API's base URL (execute-api endpoint)")]
        if self.domain_name is not None:
            outputs += [
                (
                    DOMAIN_TARGET_OUTPUT,
                    self.domain_name.regional_domain_name,
                    f"Point {self.config.domain_name} here (CNAME, or an alias record)",
                ),
                (
                    DOMAIN_ZONE_OUTPUT,
                    self.domain_name.regional_hosted_zone_id,
                    "The hosted zone of that target, for a Route 53 alias record",
                ),
            ]
        for output_id, value, description in outputs:
            output = CfnOutput(self, output_id, value=value, description=description)
            output.override_logical_id(output_id)


@implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """The stage's access logs: JSON lines to the log group (IAccessLogSettings)."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT)
