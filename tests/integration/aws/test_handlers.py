"""The Lambda handlers on their own (the state machine tests run them in sequence): what they
do with units that cannot run, with timeouts, and with expired leases."""

import json
import time
from typing import Any

import boto3
import pytest

from functions import dispatch, sweeper
from jobsched.jobs.jobs import JobCreate, cancel_job, enqueue
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.models import RunStatus
from jobsched.models.units import Claim
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from jobsched.settings import get_settings
from tests.support.waiting import BOUND_SECONDS


@pytest.fixture
def echo(stores: Stores) -> str:
    create_template(stores, TemplateCreate(template_id="echo", name="Echo", workload="echo"))
    return "echo"


def _run_of(stores: Stores, job_id: str) -> Any:
    run_id = stores.jobs.get(job_id).last_run_id
    assert run_id is not None
    return stores.runs.get(run_id)


def test_claim_answers_idle_when_nothing_waits(
    stores: Stores, handler_settings: dict[str, str]
) -> None:
    assert dispatch.claim({"loops": 3}, None) == {"kind": "idle", "loops": 3}


def test_a_unit_whose_overrides_exceed_ecs_limit_fails_and_the_next_is_claimed(
    stores: Stores, echo: str, handler_settings: dict[str, str]
) -> None:
    too_big, _ = enqueue(stores, JobCreate(template_id=echo, params={"text": "x" * 9000}))
    fits, _ = enqueue(stores, JobCreate(template_id=echo, params={"text": "hi"}))

    answer = dispatch.claim({}, None)

    assert answer["kind"] == "job"
    assert answer["claim"]["job"]["job_id"] == fits.job_id
    assert answer["task"]["environment"]["JOBSCHED_PARAMS"] == '{"text":"hi"}'
    assert answer["task"]["timeout_seconds"] == 3600 + 600  # the template's, plus start-up
    failed = _run_of(stores, too_big.job_id)
    assert failed.status == RunStatus.FAILED
    assert "8192" in (failed.error or "")


def test_finish_after_a_timeout_stops_the_task_and_keeps_its_log(
    stores: Stores, echo: str, handler_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ecs = boto3.client("ecs", region_name="us-east-1")
    cluster = ecs.create_cluster(clusterName="jobsched")["cluster"]["clusterArn"]
    monkeypatch.setenv("JOBSCHED_CLUSTER", cluster)
    get_settings.cache_clear()
    dispatch.steps.cache_clear()
    enqueue(stores, JobCreate(template_id=echo))
    answer = dispatch.claim({}, None)
    task_arn = _start_task(ecs, cluster, answer["task"]["environment"])

    following = dispatch.finish({**answer, "error": {"Error": "States.Timeout", "Cause": ""}}, None)

    assert following == {"kind": "idle", "loops": 1}
    run = stores.runs.get(answer["claim"]["unit_id"])
    assert (run.status, run.error) == (RunStatus.FAILED, "timeout")
    assert run.log_path == f"job/worker/{task_arn.rsplit('/', 1)[-1]}"
    stopped = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
    assert stopped["stoppedReason"] == "timeout"


def _start_task(ecs: Any, cluster: str, environment: dict[str, str]) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    definition = ecs.register_task_definition(
        family="worker",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="1024",
        memory="2048",
        containerDefinitions=[{"name": "worker", "image": "worker", "memory": 2048}],
    )["taskDefinition"]["taskDefinitionArn"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    variables = [{"name": name, "value": value} for name, value in environment.items()]
    task = ecs.run_task(
        cluster=cluster,
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
        },
        overrides={"containerOverrides": [{"name": "worker", "environment": variables}]},
    )["tasks"][0]
    arn: str = task["taskArn"]
    return arn


def test_the_sweeper_recovers_a_unit_whose_lease_expired(
    stores: Stores, echo: str, handler_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBSCHED_STARTUP_LEASE_SECONDS", "0.01")
    get_settings.cache_clear()
    job, _ = enqueue(stores, JobCreate(template_id=echo))
    answer = dispatch.claim({}, None)  # a dispatcher that then vanishes
    time.sleep(0.05)

    report = sweeper.handler({}, None)

    assert report == {"recovered": [answer["claim"]["unit_id"]], "kicked": False}
    run = _run_of(stores, job.job_id)
    assert (run.status, run.error) == (RunStatus.FAILED, "lost")
    assert json.loads(json.dumps(report)) == report  # a Lambda's answer is JSON


def test_the_functions_import_neither_fastapi_nor_boto3() -> None:
    """Cold start: the API's dependencies never load, and boto3 only on a first AWS call."""
    import subprocess
    import sys

    code = (
        "import sys, functions.dispatch, functions.sweeper, jobsched.adapters.aws.wiring; "
        "print(sorted(m for m in ('fastapi', 'api', 'boto3') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=BOUND_SECONDS,
    )
    assert result.stdout.strip() == "[]"


def test_a_run_cancelled_while_it_ran_keeps_what_its_last_heartbeat_said_it_used(
    stores: Stores, echo: str, handler_settings: dict[str, str]
) -> None:
    job, _ = enqueue(stores, JobCreate(template_id=echo))
    answer = dispatch.claim({}, None)
    claim = Claim.model_validate(answer["claim"])
    used = Usage(calls=2, prompt_tokens=300, completion_tokens=100, cost_usd=0.01)
    assert stores.dispatch.renew(claim, time.time(), time.time() + 90, used)  # its heartbeat
    cancel_job(stores, job.job_id)  # its worker's own report is refused from now on

    stopped = {
        "TaskArn": "arn:aws:ecs:us-east-1:1:task/c/t",
        "Containers": [{"Name": "worker", "ExitCode": 143}],
    }
    dispatch.finish({**answer, "result": stopped}, None)

    run = stores.runs.get(claim.unit_id)
    assert (run.status, run.error) == (RunStatus.FAILED, "cancelled")
    assert run.usage == used
