"""Group webhooks on AWS: the Lambda that sends an ended group's `group.finished`, the signing
key it reads from Secrets Manager, and the dead-letter queue of events it could not handle.

The dispatch Lambdas end groups; `notify_from` lets them invoke this function asynchronously
(jobsched.adapters.aws.notifier.LambdaNotifier). The function claims each group's notification
before sending, so a group is notified at most once (docs/decisions.md, "Webhooks").
"""

from collections.abc import Iterable, Mapping

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import constants, nag
from infra.config import Concurrency
from infra.constructs.execution import removal_policy
from infra.constructs.queues import dead_letter_alarm, dead_letter_queue
from infra.functions import project_function
from jobsched import constants as c

WEBHOOK_HANDLER = "functions.webhook.handler"
FUNCTION_ENV_VAR = "JOBSCHED_WEBHOOK_FUNCTION"  # Settings.webhook_function of the invokers
# What send_group_webhook does to the groups table: read the group, claim its notification.
GROUP_ACTIONS = ("dynamodb:GetItem", "dynamodb:UpdateItem")
# The slowest delivery the sender allows: every attempt timing out, the longest wait between
# them (a receiver's Retry-After is capped there). The function's timeout leaves room above it.
SLOWEST_DELIVERY_SECONDS = (
    c.WEBHOOK_ATTEMPTS * c.WEBHOOK_TIMEOUT_SECONDS
    + (c.WEBHOOK_ATTEMPTS - 1) * c.WEBHOOK_MAX_BACKOFF_SECONDS
)
FUNCTION_TIMEOUT = Duration.minutes(5)
# Lambda keeps an event it cannot run yet (throttling) this long, its maximum: a late webhook
# beats a lost one. Expired events go to the dead-letter queue too.
MAX_EVENT_AGE = Duration.hours(6)
DLQ_RETENTION_DAYS = 14  # SQS's maximum
SECRET_LENGTH = 64


class Webhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tables: Mapping[str, dynamodb.ITable],
        table_environment: Mapping[str, str],
        concurrency: Concurrency = Concurrency(),
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="jobsched: the HMAC key of group webhook signatures (receivers verify "
            "X-Jobsched-Signature with it)",
            # A plain string: the value is the key, as JOBSCHED_WEBHOOK_SECRET would hold it.
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=SECRET_LENGTH, exclude_punctuation=True
            ),
            removal_policy=removal_policy(stage),
        )
        nag.acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "receivers hold this key to verify signatures; a new key must reach them first, so "
            "rotation is a coordinated manual step, not a schedule",
        )
        self.dead_letter_queue = dead_letter_queue(
            self,
            stage=stage,
            retention_days=DLQ_RETENTION_DAYS,
            holds="the webhook Lambda's asynchronous invocations",
        )
        role = self._role(tables["groups"])
        self.function = project_function(
            self,
            "Webhook",
            handler=WEBHOOK_HANDLER,
            role=role,
            timeout=FUNCTION_TIMEOUT,
            environment={
                **table_environment,
                "JOBSCHED_TABLE_PREFIX": constants.table_prefix(stage),
                "JOBSCHED_WEBHOOK_SECRET_ARN": self.secret.secret_arn,
            },
            stage=stage,
            description=f"jobsched webhooks: {WEBHOOK_HANDLER}",
            # The sender retries with backoff itself, and a Lambda retry after the claim could
            # send nothing: no retries. An event that raised before its claim (the group could
            # not be read) waits in the queue, to be redriven.
            retry_attempts=0,
            max_event_age=MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
            reserved_concurrency=concurrency.reserved("webhook"),
        )
        self.dead_letter_alarm = dead_letter_alarm(
            self,
            self.dead_letter_queue,
            description="jobsched: group webhooks that could not be handled wait in the "
            "webhooks' dead-letter queue",
        )

    def _role(self, groups: dynamodb.ITable) -> iam.Role:
        """Read a group and claim its notification (no index, no other table), read the key."""
        role = iam.Role(
            self,
            "WebhookRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="jobsched group webhook",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(GROUP_ACTIONS), resources=[groups.table_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[self.secret.secret_arn]
            )
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource("*"),
            nag.XRAY_TAKES_NO_RESOURCE,
        )
        return role

    def notify_from(self, functions: Iterable[lambda_.Function]) -> None:
        """Let these functions (those that end groups) invoke the webhook function: its name in
        their environment, lambda:InvokeFunction on it (unqualified: $LATEST) for their roles."""
        roles: dict[str, iam.IRole] = {}
        for function in functions:
            function.add_environment(FUNCTION_ENV_VAR, self.function.function_name)
            role = function.role
            assert role is not None, f"{function.node.path} has no role"
            roles.setdefault(role.node.path, role)
        for role in roles.values():
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[self.function.function_arn]
                )
            )
