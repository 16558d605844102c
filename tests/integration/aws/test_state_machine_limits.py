"""The dispatcher state machine at its limits, executed by moto's interpreter: a 500-job
parallel group against Step Functions' 256 KiB state payload, and the retries of what AWS
throttles or cannot place (RunTask, the hand-over), with a run's record when retries run out.

Retry waits are cut to a second (the definition's shape is unchanged) so the tests run fast.
"""

import json
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
from moto.core.exceptions import AWSError, JsonRESTError
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from jobsched.adapters.aws import StepFunctionsKicker
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.models import GroupStatus, JobStatus, RetryPolicy, RunStatus
from tests.support.aws_world import World

STATE_PAYLOAD_LIMIT = 256 * 1024  # Step Functions' limit of a state's input or output
GROUP_SIZE = 500
SIZES = (8, 24)  # the group sizes run; the payload at GROUP_SIZE is extrapolated
MARGIN = 0.5  # the largest payload must stay under half the limit
SLOW_BOUND_SECONDS = 1200.0  # a group's execution on moto on a loaded machine; ends a hang only


def _template(world: World, retry: RetryPolicy | None = None) -> None:
    create_template(
        world.stores,
        TemplateCreate(
            template_id="echo", name="Echo", workload="echo", retry=retry or RetryPolicy()
        ),
    )


def _states(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every state, those of a Map's processor too."""
    for state in definition["States"].values():
        yield state
        if "ItemProcessor" in state:
            yield from _states(state["ItemProcessor"])


def _fast_retries(world: World, loop_bound: int | None = None) -> dict[str, Any]:
    """The definition with every retry's waits cut to at most a second (and, if given, the
    loop bound lowered), as the state machine runs it."""
    definition = json.loads(json.dumps(world.definition))
    for state in _states(definition):
        for retrier in state.get("Retry", []):
            retrier.update(IntervalSeconds=1, MaxDelaySeconds=1)
    if loop_bound is not None:
        for choice in definition["States"]["Next"]["Choices"]:
            if "NumericGreaterThanEquals" in choice:
                choice["NumericGreaterThanEquals"] = loop_bound
    world.sfn.update_state_machine(
        stateMachineArn=world.state_machine_arn, definition=json.dumps(definition)
    )
    return definition


def _history(world: World, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = world.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000, **token)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        token = {"nextToken": page["nextToken"]}


def _ends_of_iterations(definition: dict[str, Any]) -> set[str]:
    """The states a Map iteration can end in: their outputs make the Map's result."""
    ends = set()
    for state in definition["States"].values():
        for name, inner in state.get("ItemProcessor", {}).get("States", {}).items():
            if inner.get("End") or inner["Type"] in ("Succeed", "Fail"):
                ends.add(name)
    return ends


def largest_payload(events: list[dict[str, Any]], definition: dict[str, Any]) -> int:
    """The largest state payload of an execution, in characters: every input and output its
    history records, and each Map's result, the array of its iterations' outputs, which
    counts against the limit though the Map's ResultPath drops it."""
    largest = 0
    for event in events:
        for key, details in event.items():
            if key.endswith("EventDetails") and isinstance(details, dict):
                for field in ("input", "output"):
                    largest = max(largest, len(details.get(field, "")))
    ends = _ends_of_iterations(definition)
    outputs = [
        event["stateExitedEventDetails"]["output"]
        for event in events
        if "stateExitedEventDetails" in event and event["stateExitedEventDetails"]["name"] in ends
    ]
    map_result = len("[]") + sum(map(len, outputs)) + max(0, len(outputs) - 1)
    return max(largest, map_result)


def _group_payload(world: World, size: int) -> tuple[int, int]:
    """The largest state payload of the execution that runs a `size`-job parallel group, and
    the longest output of one of its Map iterations."""
    group, _ = create_group(
        world.stores,
        GroupCreate(mode="parallel", jobs=[GroupJobSpec(template_id="echo")] * size),
    )
    earlier = {e["executionArn"] for e in world.executions()}
    StepFunctionsKicker(world.settings).kick()
    ended = world.wait_all(timeout=SLOW_BOUND_SECONDS)
    (execution,) = [e for e in ended if e["executionArn"] not in earlier]
    assert execution["status"] == "SUCCEEDED"
    done = world.stores.groups.get(group.group_id)
    assert (done.completed, done.status) == (size, GroupStatus.COMPLETED)
    events = _history(world, execution["executionArn"])
    assert sum(e["type"] == "MapIterationSucceeded" for e in events) == size
    ends = _ends_of_iterations(world.definition)
    longest = max(
        len(e["stateExitedEventDetails"]["output"])
        for e in events
        if "stateExitedEventDetails" in e and e["stateExitedEventDetails"]["name"] in ends
    )
    return largest_payload(events, world.definition), longest


def test_a_500_job_group_keeps_every_payload_far_under_the_limit(world: World) -> None:
    """Run through the interpreter at two sizes and extrapolated to 500: a payload grows by
    the same few bytes per job (the Map's items in, its iterations' `{}` out), and running
    500 jobs on moto takes minutes. The growth per job is measured, not assumed."""
    _template(world)
    small, large = SIZES
    at_small, _ = _group_payload(world, small)
    at_large, iteration = _group_payload(world, large)
    per_job = max(0.0, (at_large - at_small) / (large - small))
    at_500 = at_large + per_job * (GROUP_SIZE - large)
    map_result = len("[]") + GROUP_SIZE * (iteration + len(","))  # the iterations' outputs
    print(
        f"largest state payload: {at_small:,} at {small} jobs, {at_large:,} at {large}, "
        f"{at_500:,.0f} at {GROUP_SIZE}; the Map's result at {GROUP_SIZE}: {map_result:,}"
    )
    assert max(at_500, map_result) < STATE_PAYLOAD_LIMIT * MARGIN


def test_the_group_map_runs_no_wider_than_the_step_functions_allow(world: World) -> None:
    """A group without max_parallel runs at the deployment's width, not without limit."""
    _template(world)
    create_group(
        world.stores,
        GroupCreate(mode="parallel", jobs=[GroupJobSpec(template_id="echo")] * 3),
    )
    StepFunctionsKicker(world.settings).kick()
    (execution,) = world.wait_all()

    events = _history(world, execution["executionArn"])
    (entered,) = [
        e for e in events if e.get("stateEnteredEventDetails", {}).get("name") == "RunGroup"
    ]
    width = json.loads(entered["stateEnteredEventDetails"]["input"])["task"]["max_parallel"]
    assert width == world.settings.group_width
    assert width is not None
    assert width >= 1


def _throttled(times: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """ECS throttles the first `times` RunTask calls; returns the calls made, as they come."""
    calls: list[int] = []
    run_task = EC2ContainerServiceBackend.run_task
    numbers = count(1)

    def throttled(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(next(numbers))
        if len(calls) <= times:
            raise JsonRESTError("ThrottlingException", "Rate exceeded")
        return run_task(self, *args, **kwargs)

    monkeypatch.setattr(EC2ContainerServiceBackend, "run_task", throttled)
    return calls


def test_a_throttled_run_task_is_tried_again_and_the_job_runs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast_retries(world)
    _template(world)
    calls = _throttled(2, monkeypatch)
    job, _ = enqueue(world.stores, JobCreate(template_id="echo"))

    StepFunctionsKicker(world.settings).kick()
    (execution,) = world.wait_all()

    assert execution["status"] == "SUCCEEDED"
    assert len(calls) == 3  # ECS.AmazonECSException twice, retried (moto logs no retries)
    run = world.stores.runs.get(world.stores.jobs.get(job.job_id).last_run_id or "")
    assert (run.status, run.exit_code, run.error) == (RunStatus.COMPLETED, 0, None)


def _no_capacity(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """RunTask starts no task and answers with a failure, every time."""
    calls: list[int] = []

    def no_capacity(self: Any) -> Any:
        from moto.core.responses import ActionResult

        calls.append(1)
        failure = {"arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/x"}
        return ActionResult({"tasks": [], "failures": [{**failure, "reason": "RESOURCE:CPU"}]})

    monkeypatch.setattr(EC2ContainerServiceResponse, "run_task", no_capacity)
    return calls


def test_a_task_never_placed_fails_its_run_with_why_and_the_retry_policy_applies(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = _fast_retries(world)
    _template(world, RetryPolicy(max_attempts=2, backoff_seconds=3600))
    calls = _no_capacity(monkeypatch)
    job, _ = enqueue(world.stores, JobCreate(template_id="echo"))

    StepFunctionsKicker(world.settings).kick()
    (execution,) = world.wait_all()

    assert execution["status"] == "SUCCEEDED"  # recorded, not an execution failure
    (retrier,) = [
        r
        for r in definition["States"]["RunTask"]["Retry"]
        if "AmazonECS.Unknown" in r["ErrorEquals"]
    ]
    assert len(calls) == 1 + retrier["MaxAttempts"]
    first = world.stores.jobs.get(job.job_id)
    run = world.stores.runs.get(first.last_run_id or "")
    assert run.status == RunStatus.FAILED
    assert run.error == "could not place the task: RESOURCE:CPU"
    assert first.status == JobStatus.QUEUED  # the template's second attempt waits its backoff
    assert first.attempt == 1


class ExecutionLimitExceededError(AWSError):
    TYPE = "ExecutionLimitExceeded"


def test_a_hand_over_that_cannot_start_leaves_the_execution_carrying_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the loop bound at 1 the first job's finish hands over; StartExecution refuses
    every time, so after its retries the same execution runs the next job itself."""
    _fast_retries(world, loop_bound=1)
    _template(world)
    start_execution = StepFunctionsParserBackend.start_execution
    refused: list[str] = []

    def refusing(self: Any, state_machine_arn: str, name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("handover-"):
            refused.append(name)
            raise ExecutionLimitExceededError("too many executions")
        return start_execution(self, state_machine_arn, name, *args, **kwargs)

    monkeypatch.setattr(StepFunctionsParserBackend, "start_execution", refusing)
    first, _ = enqueue(world.stores, JobCreate(template_id="echo"))
    second, _ = enqueue(world.stores, JobCreate(template_id="echo"))

    StepFunctionsKicker(world.settings).kick()
    (execution,) = world.wait_all()

    assert execution["status"] == "SUCCEEDED"
    assert len(set(refused)) == 1  # one hand-over...
    assert len(refused) > 1  # ...tried again
    for job in (first, second):
        run = world.stores.runs.get(world.stores.jobs.get(job.job_id).last_run_id or "")
        assert run.status == RunStatus.COMPLETED
    errors = {
        e["taskFailedEventDetails"]["error"]
        for e in _history(world, execution["executionArn"])
        if e["type"] == "TaskFailed"
    }
    assert errors == {"StepFunctions.ExecutionLimitExceededException"}
