"""The dispatcher state machine that infra/ synthesises, executed by moto's Step Functions
interpreter: the step Lambdas are our handlers (in-process), ECS is moto's (see sfn_shim.py).

A kick starts an execution; it claims, runs the unit as a Fargate task (runTask.sync),
finishes it and claims the next until the queue is empty.
"""

import json
from typing import Any

from jobsched.adapters.aws import StepFunctionsKicker
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.models import GroupStatus, JobStatus, RunStatus
from jobsched.ports import Stores
from tests.support.aws_world import World


def _template(stores: Stores) -> None:
    create_template(stores, TemplateCreate(template_id="echo", name="Echo", workload="echo"))


def _runs_of(stores: Stores, job_id: str) -> list[Any]:
    job = stores.jobs.get(job_id)
    assert job.last_run_id is not None
    return [stores.runs.get(job.last_run_id)]


def _kick_and_wait(world: World) -> list[dict[str, Any]]:
    StepFunctionsKicker(world.settings).kick()
    return world.wait_all()


def _ecs_started(world: World) -> list[dict[str, str]]:
    """The environment each task was started with."""
    arns = world.ecs.list_tasks(cluster=world.settings.cluster)["taskArns"]
    described = world.ecs.describe_tasks(cluster=world.settings.cluster, tasks=arns)["tasks"]
    return [
        {e["name"]: e["value"] for e in task["overrides"]["containerOverrides"][0]["environment"]}
        for task in described
    ]


def test_jobs_run_one_after_another_in_one_execution(world: World) -> None:
    _template(world.stores)
    first, _ = enqueue(world.stores, JobCreate(template_id="echo", params={"message": "1"}))
    second, _ = enqueue(world.stores, JobCreate(template_id="echo", params={"message": "2"}))

    (execution,) = _kick_and_wait(world)

    assert execution["status"] == "SUCCEEDED"
    runs = [_runs_of(world.stores, job.job_id)[0] for job in (first, second)]
    for job, run in zip((first, second), runs, strict=True):
        assert world.stores.jobs.get(job.job_id).status == JobStatus.FINISHED
        assert run.status == RunStatus.COMPLETED
        assert run.exit_code == 0
        assert run.error is None
        assert run.log_path is not None
        assert run.log_path.startswith("job/worker/")
        assert run.artifacts == [f"s3://artifacts/runs/{run.run_id}/echo.txt"]  # as reported
    assert runs[0].finished_at is not None
    assert runs[0].finished_at <= runs[1].started_at  # one at a time, in queue order
    started = _ecs_started(world)
    assert {env["JOBSCHED_UNIT_ID"] for env in started} == {run.run_id for run in runs}
    assert {env["JOBSCHED_PARAMS"] for env in started} == {'{"message":"1"}', '{"message":"2"}'}
    assert all(
        env["JOBSCHED_ARTIFACTS_PREFIX"] == f"runs/{env['JOBSCHED_UNIT_ID']}/" for env in started
    )
    assert world.stores.dispatch.slots()[0].holder is None  # the slot is free again


def test_a_failing_task_is_caught_and_recorded_failed_with_its_exit_code(world: World) -> None:
    _template(world.stores)
    job, _ = enqueue(world.stores, JobCreate(template_id="echo", params={"exit_code": 3}))

    (execution,) = _kick_and_wait(world)

    assert execution["status"] == "SUCCEEDED"  # the Catch took the task's failure
    (run,) = _runs_of(world.stores, job.job_id)
    assert run.status == RunStatus.FAILED
    assert run.exit_code == 3
    assert run.worker_exit_code == 3  # what the worker reported agrees with ECS
    assert run.log_path is not None
    assert world.stores.jobs.get(job.job_id).status == JobStatus.FINISHED
    history = world.sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    failed = [e for e in history if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["States.TaskFailed"]


def test_a_parallel_group_fans_out_over_a_map(world: World) -> None:
    _template(world.stores)
    group, jobs = create_group(
        world.stores,
        GroupCreate(
            mode="parallel",
            max_parallel=2,
            jobs=[
                GroupJobSpec(template_id="echo", params={"n": 1}),
                GroupJobSpec(template_id="echo", params={"n": 2, "exit_code": 1}),
                GroupJobSpec(template_id="echo", params={"n": 3}),
            ],
        ),
    )

    (execution,) = _kick_and_wait(world)

    assert execution["status"] == "SUCCEEDED"
    runs = {job.job_id: _runs_of(world.stores, job.job_id)[0] for job in jobs}
    assert [runs[job.job_id].status for job in jobs] == [
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.COMPLETED,
    ]
    assert all(run.group_id == group.group_id for run in runs.values())
    ended = world.stores.groups.get(group.group_id)
    assert (ended.completed, ended.failed, ended.status) == (2, 1, GroupStatus.PARTIAL)
    assert len(_ecs_started(world)) == 3
    history = world.sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    assert sum(e["type"] == "MapIterationSucceeded" for e in history) == 3


def test_an_execution_hands_over_to_a_fresh_one_at_the_loop_bound(world: World) -> None:
    """With the bound lowered to 1, the first execution runs one job and hands the next claim
    to a new execution (startExecution), which runs it without claiming again."""
    definition = json.loads(json.dumps(world.definition))
    next_state = definition["States"]["Next"]
    for choice in next_state["Choices"]:
        if "NumericGreaterThanEquals" in choice:
            choice["NumericGreaterThanEquals"] = 1
    world.sfn.update_state_machine(
        stateMachineArn=world.state_machine_arn, definition=json.dumps(definition)
    )
    _template(world.stores)
    first, _ = enqueue(world.stores, JobCreate(template_id="echo"))
    second, _ = enqueue(world.stores, JobCreate(template_id="echo"))

    executions = _kick_and_wait(world)

    assert sorted(e["name"] for e in executions)[0].startswith("handover-run_")
    assert all(e["status"] == "SUCCEEDED" for e in executions)
    assert len(executions) == 2
    for job in (first, second):
        assert _runs_of(world.stores, job.job_id)[0].status == RunStatus.COMPLETED
