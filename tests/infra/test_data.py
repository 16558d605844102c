"""The data layer as synthesised: every table of TABLES, protected as its stage requires,
clean under cdk-nag (AwsSolutions) and cfn-lint."""

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match
from cfnlint.api import lint
from cfnlint.config import ManualArgs

from infra import constants
from infra.build import build_app, unreviewed_findings
from jobsched.adapters.dynamodb.tables import TABLES, TableSpec, create_table_request
from tests.support.synth import Synth as StackSynth

TABLE = "AWS::DynamoDB::Table"


class Synth(StackSynth):
    @property
    def tables(self) -> dict[str, Any]:
        """Table resources by entity."""
        by_name = {
            resource["Properties"]["TableName"]: resource
            for resource in self.template.find_resources(TABLE).values()
        }
        return {
            spec.entity: by_name[constants.table_name(self.stack.stage, spec.entity)]
            for spec in TABLES
        }


def _synth(tmp_dir: Path, context: dict[str, Any] | None = None) -> Synth:
    app, stack = build_app(context, outdir=str(tmp_dir))
    # Raises if cdk-nag reports anything, so every test below also runs on a clean stack.
    return Synth.of(app, stack)


# Synthesis is the slow part (first one about 4 s: the jsii Node kernel starts), so once each.
@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(tmp_path_factory.mktemp("dev"))  # no context: cdk.json's defaults


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(tmp_path_factory.mktemp("prod"), {constants.STAGE_CONTEXT_KEY: "prod"})


def _key_schema(partition: str, sort: str | None) -> list[dict[str, str]]:
    return [
        {"AttributeName": partition, "KeyType": "HASH"},
        *([{"AttributeName": sort, "KeyType": "RANGE"}] if sort else []),
    ]


def _indexes(properties: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        index["IndexName"]: (index["KeySchema"], index["Projection"])
        for index in properties.get(key, [])
    }


def test_default_stage_comes_from_cdk_json(dev: Synth) -> None:
    assert dev.stack.stage == "dev"
    assert dev.stack.stack_name == "jobsched-dev"


def test_one_table_per_spec_and_nothing_else(dev: Synth) -> None:
    names = {r["Properties"]["TableName"] for r in dev.template.find_resources(TABLE).values()}
    assert names == {constants.table_name("dev", spec.entity) for spec in TABLES}
    assert set(dev.stack.data.tables) == {spec.entity for spec in TABLES}
    assert dict(dev.stack.data.table_names) == {
        spec.entity: f"jobsched-dev-{spec.entity}" for spec in TABLES
    }


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.entity)
def test_keys_indexes_and_ttl_follow_the_spec(dev: Synth, spec: TableSpec) -> None:
    properties = dev.tables[spec.entity]["Properties"]
    everything = {"ProjectionType": "ALL"}

    assert properties["KeySchema"] == _key_schema(spec.partition, spec.sort)
    assert _indexes(properties, "GlobalSecondaryIndexes") == {
        index.name: (_key_schema(index.partition, index.sort), everything)
        for index in spec.global_indexes
    }
    assert _indexes(properties, "LocalSecondaryIndexes") == {
        index.name: (_key_schema(index.partition, index.sort), everything)
        for index in spec.local_indexes
    }
    assert {d["AttributeName"]: d["AttributeType"] for d in properties["AttributeDefinitions"]} == {
        name: "S" for name in spec.attributes()
    }
    if spec.ttl_attribute:
        assert properties["TimeToLiveSpecification"] == {
            "AttributeName": spec.ttl_attribute,
            "Enabled": True,
        }
    else:
        assert "TimeToLiveSpecification" not in properties


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.entity)
def test_same_tables_as_the_local_runtime(dev: Synth, spec: TableSpec) -> None:
    """The local runtime and the tests create tables with create_table_request: same shape."""
    properties = dev.tables[spec.entity]["Properties"]
    local = create_table_request(spec, properties["TableName"])

    def by_name(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
        return {item[key]: item for item in items}

    assert properties["BillingMode"] == local["BillingMode"]
    assert properties["KeySchema"] == local["KeySchema"]
    assert by_name(properties["AttributeDefinitions"], "AttributeName") == by_name(
        local["AttributeDefinitions"], "AttributeName"
    )
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        assert by_name(properties.get(key, []), "IndexName") == by_name(
            local.get(key, []), "IndexName"
        )


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_on_demand_recoverable_and_encrypted(stage: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(stage)
    synth.template.all_resources_properties(
        TABLE,
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            # SSE with the AWS-managed key (aws/dynamodb): enabled, no customer key given.
            "SSESpecification": Match.exact({"SSEEnabled": True}),
        },
    )


def test_prod_tables_are_retained_except_by_a_failed_first_create(prod: Synth) -> None:
    prod.template.all_resources(
        TABLE,
        {
            # Kept when the stack is deleted, a table is removed from it or replaced; deleted
            # only by the rollback of the deploy that created it, so a retry can create it.
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
            # Protection would make that rollback fail (DynamoDB refuses CloudFormation too).
            "Properties": {"DeletionProtectionEnabled": False},
        },
    )


def test_a_failed_first_deploy_of_prod_leaves_nothing_behind(prod: Synth) -> None:
    """Every resource a create rollback could leave is deleted by it: a retried first deploy
    finds none of its fixed names (tables, schedule group) taken."""
    policies = {
        logical_id: resource.get("DeletionPolicy", "Delete")
        for logical_id, resource in prod.template.to_json()["Resources"].items()
    }
    assert set(policies.values()) <= {"Delete", "RetainExceptOnCreate"}
    assert {policies[constants.table_logical_id(spec.entity)] for spec in TABLES} == {
        "RetainExceptOnCreate"
    }


def test_deletion_protection_is_a_choice_for_an_established_stage(tmp_path: Path) -> None:
    protected = _synth(tmp_path, {"stage": "prod", "table_deletion_protection": "true"})
    protected.template.all_resources_properties(TABLE, {"DeletionProtectionEnabled": True})
    assert protected.stack.config.table_deletion_protection


def test_dev_tables_are_disposable(dev: Synth) -> None:
    dev.template.all_resources(
        TABLE,
        {
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"DeletionProtectionEnabled": False},
        },
    )


def test_table_names_are_outputs_with_stable_ids(dev: Synth) -> None:
    outputs = dev.template.find_outputs("*")
    # Other constructs add outputs of their own (tests/infra/test_dispatcher.py).
    table_outputs = {name for name in outputs if name.endswith("TableName")}
    assert table_outputs == {constants.output_id(spec.entity) for spec in TABLES}
    for spec in TABLES:
        output = outputs[constants.output_id(spec.entity)]
        assert output["Value"] == {
            "Ref": dev.template.get_resource_id(
                TABLE, {"Properties": {"TableName": constants.table_name("dev", spec.entity)}}
            )
        }
    # Pinned table ids: a changed one would make CloudFormation replace a table.
    assert set(dev.template.find_resources(TABLE)) == {
        constants.table_logical_id(spec.entity) for spec in TABLES
    }
    # Literal pins: scripts and docs read these ids; renaming one is a breaking change.
    assert outputs["JobsTableName"]["Value"] == {"Ref": "JobsTable"}
    assert dev.tables["jobs"] == dev.template.to_json()["Resources"]["JobsTable"]


def test_settings_environment_names_each_table_and_the_shared_settings(dev: Synth) -> None:
    environment = dev.stack.data.settings_environment()
    assert {key: dev.stack.resolve(value) for key, value in environment.items()} == {
        **{
            constants.settings_env_var(spec.entity): {
                "Ref": constants.table_logical_id(spec.entity)
            }
            for spec in TABLES
        },
        "JOBSCHED_SLOTS": "1",  # cdk.json's defaults
        "JOBSCHED_RUN_RETENTION_DAYS": "365",
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cdk_nag_reports_nothing(stage: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(stage)
    report = json.loads((synth.assembly / "validation-report.json").read_text())
    violations = [r for plugin in report["pluginReports"] for r in plugin.get("violations", [])]
    assert violations == []


def test_cdk_nag_is_wired_in(tmp_path: Path) -> None:
    """Negative control: the same build fails on a bucket that accepts plain HTTP (an error)."""
    app, stack = build_app({constants.STAGE_CONTEXT_KEY: "nagtest"}, outdir=str(tmp_path))
    s3.Bucket(stack, "Insecure")
    with pytest.raises(RuntimeError, match="AwsSolutions-S10"):
        app.synth()


def test_cdk_nag_warnings_are_unreviewed_findings(tmp_path: Path) -> None:
    """Once a stack acknowledges any finding, CDK lets synthesis pass on warnings (a table
    without point-in-time recovery); `cdk synth` (infra/app.py) still fails on them."""
    app, stack = build_app({constants.STAGE_CONTEXT_KEY: "nagtest"}, outdir=str(tmp_path))
    dynamodb.Table(
        stack,
        "Unrecoverable",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
    )
    assembly = app.synth()
    assert unreviewed_findings(Path(assembly.directory)) == [
        "AwsSolutions-DDB3 jobsched-nagtest/Unrecoverable/Resource"
    ]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_passes(stage: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(stage)
    # W3005 (redundant DependsOn) is what CDK's generated templates raise; nothing else is.
    matches = lint(
        json.dumps(synth.template.to_json()),
        config=ManualArgs(ignore_checks=["W3005"], regions=["us-east-1"]),
    )
    assert [str(match) for match in matches] == []


def test_a_local_index_must_share_the_partition_key(tmp_path: Path) -> None:
    from aws_cdk import App, Stack

    from infra.constructs import Data
    from jobsched.adapters.dynamodb.tables import Index

    bad = TableSpec(
        entity="bad", partition="pk", sort="sk", local_indexes=(Index("by_x", "other", "x"),)
    )
    with pytest.raises(ValueError, match="local index"):
        Data(Stack(App(outdir=str(tmp_path)), "s"), "Data", stage="dev", specs=(bad,))
