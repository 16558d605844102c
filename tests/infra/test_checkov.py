"""checkov's findings on the template are fixed, or acknowledged with a reason in the metadata
checkov reads (`Metadata: checkov: skip: [{id, comment}]`). checkov itself is not a dependency:
each check below is what checkov's CloudFormation check of that id inspects."""

from collections.abc import Callable
from typing import Any

import pytest

from infra import checkov
from tests.support.synth import Synth, synthesise

Resource = dict[str, Any]


def _properties(resource: Resource) -> dict[str, Any]:
    properties: dict[str, Any] = resource.get("Properties", {})
    return properties


def _environment_without_key(resource: Resource) -> bool:
    properties = _properties(resource)
    return bool(properties.get("Environment", {}).get("Variables")) and not properties.get(
        "KmsKeyArn"
    )


def _table_without_customer_key(resource: Resource) -> bool:
    sse = _properties(resource).get("SSESpecification") or {}
    return not (sse.get("SSEEnabled") and sse.get("KMSMasterKeyId") is not None)


# check id -> (resource type, whether a resource fails it)
CHECKS: dict[str, tuple[str, Callable[[Resource], bool]]] = {
    checkov.CONCURRENCY: (
        "AWS::Lambda::Function",
        lambda r: "ReservedConcurrentExecutions" not in _properties(r),
    ),
    checkov.DEAD_LETTER_QUEUE: (
        "AWS::Lambda::Function",
        lambda r: not _properties(r).get("DeadLetterConfig", {}).get("TargetArn"),
    ),
    checkov.VPC: ("AWS::Lambda::Function", lambda r: "VpcConfig" not in _properties(r)),
    checkov.ENVIRONMENT_KEY: ("AWS::Lambda::Function", _environment_without_key),
    checkov.LOG_GROUP_KEY: ("AWS::Logs::LogGroup", lambda r: "KmsKeyId" not in _properties(r)),
    checkov.TABLE_KEY: ("AWS::DynamoDB::Table", _table_without_customer_key),
}


def skips(resource: Resource) -> dict[str, str]:
    entries = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    assert len({entry["id"] for entry in entries}) == len(entries), "one entry per check"
    return {entry["id"]: entry["comment"] for entry in entries}


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise(tmp_path_factory.mktemp("checkov"), {"stage": "prod"})


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_each_finding_is_fixed_or_acknowledged_with_a_reason(prod: Synth, check_id: str) -> None:
    resource_type, fails = CHECKS[check_id]
    resources = prod.resources(resource_type)
    assert resources
    for logical_id, resource in resources.items():
        if fails(resource):
            assert len(skips(resource).get(check_id, "")) > 20, f"{logical_id}: {check_id}"


def test_concurrency_is_fixed_on_every_function_of_ours(prod: Synth) -> None:
    """CKV_AWS_115 is acknowledged only for CDK's trigger provider; ours all reserve."""
    unreserved = {
        logical_id
        for logical_id, resource in prod.resources("AWS::Lambda::Function").items()
        if checkov.CONCURRENCY in skips(resource)
    }
    (provider,) = unreserved
    assert provider.startswith("AWSCDKTrigger")


def test_a_dead_letter_queue_is_acknowledged_for_the_reason_that_holds(prod: Synth) -> None:
    reasons = {
        resource["Properties"]["Handler"]: skips(resource)[checkov.DEAD_LETTER_QUEUE]
        for resource in prod.resources("AWS::Lambda::Function").values()
    }
    assert reasons["functions.schedule_fire.handler"] == checkov.ON_FAILURE_DESTINATION
    assert reasons["functions.webhook.handler"] == checkov.ON_FAILURE_DESTINATION
    assert reasons["functions.sweeper.handler"] == checkov.SCHEDULED_WITHOUT_RETRY
    assert reasons["functions.schedule_repair.handler"] == checkov.SCHEDULED_WITHOUT_RETRY
    assert reasons["functions.dispatch.claim"] == checkov.SYNCHRONOUS
    assert reasons["api.handler.handler"] == checkov.SYNCHRONOUS


def test_nothing_is_acknowledged_that_passes(prod: Synth) -> None:
    """A skip for a check the resource passes would hide a later regression of nothing."""
    for logical_id, resource in prod.json["Resources"].items():
        for check_id in skips(resource):
            resource_type, fails = CHECKS[check_id]
            assert resource["Type"] == resource_type, (logical_id, check_id)
            assert fails(resource), (logical_id, check_id)
