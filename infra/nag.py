"""Acknowledging cdk-nag (AwsSolutions) findings: one finding id, one reason, on the construct
that raises it. Ids are exact (cdk-nag takes no wildcards), so those naming a resource are
built from its logical id here rather than copied from a synth's output."""

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct

# Why a traced function's role may have `Resource::*`: tracing grants these two on any resource.
XRAY_TAKES_NO_RESOURCE = "X-Ray's PutTraceSegments/PutTelemetryRecords take no resource"


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """`finding` as cdk-nag names it, e.g. `AwsSolutions-IAM5[Resource::*]`."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions::{finding}", reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of a construct's resource (its default child)."""
    resource = construct.node.default_child
    assert isinstance(resource, CfnResource), f"{construct.node.path} has no resource"
    stack = Stack.of(construct)
    resolved = stack.resolve(stack.get_logical_id(resource))
    assert isinstance(resolved, str)
    return resolved


def wildcard_resource(pattern: str) -> str:
    """The IAM5 finding of a resource with a wildcard; `<LogicalId.Arn>` or `<LogicalId>`
    stand for the references, as cdk-nag prints them."""
    return f"AwsSolutions-IAM5[Resource::{pattern}]"


def task_definition_family_pattern(task_definition_id: str) -> str:
    """How cdk-nag prints the `<family>:*` resource that EcsRunTask grants ecs:RunTask on: the
    task definition's ARN split into its parts by CloudFormation functions."""

    def part(index: int) -> str:
        return f'{{"Fn::Select":[{index},{{"Fn::Split":[":",{{"Ref":"{task_definition_id}"}}]}}]}}'

    def family_part(index: int) -> str:
        return f'{{"Fn::Select":[{index},{{"Fn::Split":["/",{part(5)}]}}]}}'

    return f"arn:{part(1)}:{part(2)}:{part(3)}:{part(4)}:{family_part(0)}/{family_part(1)}:*"
