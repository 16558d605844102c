"""The stack as the CDK tests read it: one synthesis (cdk-nag included) and lookups by resource
type and logical-id prefix, IAM statements by role, and references shown as text."""

from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from aws_cdk import App
from aws_cdk.assertions import Template

from infra import constants
from infra.build import build_app
from infra.stack import SchedulerStack


class Synth:
    """A synthesised stack: its construct tree, its template (as JSON and as an assertions
    Template) and the cloud assembly's directory (assets, the cdk-nag report)."""

    def __init__(self, stack: SchedulerStack, template: dict[str, Any], assembly: Path) -> None:
        self.stack = stack
        self.json = template
        self.template = Template.from_json(template)
        self.assembly = assembly

    @classmethod
    def of(cls, app: App, stack: SchedulerStack) -> Self:
        """Synthesise a built app; raises on a cdk-nag error."""
        assembly = app.synth()
        template = assembly.get_stack_artifact(stack.artifact_id).template
        return cls(stack, template, Path(assembly.directory))

    def resources(self, resource_type: str) -> dict[str, Any]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}

    def logical_id(self, resource_type: str, prefix: str) -> str:
        (found,) = [k for k in self.resources(resource_type) if k.startswith(prefix)]
        return found

    def resource(self, resource_type: str, prefix: str) -> dict[str, Any]:
        found: dict[str, Any] = self.json["Resources"][self.logical_id(resource_type, prefix)]
        return found

    def properties(self, resource_type: str, prefix: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resource(resource_type, prefix)["Properties"]
        return properties

    def variables(self, function_prefix: str) -> dict[str, Any]:
        """The environment of the one function whose logical id starts with the prefix."""
        function = self.properties("AWS::Lambda::Function", function_prefix)
        variables: dict[str, Any] = function["Environment"]["Variables"]
        return variables

    def statements(self, role_prefix: str) -> list[dict[str, Any]]:
        """The policy statements of the one role whose logical id starts with the prefix."""
        role = self.logical_id("AWS::IAM::Role", role_prefix)
        found = self._statements(lambda attached: attached == {"Ref": role})
        assert found, f"no policy for {role}"
        return found

    def statements_of_roles_starting_with(self, prefix: str) -> list[dict[str, Any]]:
        """The policy statements of every role whose logical id starts with the prefix, however
        many roles that is (`statements` wants exactly one)."""
        found = self._statements(lambda attached: attached["Ref"].startswith(prefix))
        assert found, f"no policy for {prefix}"
        return found

    def _statements(self, to_role: Callable[[Any], bool]) -> list[dict[str, Any]]:
        """The statements of every policy attached to a role `to_role` accepts."""
        return [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            for role in policy["Properties"]["Roles"]
            if to_role(role)
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]


def synthesise(tmp_dir: Path, context: dict[str, Any] | None = None) -> Synth:
    """The stack built with `context` over cdk.json's, synthesised into `tmp_dir`. Slow (the
    jsii kernel, asset packaging, cdk-nag): call it from a module-scoped fixture."""
    app, stack = build_app(context, outdir=str(tmp_dir))
    return Synth.of(app, stack)


def as_text(node: Any) -> Any:
    """A reference as `<LogicalId>` / `<LogicalId.Attr>`, a joined string as one string, a
    list item by item."""
    if isinstance(node, list):
        return [as_text(item) for item in node]
    if isinstance(node, str):
        return node
    if "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(as_text(part) for part in parts)
    if "Ref" in node:
        return f"<{node['Ref']}>"
    if "Fn::GetAtt" in node:
        return "<{}.{}>".format(*node["Fn::GetAtt"])
    raise AssertionError(f"unexpected {node}")


def table_arn(entity: str) -> str:
    """An entity's table ARN as `as_text` shows it."""
    return f"<{constants.table_logical_id(entity)}.Arn>"


def actions_of(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def resources_of(statement: dict[str, Any]) -> list[str]:
    resource = as_text(statement["Resource"])
    return resource if isinstance(resource, list) else [resource]


def grants(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Every action allowed, by the resource it is allowed on."""
    granted: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for resource in resources_of(statement):
            granted.setdefault(resource, set()).update(actions_of(statement))
    return granted


def with_action(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if action in actions_of(s)]
