"""The schedules construct as synthesised: the stage's schedule group, the fire Lambda and the
role EventBridge Scheduler invokes it with, the dead-letter queue and its alarm, the drift
repair on its five-minute schedule, and IAM scoped to the tables, indexes and group each needs.

cdk-nag and cfn-lint cover this construct in tests/infra/test_data.py (the whole stack).
"""

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from infra import constants
from infra.constructs import Data, Schedules
from infra.functions import LAMBDA_RUNTIME
from jobsched import constants as c
from jobsched.settings import Settings
from tests.support.synth import Synth, actions_of, as_text, resources_of, synthesise, table_arn

GROUP = "ScheduleGroup"  # the group's pinned logical id
GROUP_SCHEDULES = (
    "arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/<ScheduleGroup>/*"
)
SETTINGS_VARIABLES = {
    "JOBSCHED_SCHEDULE_GROUP",
    "JOBSCHED_SCHEDULE_TARGET_ARN",
    "JOBSCHED_SCHEDULE_ROLE_ARN",
    "JOBSCHED_SCHEDULE_DLQ_ARN",
}


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise(tmp_path_factory.mktemp("schedules"))


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise(tmp_path_factory.mktemp("prod"), {constants.STAGE_CONTEXT_KEY: "prod"})


def _access(statements: list[dict[str, Any]], service: str) -> dict[str, set[str]]:
    """Actions of one service by the resource they are allowed on."""
    granted: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = {a for a in actions_of(statement) if a.startswith(f"{service}:")}
        for resource in resources_of(statement) if actions else []:
            granted.setdefault(resource, set()).update(actions)
    return granted


# --- the group --------------------------------------------------------------------------------


def test_the_schedule_group_is_named_per_stage_with_a_pinned_id(synth: Synth) -> None:
    (group_id,) = synth.resources("AWS::Scheduler::ScheduleGroup")
    assert group_id == GROUP
    synth.template.has_resource(
        "AWS::Scheduler::ScheduleGroup",
        {
            "Properties": {"Name": constants.schedule_group_name("dev")},
            "DeletionPolicy": "Delete",  # a dev stack's schedules go with it
        },
    )
    assert constants.schedule_group_name("dev") == "jobsched-dev"


def test_prod_keeps_its_group_and_dead_letters(prod: Synth) -> None:
    prod.template.has_resource(
        "AWS::Scheduler::ScheduleGroup",
        {
            "Properties": {"Name": "jobsched-prod"},
            # Kept, unless the deploy that created it rolls back (a retry must create it again).
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
        },
    )
    prod.template.has_resource("AWS::SQS::Queue", {"DeletionPolicy": "RetainExceptOnCreate"})


# --- the fire function and the role that invokes it --------------------------------------------


def test_the_fire_function(synth: Synth) -> None:
    properties = synth.properties("AWS::Lambda::Function", "SchedulesFireFunction")
    assert properties["Handler"] == "functions.schedule_fire.handler"
    assert properties["Runtime"] == LAMBDA_RUNTIME.name
    assert properties["Architectures"] == ["arm64"]
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    assert properties["TracingConfig"] == {"Mode": "Active"}
    variables = properties["Environment"]["Variables"]
    assert variables["JOBSCHED_SCHEDULE_GROUP"] == {"Ref": GROUP}  # to delete a leftover
    assert as_text(variables["JOBSCHED_STATE_MACHINE_ARN"]).endswith(
        f":stateMachine:{constants.state_machine_name('dev')}"
    )
    assert variables["JOBSCHED_TABLE_PREFIX"] == constants.table_prefix("dev")
    assert variables["JOBSCHED_SCHEDULES_TABLE"] == {"Ref": "SchedulesTable"}
    # Not the target's own ARN (a cycle), nor what only a schedule writer needs.
    assert not (SETTINGS_VARIABLES - {"JOBSCHED_SCHEDULE_GROUP"}) & variables.keys()


def test_a_fire_that_raises_lands_in_the_dead_letter_queue(synth: Synth) -> None:
    function = synth.logical_id("AWS::Lambda::Function", "SchedulesFireFunction")
    queue = synth.logical_id("AWS::SQS::Queue", "SchedulesDeadLetterQueue")
    (config,) = [
        config
        for config in synth.resources("AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert config["Properties"] == {
        "FunctionName": {"Ref": function},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": c.SCHEDULE_MAX_EVENT_AGE_SECONDS,
        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}},
    }


def test_the_scheduler_role_is_for_our_groups_schedules_only(synth: Synth) -> None:
    properties = synth.properties("AWS::IAM::Role", "SchedulesSchedulerRole")
    (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert as_text(trust["Condition"]["ArnLike"]["aws:SourceArn"]) == [
        f"<{GROUP}.Arn>",
        GROUP_SCHEDULES,
    ]


def test_the_scheduler_role_invokes_the_fire_function_and_nothing_else(synth: Synth) -> None:
    fire = synth.logical_id("AWS::Lambda::Function", "SchedulesFireFunction")
    queue = synth.logical_id("AWS::SQS::Queue", "SchedulesDeadLetterQueue")
    statements = synth.statements("SchedulesSchedulerRole")
    assert sorted((sorted(actions_of(s)), resources_of(s)) for s in statements) == [
        (["lambda:InvokeFunction"], [f"<{fire}.Arn>"]),  # not its versions (`:*`)
        (["sqs:SendMessage"], [f"<{queue}.Arn>"]),
    ]


def test_the_fire_function_reaches_only_what_a_fire_touches(synth: Synth) -> None:
    statements = synth.statements("SchedulesFireRole")
    assert _access(statements, "dynamodb") == {
        table_arn("schedules"): {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        table_arn("jobs"): {"dynamodb:GetItem", "dynamodb:PutItem"},
        f"{table_arn('jobs')}/index/{c.BY_SCHEDULE_INDEX}": {"dynamodb:Query"},
        table_arn("runs"): {"dynamodb:GetItem", "dynamodb:PutItem"},
        table_arn("templates"): {"dynamodb:GetItem", "dynamodb:ConditionCheckItem"},
        table_arn("lock"): {"dynamodb:Query"},  # is a slot free? (then kick)
    }
    (kick,) = _access(statements, "states").items()
    assert kick[0].endswith(f":stateMachine:{constants.state_machine_name('dev')}")
    assert kick[1] == {"states:StartExecution"}
    assert _access(statements, "scheduler") == {GROUP_SCHEDULES: {"scheduler:DeleteSchedule"}}
    assert not _access(statements, "iam")
    queue = synth.logical_id("AWS::SQS::Queue", "SchedulesDeadLetterQueue")
    assert set(_access(statements, "sqs")) == {f"<{queue}.Arn>"}  # its async failures


# --- the dead-letter queue --------------------------------------------------------------------


def test_the_dead_letter_queue_is_encrypted_tls_only_and_keeps_14_days(synth: Synth) -> None:
    properties = synth.properties("AWS::SQS::Queue", "SchedulesDeadLetterQueue")
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["MessageRetentionPeriod"] == 14 * 24 * 3600
    queue = synth.logical_id("AWS::SQS::Queue", "SchedulesDeadLetterQueue")
    (policy,) = [
        policy
        for policy in synth.resources("AWS::SQS::QueuePolicy").values()
        if policy["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_an_alarm_when_the_dead_letter_queue_is_not_empty(synth: Synth) -> None:
    queue = synth.logical_id("AWS::SQS::Queue", "SchedulesDeadLetterQueue")
    properties = synth.properties("AWS::CloudWatch::Alarm", "SchedulesDeadLetterAlarm")
    assert properties["Namespace"] == "AWS/SQS"
    assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert properties["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    ]
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert properties["Threshold"] == 0
    assert properties["TreatMissingData"] == "notBreaching"
    # It notifies the stack's alarm topic: tests/infra/test_monitoring.py.


def test_the_alarm_notifies_a_given_topic(tmp_path: Path) -> None:
    stack = Stack(App(outdir=str(tmp_path)), "alone")
    data = Data(stack, "Data", stage="dev")
    topic = sns.Topic(stack, "Alarms")
    Schedules(
        stack,
        "Schedules",
        stage="dev",
        tables=data.tables,
        table_environment=data.settings_environment(),
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:dispatcher",
        alarm_topic=topic,
    )
    template = Template.from_stack(stack)
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    (alarm,) = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


# --- the drift repair -------------------------------------------------------------------------


def test_the_repair_runs_every_five_minutes(synth: Synth) -> None:
    repair = synth.logical_id("AWS::Lambda::Function", "SchedulesRepairFunction")
    schedule = synth.properties("AWS::Scheduler::Schedule", "SchedulesRepairSchedule")
    assert schedule["ScheduleExpression"] == "rate(5 minutes)"
    assert schedule["State"] == "ENABLED"
    assert "GroupName" not in schedule  # the default group: ours holds one per Schedule
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [repair, "Arn"]}
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    function = synth.properties("AWS::Lambda::Function", "SchedulesRepairFunction")
    assert function["Handler"] == "functions.schedule_repair.handler"
    assert function["Runtime"] == LAMBDA_RUNTIME.name


def test_the_repair_writes_the_groups_schedules_and_its_records_only(synth: Synth) -> None:
    """Its records, and, for catch-up, what a fire touches."""
    statements = synth.statements("SchedulesRepairRole")
    assert _access(statements, "dynamodb") == {
        table_arn("schedules"): {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
        f"{table_arn('schedules')}/index/{c.BY_KIND_INDEX}": {"dynamodb:Query"},
        table_arn("jobs"): {"dynamodb:GetItem", "dynamodb:PutItem"},
        f"{table_arn('jobs')}/index/{c.BY_SCHEDULE_INDEX}": {"dynamodb:Query"},
        table_arn("runs"): {"dynamodb:GetItem", "dynamodb:PutItem"},
        table_arn("templates"): {"dynamodb:GetItem", "dynamodb:ConditionCheckItem"},
        table_arn("lock"): {"dynamodb:Query"},
    }
    assert _access(statements, "scheduler") == {
        GROUP_SCHEDULES: {
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:GetSchedule",
        }
    }
    (pass_role,) = [s for s in statements if "iam:PassRole" in actions_of(s)]
    role = synth.logical_id("AWS::IAM::Role", "SchedulesSchedulerRole")
    assert resources_of(pass_role) == [f"<{role}.Arn>"]
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
    (kick,) = _access(statements, "states").items()  # a catch-up fire's kick
    assert kick[0].endswith(f":stateMachine:{constants.state_machine_name('dev')}")
    assert kick[1] == {"states:StartExecution"}


def test_the_repair_schedule_invokes_the_repair_only(synth: Synth) -> None:
    repair = synth.logical_id("AWS::Lambda::Function", "SchedulesRepairFunction")
    statements = synth.statements("SchedulesRepairScheduleRole")
    assert set(_access(statements, "lambda")) == {f"<{repair}.Arn>", f"<{repair}.Arn>:*"}


# --- what a schedule writer is given ----------------------------------------------------------


def test_environment_names_the_group_target_role_and_queue(synth: Synth) -> None:
    environment = synth.stack.schedules.environment()
    fire = synth.logical_id("AWS::Lambda::Function", "SchedulesFireFunction")
    role = synth.logical_id("AWS::IAM::Role", "SchedulesSchedulerRole")
    queue = synth.logical_id("AWS::SQS::Queue", "SchedulesDeadLetterQueue")
    resolved = {key: as_text(synth.stack.resolve(value)) for key, value in environment.items()}
    assert resolved == {
        "JOBSCHED_SCHEDULE_GROUP": f"<{GROUP}>",
        "JOBSCHED_SCHEDULE_TARGET_ARN": f"<{fire}.Arn>",
        "JOBSCHED_SCHEDULE_ROLE_ARN": f"<{role}.Arn>",
        "JOBSCHED_SCHEDULE_DLQ_ARN": f"<{queue}.Arn>",
    }
    # Each is a setting the scheduler adapter reads.
    assert {f"JOBSCHED_{name.upper()}" for name in Settings.model_fields} >= environment.keys()
    variables = synth.variables("SchedulesRepairFunction")
    assert {key: as_text(variables[key]) for key in SETTINGS_VARIABLES} == resolved


def test_handlers_import(synth: Synth) -> None:
    for prefix in ("SchedulesFireFunction", "SchedulesRepairFunction"):
        handler = synth.properties("AWS::Lambda::Function", prefix)["Handler"]
        module, _, name = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name))


def test_stack_outputs_name_the_schedule_settings(synth: Synth) -> None:
    outputs = synth.template.find_outputs("*")
    assert outputs["ScheduleGroupName"]["Value"] == {"Ref": GROUP}
    for output_id, setting in (
        ("ScheduleTargetArn", "JOBSCHED_SCHEDULE_TARGET_ARN"),
        ("ScheduleRoleArn", "JOBSCHED_SCHEDULE_ROLE_ARN"),
        ("ScheduleDeadLetterQueueArn", "JOBSCHED_SCHEDULE_DLQ_ARN"),
    ):
        assert setting in outputs[output_id]["Description"]
        assert json.dumps(outputs[output_id]["Value"]).startswith('{"Fn::GetAtt"')
