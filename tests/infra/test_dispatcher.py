"""The dispatcher and execution constructs as synthesised: the state machine's shape (claim,
runTask.sync with a Catch, the Map over a group, the hand-over), least-privilege IAM, the
worker's task definition and bucket, and the sweeper's schedule.

The same definition is executed under moto in tests/integration/aws/test_state_machine.py.
"""

import importlib
import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra import constants
from infra.build import build_app
from infra.config import DeployConfig
from infra.constructs.dispatch_flow import HAND_OVER_ERRORS, RETRIED_ERRORS
from jobsched.adapters.aws.ecs import PLACEMENT_ERRORS
from jobsched.adapters.aws.overrides import WORKER_ENVIRONMENT
from jobsched.settings import Settings
from tests.support.dockerfile import Dockerfile
from tests.support.synth import Synth as StackSynth
from tests.support.synth import actions_of, as_text, with_action

SYNC_RUN_TASK = "arn:<AWS::Partition>:states:::ecs:runTask.sync"


class Synth(StackSynth):
    def definition(self) -> dict[str, Any]:
        """The state machine's ASL, references shown as `<LogicalId>` / `<LogicalId.Attr>`."""
        (machine,) = self.resources("AWS::StepFunctions::StateMachine").values()
        parsed: dict[str, Any] = json.loads(as_text(machine["Properties"]["DefinitionString"]))
        return parsed


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    app, stack = build_app(outdir=str(tmp_path_factory.mktemp("dispatcher")))
    return Synth.of(app, stack)


# --- the state machine ------------------------------------------------------------------------


def test_a_standard_state_machine_with_logging_and_tracing(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineName": constants.state_machine_name("dev"),
            "StateMachineType": "STANDARD",
            "LoggingConfiguration": {"Level": "ALL", "IncludeExecutionData": False},
            "TracingConfiguration": {"Enabled": True},
        },
    )


def test_claim_then_route_by_kind(synth: Synth) -> None:
    states = synth.definition()["States"]
    assert synth.definition()["StartAt"] == "Resume"
    assert states["Resume"]["Default"] == "Claim"  # a hand-over's input carries a claim
    assert states["Claim"]["Next"] == "Route"
    routes = {
        json.dumps(choice, sort_keys=True): choice["Next"] for choice in states["Route"]["Choices"]
    }
    assert sorted(routes.values()) == ["RunGroup", "RunTask"]
    assert states["Route"]["Default"] == "Idle"
    assert states["Idle"]["Type"] == "Succeed"


def test_the_unit_runs_as_a_sync_fargate_task_with_a_catch(synth: Synth) -> None:
    run_task = synth.definition()["States"]["RunTask"]
    assert run_task["Resource"] == SYNC_RUN_TASK
    assert run_task["TimeoutSecondsPath"] == "$.task.timeout_seconds"
    assert run_task["ResultPath"] == "$.result"
    assert run_task["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Finish"}
    ]
    assert run_task["Next"] == "Finish"
    parameters = run_task["Parameters"]
    assert parameters["LaunchType"] == "FARGATE"
    assert parameters["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "ENABLED"
    overrides = parameters["Overrides"]
    assert (overrides["Cpu.$"], overrides["Memory.$"]) == ("$.task.cpu", "$.task.memory")
    (container,) = overrides["ContainerOverrides"]
    assert container["Name"] == "worker"
    assert container["Environment"] == [
        {"Name": name, "Value.$": f"$.task.environment.{name}"} for name in WORKER_ENVIRONMENT
    ]


def test_finish_loops_until_idle_and_hands_over_at_the_bound(synth: Synth) -> None:
    states = synth.definition()["States"]
    assert states["Finish"]["Next"] == "Next"
    following = states["Next"]
    assert {"Variable": "$.kind", "StringEquals": "idle", "Next": "Done"} in following["Choices"]
    assert {
        "Variable": "$.loops",
        "NumericGreaterThanEquals": constants.DISPATCH_LOOPS_PER_EXECUTION,
        "Next": "HandOver",
    } in following["Choices"]
    assert following["Default"] == "Route"
    hand_over = states["HandOver"]
    assert hand_over["Resource"] == "arn:<AWS::Partition>:states:::states:startExecution"
    assert hand_over["Parameters"]["StateMachineArn.$"] == "$$.StateMachine.Id"
    assert hand_over["Parameters"]["Input"]["loops"] == 0
    assert hand_over["Parameters"]["Input"]["claim.$"] == "$.claim"
    assert hand_over["Next"] == "HandedOver"


def test_a_parallel_group_is_a_map_over_its_jobs(synth: Synth) -> None:
    group = synth.definition()["States"]["RunGroup"]
    assert group["Type"] == "Map"
    assert group["ItemsPath"] == "$.claim.group.job_ids"
    assert group["MaxConcurrencyPath"] == "$.task.max_parallel"
    # An iteration gets the group claim's keys, not the claim with the group's job ids.
    assert group["ItemSelector"] == {
        "group_claim": {
            "slot.$": "$.claim.slot",
            "kind.$": "$.claim.kind",
            "unit_id.$": "$.claim.unit_id",
            "holder.$": "$.claim.holder",
            "lease_until.$": "$.claim.lease_until",
        },
        "job_id.$": "$$.Map.Item.Value",
    }
    assert group["ResultPath"] is None  # the group's claim goes on to Finish
    assert group["Next"] == "Finish"
    processor = group["ItemProcessor"]
    assert processor["StartAt"] == "ClaimGroupJob"
    inner = processor["States"]
    assert inner["RunGroupTask"]["Resource"] == SYNC_RUN_TASK
    assert inner["RunGroupTask"]["Catch"][0]["Next"] == "FinishGroupJob"
    # The iteration's output is FinishGroupJob's answer (`{}`), not the state it was given.
    assert inner["FinishGroupJob"]["OutputPath"] == "$.Payload"
    assert "ResultPath" not in inner["FinishGroupJob"]
    assert inner["FinishGroupJob"]["End"] is True


def test_a_groups_map_is_no_wider_than_the_step_functions_can_serve(synth: Synth) -> None:
    """The claim step caps `task.max_parallel` at JOBSCHED_GROUP_WIDTH (map_width): the step
    functions' concurrency shared among the slots."""
    width = constants.DISPATCH_STEP_CONCURRENCY // DeployConfig().slots
    for handler in ("claim", "finish"):
        (function,) = [
            f
            for f in synth.resources("AWS::Lambda::Function").values()
            if f["Properties"]["Handler"] == f"functions.dispatch.{handler}"
        ]
        assert function["Properties"]["Environment"]["Variables"]["JOBSCHED_GROUP_WIDTH"] == str(
            width
        )


def _retriers(state: dict[str, Any], error: str) -> list[dict[str, Any]]:
    return [r for r in state.get("Retry", []) if error in r["ErrorEquals"]]


def _jittered(policy: constants.Backoff, errors: list[str]) -> dict[str, Any]:
    return {
        "ErrorEquals": errors,
        "IntervalSeconds": policy.interval_seconds,
        "BackoffRate": policy.rate,
        "MaxDelaySeconds": policy.max_delay_seconds,
        "MaxAttempts": policy.retries,
        "JitterStrategy": "FULL",
    }


def test_run_task_retries_what_ecs_could_not_place_and_only_that(synth: Synth) -> None:
    states = synth.definition()["States"]
    inner = states["RunGroup"]["ItemProcessor"]["States"]
    for run_task in (states["RunTask"], inner["RunGroupTask"]):
        assert run_task["Retry"] == [_jittered(constants.RUN_TASK_RETRY, list(PLACEMENT_ERRORS))]
        # A task that ran and failed (or timed out) is the job's failure: its retry policy's.
        for error in ("States.ALL", "States.TaskFailed", "States.Timeout"):
            assert not _retriers(run_task, error)
        # Only what Finish reads of the stopped task, not its whole description.
        assert run_task["ResultSelector"] == {
            "TaskArn.$": "$.TaskArn",
            "Containers.$": "$.Containers",
        }


def test_placement_retries_end_well_inside_the_startup_lease() -> None:
    """The sweeper takes a unit whose lease ran out: retries (and then the image pull) must end
    long before the claim's startup lease does."""
    worst = sum(constants.RUN_TASK_RETRY.waits())
    assert worst == 275
    assert worst < Settings().startup_lease_seconds / 2


def test_a_hand_over_is_retried_when_throttled_and_else_the_execution_carries_on(
    synth: Synth,
) -> None:
    hand_over = synth.definition()["States"]["HandOver"]
    assert hand_over["Retry"] == [_jittered(constants.HAND_OVER_RETRY, HAND_OVER_ERRORS)]
    assert hand_over["Catch"] == [
        {"ErrorEquals": ["StepFunctions.ExecutionAlreadyExistsException"], "Next": "HandedOver"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Route"},
    ]


def test_steps_call_our_handlers_and_retry_a_busy_store(synth: Synth) -> None:
    states = synth.definition()["States"]
    functions = {
        logical_id: resource["Properties"]["Handler"]
        for logical_id, resource in synth.resources("AWS::Lambda::Function").items()
        # ours: CDK's own providers (the seed trigger's) run on Node.js
        if resource["Properties"].get("Runtime", "").startswith("python")
    }
    for state, handler in (("Claim", "claim"), ("Finish", "finish")):
        function = states[state]["Parameters"]["FunctionName"]
        assert (
            functions[function.strip("<>").removesuffix(".Arn")] == f"functions.dispatch.{handler}"
        )
        (throttled,) = _retriers(states[state], "Lambda.TooManyRequestsException")
        assert throttled == _jittered(constants.STEP_RETRY, RETRIED_ERRORS)
    for handler in functions.values():
        module, _, name = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))


# --- IAM --------------------------------------------------------------------------------------


def test_step_lambdas_reach_only_their_tables_and_the_clusters_tasks(synth: Synth) -> None:
    statements = synth.statements_of_roles_starting_with("DispatcherStepRole")
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in actions_of(s))]
    resources = json.dumps([s["Resource"] for s in dynamodb])
    for entity in ("jobs", "runs", "groups", "lock", "templates", "schedules"):
        assert constants.table_logical_id(entity) in resources
    assert constants.table_logical_id("keys") not in resources
    assert all("dynamodb:Scan" not in actions_of(s) for s in dynamodb)
    # Templates and schedules are only read by id: their budgets hold the claim.
    (read,) = [s for s in dynamodb if "TemplatesTable" in json.dumps(s["Resource"])]
    assert "SchedulesTable" in json.dumps(read["Resource"])
    assert actions_of(read) == {"dynamodb:GetItem"}
    # Indexing a finished unit's outputs: its files in the bucket, the content table's items.
    (content,) = [s for s in dynamodb if "ContentTable" in json.dumps(s["Resource"])]
    assert actions_of(content) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}
    (read_outputs,) = with_action(statements, "s3:GetObject")
    assert actions_of(read_outputs) == {"s3:GetObject"}
    assert json.dumps(read_outputs["Resource"]).endswith('/runs/*"]]}')
    (list_tasks,) = with_action(statements, "ecs:ListTasks")
    cluster = synth.logical_id("AWS::ECS::Cluster", "ExecutionCluster")
    assert list_tasks["Condition"] == {
        "ArnEquals": {"ecs:cluster": {"Fn::GetAtt": [cluster, "Arn"]}}
    }
    (stop,) = with_action(statements, "ecs:StopTask")
    assert ":task/" in json.dumps(stop["Resource"])
    # a finish that frees a concurrency key kicks the dispatcher: this state machine only
    (kick,) = with_action(statements, "states:StartExecution")
    assert actions_of(kick) == {"states:StartExecution"}
    assert json.dumps(kick["Resource"]).endswith(
        f':stateMachine:{constants.state_machine_name("dev")}"]]}}'
    )


def test_the_state_machine_runs_the_worker_and_restarts_only_itself(synth: Synth) -> None:
    statements = synth.statements_of_roles_starting_with("DispatcherStateMachineRole")
    task_definition = synth.logical_id("AWS::ECS::TaskDefinition", "ExecutionWorker")
    (run_task,) = with_action(statements, "ecs:RunTask")
    assert task_definition in json.dumps(run_task["Resource"])
    (pass_role,) = with_action(statements, "iam:PassRole")
    assert {r["Fn::GetAtt"][0] for r in pass_role["Resource"]} == {
        synth.logical_id("AWS::IAM::Role", "ExecutionWorkerTaskRole"),
        synth.logical_id("AWS::IAM::Role", "ExecutionWorkerExecutionRole"),
    }
    (start,) = with_action(statements, "states:StartExecution")
    assert json.dumps(start["Resource"]).endswith(
        f':stateMachine:{constants.state_machine_name("dev")}"]]}}'
    )
    invoked = {
        r["Fn::GetAtt"][0]
        for s in with_action(statements, "lambda:InvokeFunction")
        for r in s["Resource"]
        if "Fn::GetAtt" in r
    }
    assert len(invoked) == 4
    assert all(i.startswith("Dispatcher") for i in invoked)


def test_the_worker_writes_only_run_outputs_and_its_heartbeat(synth: Synth) -> None:
    statements = synth.statements_of_roles_starting_with("ExecutionWorkerTaskRole")
    assert sorted(sorted(actions_of(s)) for s in statements) == [
        ["dynamodb:UpdateItem"],
        ["s3:AbortMultipartUpload", "s3:PutObject"],
    ]
    (s3,) = with_action(statements, "s3:PutObject")
    assert s3["Resource"]["Fn::Join"][1][-1] == "/runs/*/*"
    (heartbeat,) = with_action(statements, "dynamodb:UpdateItem")
    assert {r["Fn::GetAtt"][0] for r in heartbeat["Resource"]} == {"RunsTable", "LockTable"}


def test_the_sweeper_may_kick_the_dispatcher(synth: Synth) -> None:
    (start,) = with_action(
        synth.statements_of_roles_starting_with("DispatcherSweeperRole"), "states:StartExecution"
    )
    assert constants.state_machine_name("dev") in json.dumps(start["Resource"])


# --- where tasks run --------------------------------------------------------------------------


def test_the_sweeper_runs_every_minute(synth: Synth) -> None:
    sweeper = synth.logical_id("AWS::Lambda::Function", "DispatcherSweeperFunction")
    synth.template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "State": "ENABLED",
            "Target": {
                "Arn": {"Fn::GetAtt": [sweeper, "Arn"]},
                "RetryPolicy": {"MaximumRetryAttempts": 0},
            },
        },
    )
    assert synth.resources("AWS::Lambda::Function")[sweeper]["Properties"]["Handler"] == (
        "functions.sweeper.handler"
    )
    role = synth.resource("AWS::IAM::Role", "DispatcherSweepScheduleRole")
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_no_nat_gateway_and_public_subnets(synth: Synth) -> None:
    synth.template.resource_count_is("AWS::EC2::NatGateway", 0)
    subnets = synth.resources("AWS::EC2::Subnet").values()
    assert subnets
    assert all(s["Properties"]["MapPublicIpOnLaunch"] for s in subnets)
    endpoints = {
        json.dumps(e["Properties"]["ServiceName"])
        for e in synth.resources("AWS::EC2::VPCEndpoint").values()
    }
    assert any("dynamodb" in e for e in endpoints)
    assert any("s3" in e for e in endpoints)


def test_the_worker_task_definition(synth: Synth) -> None:
    (task_definition,) = synth.resources("AWS::ECS::TaskDefinition").values()
    (container,) = task_definition["Properties"]["ContainerDefinitions"]
    assert container["Name"] == "worker"
    assert container["ReadonlyRootFilesystem"] is True
    # Only what every task shares; the unit's own environment comes per task, in the overrides
    # (ECS merges the two).
    assert container["Environment"] == [{"Name": "JOBSCHED_MODEL_PROVIDER", "Value": "offline"}]
    options = container["LogConfiguration"]["Options"]
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert options["awslogs-stream-prefix"] == "job"
    assert task_definition["Properties"]["RequiresCompatibilities"] == ["FARGATE"]


def test_the_worker_can_write_only_the_volumes_its_image_declares(synth: Synth) -> None:
    # A Fargate bind mount is the image user's only at a path the image declares a VOLUME (and
    # prepares: tests/container/test_image_filesystem.py); any other writable mount would be
    # root-owned 0755, unwritable by the worker.
    (task_definition,) = synth.resources("AWS::ECS::TaskDefinition").values()
    (container,) = task_definition["Properties"]["ContainerDefinitions"]
    mounts = container["MountPoints"]

    assert container["ReadonlyRootFilesystem"] is True
    assert "User" not in container  # the image's USER, to whom its volumes belong
    assert {m["ContainerPath"] for m in mounts if not m["ReadOnly"]} == set(
        Dockerfile.read().volumes()
    )
    # Task storage only (no host path, EFS or docker volume), each volume mounted.
    volumes = task_definition["Properties"]["Volumes"]
    assert volumes == [{"Name": m["SourceVolume"]} for m in mounts]


def test_the_artifacts_bucket_is_private_encrypted_and_tls_only(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": Match.object_like({}),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    )
    (policy,) = synth.resources("AWS::S3::BucketPolicy").values()
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_run_outputs_tier_down_and_expire_with_the_run_history(synth: Synth) -> None:
    (bucket,) = synth.resources("AWS::S3::Bucket").values()
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    outputs = rules["RunOutputs"]
    assert outputs["Prefix"] == "runs/"
    assert outputs["Transitions"] == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}
    ]
    assert outputs["ExpirationInDays"] == 365  # cdk.json's history_retention_days
    assert rules["AbortIncompleteUploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }


def test_functions_get_the_settings_they_read(synth: Synth) -> None:
    # The dispatcher's own; the schedules' functions: tests/infra/test_schedules.py.
    functions = {
        logical_id: function
        for logical_id, function in synth.resources("AWS::Lambda::Function").items()
        if logical_id.startswith("Dispatcher")
    }
    assert len(functions) == 5  # four steps and the sweeper
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        for name in (
            "JOBSCHED_TABLE_PREFIX",
            "JOBSCHED_JOBS_TABLE",
            "JOBSCHED_STATE_MACHINE_ARN",
            "JOBSCHED_CLUSTER",
            "JOBSCHED_ARTIFACTS_BUCKET",
            "JOBSCHED_LOG_GROUP",
        ):
            assert name in variables
        assert function["Properties"]["LoggingConfig"]["LogFormat"] == "JSON"
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}


def test_lambda_code_holds_our_packages_and_their_dependencies_not_boto3(synth: Synth) -> None:
    (function,) = [
        f
        for f in synth.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "functions.dispatch.claim"
    ]
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    asset = synth.assembly / f"asset.{asset_hash}"
    names = {path.name for path in asset.iterdir()}
    assert {"jobsched", "functions", "api", "pydantic", "pydantic_core"} <= names
    assert not names & {"boto3", "botocore", "s3transfer", "tests", "infra", "container"}
    assert (asset / "functions" / "dispatch.py").is_file()
    assert not list(asset.glob("jobsched/**/__pycache__"))


def test_stack_outputs_name_the_dispatcher(synth: Synth) -> None:
    outputs = synth.template.find_outputs("*")
    assert {
        "DispatcherStateMachineArn",
        "ArtifactsBucketName",
        "TaskLogGroupName",
        "ClusterName",
        "TaskDefinitionArn",
    } <= set(outputs)
    cluster = synth.logical_id("AWS::ECS::Cluster", "ExecutionCluster")
    assert outputs["ClusterName"]["Value"] == {"Ref": cluster}
