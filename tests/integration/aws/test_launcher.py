"""USE_SCHEDULER=false on AWS: a job started outside the queue is its own Fargate task (RunTask
with the worker's overrides), which the probe of monitor then sees running."""

from collections.abc import Iterator

import boto3
import pytest

from jobsched.adapters.aws import EcsTaskStopper
from jobsched.adapters.aws.launcher import STARTED_BY, EcsLauncher
from jobsched.dispatch.immediate import NowJob, start_now
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import JobStatus, RunStatus
from jobsched.ports import Stores
from jobsched.settings import Settings
from jobsched.worker_contract import ENV_HEARTBEAT, ENV_UNIT_ID
from tests.support.ecs_world import REGION, default_network, tasks_kept_running, worker_cluster


@pytest.fixture
def ecs_settings(stores: Stores) -> Iterator[Settings]:
    _, cluster, task_definition = worker_cluster()
    subnet, group = default_network()
    seed_default_templates(stores)
    with tasks_kept_running():
        yield Settings(
            table_prefix="test",
            cluster=cluster,
            task_definition=task_definition,
            subnets=[subnet],
            security_groups=[group],
        )


def test_a_job_outside_the_queue_runs_as_its_own_fargate_task(
    stores: Stores, ecs_settings: Settings
) -> None:
    wired = stores.with_launcher(EcsLauncher(ecs_settings, stores.dispatch))
    template = stores.templates.get("echo")

    jobs, _ = start_now(wired, [NowJob(template, {"message": "hi"})], priority=100)

    run_id = jobs[0].last_run_id
    assert run_id is not None
    assert stores.jobs.get(jobs[0].job_id).status == JobStatus.RUNNING
    ecs = boto3.client("ecs", region_name=REGION)
    arns = ecs.list_tasks(cluster=ecs_settings.cluster or "")["taskArns"]
    task = ecs.describe_tasks(cluster=ecs_settings.cluster or "", tasks=arns)["tasks"][0]
    assert task["startedBy"] == STARTED_BY
    environment = {
        v["name"]: v["value"] for v in task["overrides"]["containerOverrides"][0]["environment"]
    }
    assert environment[ENV_UNIT_ID] == run_id
    assert "SLOT" not in environment[ENV_HEARTBEAT]  # it beats its run only: it holds no slot
    assert EcsTaskStopper(ecs_settings).running_units() == {run_id}


def test_without_the_ecs_settings_the_job_fails_at_once_with_the_reason(stores: Stores) -> None:
    seed_default_templates(stores)
    wired = stores.with_launcher(EcsLauncher(Settings(table_prefix="test"), stores.dispatch))
    template = stores.templates.get("echo")

    jobs, _ = start_now(wired, [NowJob(template, {})], priority=100)

    run = stores.runs.get(jobs[0].last_run_id or "")
    assert run.status == RunStatus.FAILED
    assert "JOBSCHED_TASK_DEFINITION" in (run.error or "")
    assert stores.jobs.get(jobs[0].job_id).status == JobStatus.FINISHED
