"""The synthesised stack, read for the moto tests: the state machine's definition with its
references (Fn::Join, Ref, Fn::GetAtt) resolved to resources created in moto."""

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

Refs = dict[str, dict[str, str]]  # logical id -> {"Ref": ..., "Arn": ..., "GroupId": ...}


@dataclass(frozen=True)
class Synthesised:
    resources: dict[str, Any]

    def of_type(self, resource_type: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def one(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        (found,) = self.of_type(resource_type).items()
        return found

    def definition(self, refs: Refs, pseudo: dict[str, str]) -> dict[str, Any]:
        _, machine = self.one("AWS::StepFunctions::StateMachine")
        text = resolve(machine["Properties"]["DefinitionString"], refs, pseudo)
        parsed: dict[str, Any] = json.loads(text)
        return parsed


@cache
def synthesised(outdir: str) -> Synthesised:
    from infra.build import build_app

    app, stack = build_app(outdir=outdir)
    template = app.synth().get_stack_artifact(stack.artifact_id).template
    return Synthesised(template["Resources"])


def resolve(node: Any, refs: Refs, pseudo: dict[str, str]) -> Any:
    """Evaluate the intrinsic functions CDK puts in a state machine definition."""
    if isinstance(node, list):
        return [resolve(item, refs, pseudo) for item in node]
    if not isinstance(node, dict):
        return node
    if "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(str(resolve(part, refs, pseudo)) for part in parts)
    if "Ref" in node:
        name = node["Ref"]
        return pseudo[name] if name.startswith("AWS::") else refs[name]["Ref"]
    if "Fn::GetAtt" in node:
        logical_id, attribute = node["Fn::GetAtt"]
        return refs[logical_id][attribute]
    return {key: resolve(value, refs, pseudo) for key, value in node.items()}
