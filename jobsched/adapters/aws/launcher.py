"""Launcher on AWS: a unit started outside the queue (USE_SCHEDULER=false) is its own Fargate
task, started with RunTask and the same overrides the state machine gives a queued unit."""

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jobsched.adapters.aws.clients import client_options
from jobsched.adapters.aws.overrides import UnrunnableUnitError, task_spec
from jobsched.models.units import Claim
from jobsched.ports.dispatch import DispatchStore, LaunchError
from jobsched.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

logger = logging.getLogger(__name__)

STARTED_BY = "jobsched-outside-queue"  # at most 36 characters (RunTask's limit)


class EcsLauncher:
    def __init__(
        self, settings: Settings, dispatch: DispatchStore, client: "ECSClient | None" = None
    ) -> None:
        self.settings = settings
        self.dispatch = dispatch
        if client is not None:
            self.__dict__["client"] = client

    @cached_property
    def client(self) -> "ECSClient":
        import boto3

        return boto3.client("ecs", **client_options(self.settings))

    def run_task_request(self, claim: Claim) -> dict[str, Any]:
        settings = self.settings
        if not (settings.cluster and settings.task_definition and settings.subnets):
            raise LaunchError(
                "JOBSCHED_CLUSTER, JOBSCHED_TASK_DEFINITION and JOBSCHED_SUBNETS must be set "
                "to start jobs outside the queue"
            )
        try:
            task = task_spec(claim, settings, self.dispatch)
        except UnrunnableUnitError as exc:
            raise LaunchError(str(exc)) from exc
        environment = [{"name": k, "value": v} for k, v in task["environment"].items()]
        return {
            "cluster": settings.cluster,
            "taskDefinition": settings.task_definition,
            "launchType": "FARGATE",
            "count": 1,
            "startedBy": STARTED_BY,
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": settings.subnets,
                    "securityGroups": settings.security_groups,
                    "assignPublicIp": "ENABLED" if settings.assign_public_ip else "DISABLED",
                }
            },
            "overrides": {
                "containerOverrides": [
                    {"name": settings.container_name, "environment": environment}
                ],
                "cpu": task["cpu"],
                "memory": task["memory"],
            },
        }

    def launch(self, claim: Claim) -> None:
        request = self.run_task_request(claim)
        try:
            response = self.client.run_task(**request)
        except Exception as exc:  # ECS refused (capacity, permissions, a bad request)
            raise LaunchError(f"ECS RunTask failed: {exc}") from exc
        failures = response.get("failures", [])
        tasks = response.get("tasks", [])
        if failures or not tasks:
            reasons = ", ".join(str(f.get("reason")) for f in failures) or "no task started"
            raise LaunchError(f"ECS RunTask: {reasons}")
        logger.info(
            "started %s outside the queue as task %s", claim.unit_id, tasks[0].get("taskArn")
        )
