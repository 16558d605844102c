"""ECS in moto as the tests need it: the worker's cluster and Fargate task definition, the
default VPC's network, and tasks that stay running."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.moto_api import state_manager

REGION = "us-east-1"


def worker_cluster() -> tuple[Any, str, str]:
    """(ecs client, cluster ARN, task definition ARN)."""
    ecs = boto3.client("ecs", region_name=REGION)
    cluster = ecs.create_cluster(clusterName="jobsched")["cluster"]["clusterArn"]
    task_definition = ecs.register_task_definition(
        family="worker",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        # moto needs a container-level memory (a task-level one alone crashes it)
        containerDefinitions=[{"name": "worker", "image": "worker", "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    return ecs, cluster, task_definition


def default_network() -> tuple[str, str]:
    """(a subnet, the default security group) of the default VPC."""
    ec2 = boto3.client("ec2", region_name=REGION)
    subnet: str = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group: str = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0][
        "GroupId"
    ]
    return subnet, group


@contextmanager
def tasks_kept_running() -> Iterator[None]:
    """moto moves a task one state on per DescribeTasks; keep them running."""
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 1000})
    try:
        yield
    finally:
        state_manager.unset_transition("ecs::task")
