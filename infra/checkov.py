"""Acknowledging checkov findings: one check id, one reason, in the resource's template metadata
(`Metadata: checkov: skip: [{id, comment}]`, which checkov reads), as cdk-nag's are
acknowledged in infra/nag.py. Only for findings that do not apply; the others are fixed."""

from typing import Any, Final

from aws_cdk import CfnResource, IAspect
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import IConstruct
from jsii import implements

CONCURRENCY: Final = "CKV_AWS_115"  # a function without reserved concurrency
DEAD_LETTER_QUEUE: Final = "CKV_AWS_116"  # a function without DeadLetterConfig
VPC: Final = "CKV_AWS_117"  # a function outside a VPC
ENVIRONMENT_KEY: Final = "CKV_AWS_173"  # environment variables without a customer KMS key
LOG_GROUP_KEY: Final = "CKV_AWS_158"  # a log group without a customer KMS key
TABLE_KEY: Final = "CKV_AWS_119"  # a table without a customer KMS key

NO_VPC = (
    "calls AWS APIs only and reaches nothing inside a VPC; in one it would need a NAT gateway "
    "or interface endpoints to reach them"
)
PLAIN_ENVIRONMENT = (
    "the variables are table names, ARNs and settings, no secrets (the webhook key is read "
    "from Secrets Manager); Lambda encrypts them at rest with its service key"
)
SYNCHRONOUS = (
    "invoked synchronously (Step Functions, API Gateway, the deploy trigger): the caller gets "
    "the error, and a dead-letter queue only serves asynchronous invocations"
)
ON_FAILURE_DESTINATION = (
    "failed asynchronous invocations go to its on-failure destination (an SQS queue with an "
    "alarm), which supersedes a dead-letter queue"
)
SCHEDULED_WITHOUT_RETRY = (
    "invoked by its schedule with no retries: the next run, minutes away, does the same work"
)
CDK_PROVIDER = (
    "CDK's trigger provider: runs once per deploy, invoked synchronously by CloudFormation"
)


def skip(resource: CfnResource, check_id: str, reason: str) -> None:
    """Acknowledge `check_id` on `resource` with `reason` (replacing an earlier reason)."""
    metadata: dict[str, Any] = resource.get_metadata("checkov") or {}
    skips = [entry for entry in metadata.get("skip", []) if entry["id"] != check_id]
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check_id, "comment": reason}]})


@implements(IAspect)
class Acknowledgments:
    """The findings that do not apply to any resource of their kind: every function's VPC, our
    functions' environment key, CDK's own function's concurrency and queue, log groups' and
    tables' keys. Our functions' own acknowledgments are made where they are built
    (infra/functions.py)."""

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource):
            return
        if node.cfn_resource_type == "AWS::Lambda::Function":
            skip(node, VPC, NO_VPC)
            if isinstance(node, lambda_.CfnFunction):  # ours (CDK's provider has no variables)
                skip(node, ENVIRONMENT_KEY, PLAIN_ENVIRONMENT)
            else:  # CDK's trigger provider, not one of ours
                skip(node, CONCURRENCY, CDK_PROVIDER)
                skip(node, DEAD_LETTER_QUEUE, CDK_PROVIDER)
        elif isinstance(node, logs.CfnLogGroup):
            skip(
                node,
                LOG_GROUP_KEY,
                "CloudWatch Logs encrypts every log group at rest; the groups hold operational "
                "logs (the state machine logs no execution data), and IAM on the group guards "
                "them: a customer key would add only a key policy, at a dollar a month each",
            )
        elif isinstance(node, dynamodb.CfnTable):
            skip(
                node,
                TABLE_KEY,
                "encrypted at rest with the AWS managed key (aws/dynamodb); API keys are stored "
                "hashed, and IAM on each table guards the rest: a customer key would add only "
                "a key policy every reader must also be granted",
            )
