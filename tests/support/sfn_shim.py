"""Workarounds for moto 5.2.5's Step Functions interpreter (see
../shared/notes/aws-local-testing.md). Remove each when moto does it itself.

1. `StateTaskService._normalise_parameters` / `_normalise_response` are stubbed to `pass`, so
   optimized integrations other than Lambda (`ecs:runTask.sync`, `states:startExecution`) call
   boto3 with Step Functions' PascalCase parameters and read its camelCase responses, and fail
   with States.Runtime ('Cluster', 'Tasks', 'StateMachineArn'). We fill them in with botocore's
   service model, as LocalStack's interpreter (moto's source) does.
2. AWS fails a runTask.sync state whose task's container exited non-zero with
   States.TaskFailed and the task's description as the cause; moto succeeds. We fail it.
3. ECS tasks in moto always exit 0: the emulated worker exits with its `exit_code` param, as
   the `echo` workload does.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.model import OperationModel
from moto.ecs.models import EC2ContainerServiceBackend
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_ecs as ecs_service,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

WORKER_CONTAINER = "worker"


@cache
def _operation(service: str, snake_action: str) -> OperationModel:
    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if botocore.xform_name(name) == snake_action:
            return model.operation_model(name)
    raise KeyError(f"{service} has no operation {snake_action}")


def _normalise_parameters(
    self: StateTaskService,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    operation = _operation(
        self._get_boto_service_name(boto_service_name),
        self._get_boto_service_action(service_action_name),
    )
    if operation.input_shape is not None:
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(
    self: StateTaskService,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    operation = _operation(
        self._get_boto_service_name(boto_service_name),
        self._get_boto_service_action(service_action_name),
    )
    if operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)


def _fail_on_exit_code(build_resolver: Any) -> Any:
    """Wrap the ECS sync resolver: a stopped task whose container exited non-zero fails."""

    def build(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        resolve = build_resolver(self, env, *args, **kwargs)

        def resolver() -> Any:
            task = resolve()
            if task is None:
                return None
            codes = [c.get("ExitCode") for c in task.get("Containers", [])]
            if any(code != 0 for code in codes):
                failed = StatesErrorNameType.StatesTaskFailed
                details = TaskFailedEventDetails(
                    error=failed.to_name(),
                    cause=json.dumps(task),
                    resource=self._get_sfn_resource(),
                    resourceType=self._get_sfn_resource_type(),
                )
                raise FailureEventException(
                    FailureEvent(
                        env=env,
                        error_name=StatesErrorName(typ=failed),
                        event_type=HistoryEventType.TaskFailed,
                        event_details=EventDetails(taskFailedEventDetails=details),
                    )
                )
            return task

        return resolver

    return build


def _emulated_worker(run_task: Any) -> Any:
    """The task's worker exits with the `exit_code` in its JOBSCHED_PARAMS (default 0), and
    first reports it with one artifact through its JOBSCHED_RESULT transaction, as the worker
    does (container/README.md)."""

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        tasks = run_task(self, *args, **kwargs)
        for task in tasks:
            for override in task.overrides.get("containerOverrides", []):
                env = {e["name"]: e["value"] for e in override.get("environment", [])}
                code = int(json.loads(env.get("JOBSCHED_PARAMS", "{}")).get("exit_code", 0))
                for container in task.containers:
                    container.exitCode = code
                _report(env, code)
        return tasks

    return run


def _report(env: dict[str, str], code: int) -> None:
    template = env.get("JOBSCHED_RESULT")
    if not template:
        return
    uri = f"s3://{env['JOBSCHED_ARTIFACTS_BUCKET']}/{env['JOBSCHED_ARTIFACTS_PREFIX']}echo.txt"
    filled = (
        template.replace('"__EXIT_CODE__"', json.dumps(str(code)))
        .replace('"__ARTIFACTS__"', json.dumps(json.dumps([uri])))
        .replace('"__NOW__"', json.dumps(str(int(time.time()))))
    )
    boto3.client("dynamodb", region_name="us-east-1").transact_write_items(**json.loads(filled))


@contextmanager
def patched_interpreter() -> Iterator[None]:
    from unittest import mock

    with (
        mock.patch.object(StateTaskService, "_normalise_parameters", _normalise_parameters),
        mock.patch.object(StateTaskService, "_normalise_response", _normalise_response),
        mock.patch.object(
            ecs_service.StateTaskServiceEcs,
            "_build_sync_resolver",
            _fail_on_exit_code(ecs_service.StateTaskServiceEcs._build_sync_resolver),
        ),
        mock.patch.object(
            EC2ContainerServiceBackend,
            "run_task",
            _emulated_worker(EC2ContainerServiceBackend.run_task),
        ),
    ):
        yield
