"""An AWS account in moto for the dispatcher state machine: the tables, an ECS cluster and task
definition in the default VPC, the step Lambdas (running our handlers in-process), and the
state machine, created as infra/ synthesises them."""

import importlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.moto_api import state_manager

from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.ports import Stores
from jobsched.settings import Settings, get_settings
from tests.support.moto_lock import atomic_moto_requests
from tests.support.sfn_shim import WORKER_CONTAINER, patched_interpreter
from tests.support.stack import Refs, Synthesised, synthesised
from tests.support.waiting import BOUND_SECONDS

REGION = "us-east-1"
ACCOUNT = "123456789012"
# What create_table takes under the same names as a template's AWS::DynamoDB::Table.
TABLE_REQUEST = (
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "Tags",
)
MOTO_CONFIG: Any = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesised(str(tmp_path_factory.mktemp("cdk")))


@dataclass
class World:
    settings: Settings
    stores: Stores
    sfn: Any
    ecs: Any
    state_machine_arn: str
    definition: dict[str, Any]

    def wait(self, execution_arn: str, timeout: float = BOUND_SECONDS) -> dict[str, Any]:
        """Poll until the execution ends (moto runs it in a background thread)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise AssertionError(f"{execution_arn} still running after {timeout} s")

    def executions(self) -> list[dict[str, Any]]:
        listed = self.sfn.list_executions(stateMachineArn=self.state_machine_arn)
        return list(listed["executions"])

    def wait_all(self, timeout: float = BOUND_SECONDS) -> list[dict[str, Any]]:
        """Every execution ended (hand-overs start new ones while older ones end)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.executions()
            if found and all(e["status"] != "RUNNING" for e in found):
                time.sleep(0.2)  # a hand-over's new execution may just be starting
                again = self.executions()
                if len(again) == len(found) and all(e["status"] != "RUNNING" for e in again):
                    return again
            time.sleep(0.05)
        raise AssertionError(f"executions still running after {timeout} s")


def _invoke_in_process(functions: dict[str, str]) -> Callable[..., bytes]:
    """moto's Lambda without docker echoes the payload; run our handler instead."""

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        handler_path = functions[function_name.rsplit(":", 1)[-1]]
        module_name, _, attribute = handler_path.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        try:
            result = handler(json.loads(body or "{}"), None)
        except Exception as exc:  # as Lambda reports an unhandled error
            response_headers["x-amz-function-error"] = "Unhandled"
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return json.dumps(error).encode()
        return json.dumps(result).encode()

    return invoke


def _lambdas(stack: Synthesised) -> tuple[Refs, dict[str, str]]:
    """Create the stack's functions in moto; their ARNs by logical id, handlers by name."""
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="lambda", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )["Role"]["Arn"]
    client = boto3.client("lambda", region_name=REGION)
    refs: Refs = {}
    handlers: dict[str, str] = {}
    for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
        handler = resource["Properties"]["Handler"]
        arn = client.create_function(
            FunctionName=logical_id,
            Runtime="python3.12",
            Role=role,
            Handler=handler,
            Code={"ZipFile": b"never run: moto's simple backend, patched"},
        )["FunctionArn"]
        refs[logical_id] = {"Ref": logical_id, "Arn": arn}
        handlers[logical_id] = handler
    return refs, handlers


def _execution_refs(stack: Synthesised) -> tuple[Refs, str, str]:
    """An ECS cluster and task definition, and the default VPC's subnets and security group,
    standing in for the stack's own."""
    ec2 = boto3.client("ec2", region_name=REGION)
    ecs = boto3.client("ecs", region_name=REGION)
    cluster = ecs.create_cluster(clusterName="jobsched")["cluster"]["clusterArn"]
    task_definition_id, resource = stack.one("AWS::ECS::TaskDefinition")
    # The state machine names the family (its latest revision runs), as CDK renders it.
    task_definition = ecs.register_task_definition(
        family=resource["Properties"]["Family"],
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="1024",
        memory="2048",
        # moto needs a container-level memory (a task-level one alone crashes it).
        containerDefinitions=[{"name": WORKER_CONTAINER, "image": "worker", "memory": 2048}],
    )["taskDefinition"]["taskDefinitionArn"]
    subnets = iter(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"])
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    refs: Refs = {}
    for logical_id in stack.of_type("AWS::EC2::Subnet"):
        refs[logical_id] = {"Ref": next(subnets)}
    for logical_id in stack.of_type("AWS::EC2::SecurityGroup"):
        refs[logical_id] = {"Ref": group, "GroupId": group}
    cluster_id, _ = stack.one("AWS::ECS::Cluster")
    refs[cluster_id] = {"Ref": "jobsched", "Arn": cluster}
    refs[task_definition_id] = {"Ref": task_definition}
    return refs, cluster, task_definition


def _step_variable(stack: Synthesised, name: str) -> str:
    """A literal setting the CDK app gives the dispatcher's step functions."""
    (value,) = {
        resource["Properties"]["Environment"]["Variables"][name]
        for resource in stack.of_type("AWS::Lambda::Function").values()
        if resource["Properties"]["Handler"].startswith("functions.dispatch.")
    }
    return str(value)


@pytest.fixture
def world(stack: Synthesised, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with moto_world(stack, monkeypatch) as made:
        yield made


@contextmanager
def moto_world(stack: Synthesised, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The world of the `world` fixture, for a benchmark too (bench/state_machine_cost.py)."""
    with mock_aws(config=MOTO_CONFIG), patched_interpreter():
        atomic_moto_requests(monkeypatch)  # the Map's iterations run in threads
        with dispatcher_world(stack, monkeypatch) as built:
            yield built


def _tables(stack: Synthesised) -> Refs:
    """The stack's tables, created as its template defines them; refs by logical id."""
    client = boto3.client("dynamodb", region_name=REGION)
    refs: Refs = {}
    for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
        properties = resource["Properties"]
        # The rest (encryption, point-in-time recovery, deletion protection) is the deployed
        # table's care, under other names in the API; an emulator keeps neither.
        request = {key: properties[key] for key in TABLE_REQUEST if key in properties}
        arn = client.create_table(**request)["TableDescription"]["TableArn"]
        if ttl := properties.get("TimeToLiveSpecification"):
            client.update_time_to_live(
                TableName=properties["TableName"], TimeToLiveSpecification=ttl
            )
        refs[logical_id] = {"Ref": properties["TableName"], "Arn": arn}
    return refs


@contextmanager
def dispatcher_world(stack: Synthesised, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The stack's tables, functions, ECS and state machine in the moto that boto3's default
    clients reach (mock_aws in this process, or a moto server through AWS_ENDPOINT_URL), with
    the interpreter patched (sfn_shim.py) and Lambda set not to use docker."""
    # Tasks stop at the first DescribeTasks: a run takes one poll of the .sync loop.
    state_manager.set_transition("ecs::task", {"progression": "immediate"})
    table_refs = _tables(stack)
    lambda_refs, handlers = _lambdas(stack)
    execution_refs, cluster, task_definition = _execution_refs(stack)
    pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    definition = stack.definition({**table_refs, **lambda_refs, **execution_refs}, pseudo)
    _, machine = stack.one("AWS::StepFunctions::StateMachine")
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name=machine["Properties"]["StateMachineName"],
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/dispatcher",
    )["stateMachineArn"]

    # What the CDK app sets on the functions, pointed at the moto resources.
    environment = {
        "JOBSCHED_TABLE_PREFIX": _step_variable(stack, "JOBSCHED_TABLE_PREFIX"),
        "JOBSCHED_STATE_MACHINE_ARN": arn,
        "JOBSCHED_CLUSTER": cluster,
        "JOBSCHED_TASK_DEFINITION": task_definition,
        "JOBSCHED_ARTIFACTS_BUCKET": "artifacts",
        "JOBSCHED_LOG_GROUP": "worker-logs",
        "JOBSCHED_GROUP_WIDTH": _step_variable(stack, "JOBSCHED_GROUP_WIDTH"),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    from functions import dispatch, sweeper

    dispatch.steps.cache_clear()
    sweeper.dispatcher.cache_clear()
    settings = get_settings()
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", _invoke_in_process(handlers))
    try:
        yield World(
            settings=settings,
            stores=build_stores(settings, Dynamo(settings)),
            sfn=sfn,
            ecs=boto3.client("ecs", region_name=REGION),
            state_machine_arn=arn,
            definition=definition,
        )
    finally:
        state_manager.unset_transition("ecs::task")
        get_settings.cache_clear()
        dispatch.steps.cache_clear()
        sweeper.dispatcher.cache_clear()


@pytest.fixture
def handler_settings(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The functions' settings from the environment, over the moto tables of `stores` (table
    prefix "test"); returns the environment so a test can add to it before the first call."""
    environment = {"JOBSCHED_TABLE_PREFIX": "test"}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    from functions import dispatch, sweeper

    def reset() -> None:
        get_settings.cache_clear()
        dispatch.steps.cache_clear()
        sweeper.dispatcher.cache_clear()

    reset()
    yield environment
    reset()
