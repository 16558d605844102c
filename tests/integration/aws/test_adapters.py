"""The AWS edges of dispatch against moto: the kicker, the task stopper, the log reader, and
reading how a task ended."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from jobsched.adapters.aws import CloudWatchLogReader, EcsTaskStopper, StepFunctionsKicker
from jobsched.adapters.aws.ecs import EcsTask, TaskFailure, task_outcome
from jobsched.settings import Settings
from tests.support.ecs_world import default_network, tasks_kept_running, worker_cluster

REGION = "us-east-1"
PASS_MACHINE = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@dataclass
class Clock:
    now: float = 1_800_000_000.2

    def __call__(self) -> float:
        return self.now


# --- the kicker -------------------------------------------------------------------------------


def _state_machine() -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn: str = sfn.create_state_machine(
        name="dispatcher", definition=PASS_MACHINE, roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    return arn


def _executions(arn: str) -> list[str]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return sorted(e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"])


def test_kicks_within_a_second_start_one_execution(aws: None) -> None:
    arn = _state_machine()
    clock = Clock()
    kicker = StepFunctionsKicker(Settings(state_machine_arn=arn), clock=clock)

    kicker.kick()
    clock.now += 0.7
    kicker.kick()  # same second: ExecutionAlreadyExists, ignored
    assert _executions(arn) == ["kick-1800000000"]

    clock.now += 1
    kicker.kick()
    assert _executions(arn) == ["kick-1800000000", "kick-1800000001"]


def test_a_kick_with_every_slot_held_starts_no_execution(aws: None) -> None:
    """The dispatcher is busy: its next finish takes the work (4 transitions and a Lambda call
    saved per enqueue). Free again, the kick starts one."""
    arn = _state_machine()
    clock = Clock()
    free = [False]
    kicker = StepFunctionsKicker(
        Settings(state_machine_arn=arn), clock=clock, slot_free=lambda: free[0]
    )

    kicker.kick()
    assert _executions(arn) == []

    free[0] = True
    kicker.kick()
    assert _executions(arn) == ["kick-1800000000"]


def test_a_kick_that_cannot_read_the_slots_kicks(
    aws: None, caplog: pytest.LogCaptureFixture
) -> None:
    def unreadable() -> bool:
        raise RuntimeError("AccessDenied")

    arn = _state_machine()
    StepFunctionsKicker(Settings(state_machine_arn=arn), clock=Clock(), slot_free=unreadable).kick()

    assert _executions(arn) == ["kick-1800000000"]  # an execution with no slot ends at once
    assert "kicking anyway" in caplog.text


def test_a_failed_kick_is_logged_not_raised(aws: None, caplog: pytest.LogCaptureFixture) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:missing"
    StepFunctionsKicker(Settings(state_machine_arn=missing), clock=Clock()).kick()
    assert "the sweeper will kick again" in caplog.text


def test_without_a_state_machine_a_kick_does_nothing(caplog: pytest.LogCaptureFixture) -> None:
    StepFunctionsKicker(Settings(state_machine_arn=None)).kick()
    assert "JOBSCHED_STATE_MACHINE_ARN" in caplog.text


# --- the task stopper -------------------------------------------------------------------------


def _run(ecs: Any, cluster: str, task_definition: str, unit_id: str) -> str:
    """A task as the state machine starts it: startedBy is Step Functions', not ours."""
    subnet, group = default_network()
    environment = [{"name": "JOBSCHED_UNIT_ID", "value": unit_id}]
    task = ecs.run_task(
        cluster=cluster,
        taskDefinition=task_definition,
        launchType="FARGATE",
        startedBy="AWS Step Functions",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
        },
        overrides={"containerOverrides": [{"name": "worker", "environment": environment}]},
    )["tasks"][0]
    arn: str = task["taskArn"]
    return arn


def _stopped_reasons(ecs: Any, cluster: str, arns: list[str]) -> list[str | None]:
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    by_arn = {task["taskArn"]: task for task in tasks}
    return [by_arn[arn].get("stoppedReason") or None for arn in arns]


@pytest.fixture
def long_tasks() -> Iterator[None]:
    with tasks_kept_running():
        yield


def test_the_stopper_finds_a_units_task_by_its_overrides(aws: None, long_tasks: None) -> None:
    ecs, cluster, task_definition = worker_cluster()
    mine = _run(ecs, cluster, task_definition, "run_a")
    other = _run(ecs, cluster, task_definition, "run_b")
    stopper = EcsTaskStopper(Settings(cluster=cluster))

    assert stopper.task_arns("run_a") == [mine]
    stopper.stop("run_a", "cancelled")

    assert _stopped_reasons(ecs, cluster, [mine, other]) == ["cancelled", None]
    assert stopper.task_arns("run_a") == []  # stopped tasks are not found again
    assert stopper.task_arns("run_b") == [other]


def test_the_stopper_without_a_cluster_stops_nothing() -> None:
    EcsTaskStopper(Settings(cluster=None)).stop("run_a", "lost")  # no AWS call at all


# --- the log reader ---------------------------------------------------------------------------


def _log_stream(lines: int) -> str:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="workers")
    stream = "job/worker/abc123"
    now = int(time.time() * 1000)  # CloudWatch rejects events from the future
    logs.create_log_stream(logGroupName="workers", logStreamName=stream)
    logs.put_log_events(
        logGroupName="workers",
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": f"line {i}"} for i in range(lines)],
    )
    return stream


def test_the_log_reader_pages_with_the_forward_token(aws: None) -> None:
    stream = _log_stream(5)
    reader = CloudWatchLogReader(Settings(log_group="workers"))

    lines, cursor = reader.read(stream, None, 2)
    assert lines == ["line 0", "line 1"]
    more, cursor = reader.read(stream, cursor, 2)
    assert more == ["line 2", "line 3"]
    rest, cursor = reader.read(stream, cursor, 10)
    assert rest == ["line 4"]
    assert reader.read(stream, cursor, 10)[0] == []  # caught up: follow with the same cursor


def test_a_running_units_lines_are_found_by_its_id_and_followed_after_it_ends(
    aws: None,
) -> None:
    unit = "run_01abcdefghjkmnpqrstvwxyz23"
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="workers")
    logs.create_log_stream(logGroupName="workers", logStreamName="job/worker/t1")
    now = int(time.time() * 1000)
    events = [
        {"timestamp": now, "message": f'{{"unit_id": "{unit}", "event": "started"}}'},
        {"timestamp": now + 1, "message": '{"unit_id": "run_other", "event": "started"}'},
        {"timestamp": now + 2, "message": f'{{"unit_id": "{unit}", "event": "finished"}}'},
    ]
    logs.put_log_events(logGroupName="workers", logStreamName="job/worker/t1", logEvents=events)
    reader = CloudWatchLogReader(Settings(log_group="workers"))
    lines, cursor = reader.read(unit, None, 10)  # running: the stream is not known yet
    assert [line for line in lines if unit in line] == lines
    assert len(lines) == 2
    assert cursor is not None
    assert cursor.startswith("f:")
    # The run ended and its stream is known now: the client's cursor keeps the same query.
    more, _ = reader.read("job/worker/t1", cursor, 10)
    assert all(unit in line for line in more)


def test_a_stream_not_there_yet_reads_as_no_lines(aws: None) -> None:
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="workers")
    reader = CloudWatchLogReader(Settings(log_group="workers"))
    assert reader.read("job/worker/starting", "token", 10) == ([], "token")
    assert reader.read(None, None, 10) == ([], None)


# --- how a task ended -------------------------------------------------------------------------

TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/jobsched/0123abcd"


def _task(**container: Any) -> dict[str, Any]:
    return {
        "TaskArn": TASK_ARN,
        "StopCode": "EssentialContainerExited",
        "Containers": [{"Name": "worker", **container}],
    }


def test_a_clean_exit_succeeds_with_the_tasks_log_stream() -> None:
    outcome = task_outcome(Settings(), task=EcsTask.model_validate(_task(ExitCode=0)))
    assert (outcome.exit_code, outcome.error, outcome.succeeded) == (0, None, True)
    assert outcome.log_path == "job/worker/0123abcd"


def test_a_non_zero_exit_in_a_caught_failure_keeps_its_code() -> None:
    failure = TaskFailure(Error="States.TaskFailed", Cause=json.dumps(_task(ExitCode=3)))
    outcome = task_outcome(Settings(), failure=failure)
    assert (outcome.exit_code, outcome.error, outcome.log_path) == (3, None, "job/worker/0123abcd")


def test_an_ecs_kill_keeps_its_reason() -> None:
    task = _task(ExitCode=137, Reason="OutOfMemoryError: Container killed")
    outcome = task_outcome(Settings(), task=EcsTask.model_validate(task))
    assert (outcome.exit_code, outcome.error) == (137, "OutOfMemoryError: Container killed")


def test_a_task_that_never_ran_fails_with_ecs_reason() -> None:
    task = {**_task(Reason="CannotPullContainerError: not found"), "StopCode": "TaskFailedToStart"}
    failure = TaskFailure(Error="States.TaskFailed", Cause=json.dumps(task))
    outcome = task_outcome(Settings(), failure=failure)
    assert outcome.exit_code is None
    assert outcome.error == "task failed: CannotPullContainerError: not found"


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (TaskFailure(Error="States.Timeout", Cause=None), "timeout"),
        (
            TaskFailure(Error="ECS.AccessDeniedException", Cause="not allowed"),
            "could not place the task: ECS.AccessDeniedException: not allowed",
        ),
        (
            TaskFailure(
                Error="ECS.AmazonECSException",
                Cause="You've reached the limit on the number of vCPUs you can run concurrently",
            ),
            "could not place the task: ECS.AmazonECSException: You've reached the limit on the "
            "number of vCPUs you can run concurrently",
        ),
        (
            TaskFailure(
                Error="AmazonECS.Unknown",
                Cause=json.dumps(
                    {
                        "Failures": [
                            {"Arn": "arn:x", "Reason": "RESOURCE:CPU"},
                            {"Reason": "Capacity is unavailable at this time.", "Detail": "a-1"},
                        ]
                    }
                ),
            ),
            "could not place the task: RESOURCE:CPU; Capacity is unavailable at this time. a-1",
        ),
        (
            TaskFailure(Error="AmazonECS.Unknown", Cause=None),
            "could not place the task: AmazonECS.Unknown",
        ),
        (
            TaskFailure(Error="States.TaskFailed", Cause="{not json"),
            "task failed: States.TaskFailed: {not json",
        ),
    ],
)
def test_failures_without_a_task(failure: TaskFailure, error: str) -> None:
    outcome = task_outcome(Settings(), failure=failure)
    assert (outcome.exit_code, outcome.error) == (None, error)
