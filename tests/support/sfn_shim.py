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
   the `echo` workload does (and, as echo, reports no model usage).
4. moto fails every ECS error of runTask with States.Runtime, and a RunTask answer with
   `failures` (and no task) with an IndexError. AWS names them: `ECS.<code>` for an error ECS
   models (ServerException, ClientException, ...), `ECS.AmazonECSException` for the others
   (ThrottlingException, the Fargate vCPU quota), with the cause "<message> (Service:
   AmazonECS; Status Code: 400; Error Code: <code>; ...)"; and `AmazonECS.Unknown` for
   failures, whose cause AWS does not document: we give the failures as JSON.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import ClientError
from botocore.model import OperationModel
from moto.ecs.models import EC2ContainerServiceBackend
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
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

from tests.support.usage_contract import NO_USAGE

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
        .replace('"__USAGE__"', json.dumps(json.dumps(NO_USAGE, separators=(",", ":"))))
    )
    boto3.client("dynamodb", region_name="us-east-1").transact_write_items(**json.loads(filled))


@cache
def _ecs_modeled_errors() -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("ecs")
    return frozenset(shape.name for shape in model.error_shapes)


def _ecs_failure(env: Any, state: Any, error: str, cause: str) -> FailureEventException:
    details = TaskFailedEventDetails(
        error=error,
        cause=cause,
        resource=state._get_sfn_resource(),
        resourceType=state._get_sfn_resource_type(),
    )
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=CustomErrorName(error),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=details),
        )
    )


def _ecs_error(from_error: Any) -> Any:
    def named(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return from_error(self, env, ex)
        code = ex.response["Error"]["Code"]
        name = f"ECS.{code}" if code in _ecs_modeled_errors() else "ECS.AmazonECSException"
        cause = (
            f"{ex.response['Error']['Message']} (Service: AmazonECS; Status Code: "
            f"{ex.response['ResponseMetadata']['HTTPStatusCode']}; Error Code: {code})"
        )
        return _ecs_failure(env, self, name, cause).failure_event

    return named


def _run_task_failures(eval_service_task: Any) -> Any:
    """A RunTask that started no task fails with AmazonECS.Unknown and its failures."""

    def evaluate(
        self: Any,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> Any:
        if self._get_boto_service_action() != "run_task":
            return eval_service_task(
                self,
                env=env,
                resource_runtime_part=resource_runtime_part,
                normalised_parameters=normalised_parameters,
                state_credentials=state_credentials,
            )
        client = boto3.client("ecs", region_name=resource_runtime_part.region)
        answer = client.run_task(**normalised_parameters)
        if answer.get("failures") and not answer.get("tasks"):
            failures = [
                {"Arn": f.get("arn"), "Reason": f.get("reason"), "Detail": f.get("detail")}
                for f in answer["failures"]
            ]
            cause = json.dumps({"Failures": failures, "Tasks": []})
            raise _ecs_failure(env, self, "AmazonECS.Unknown", cause)
        answer.pop("ResponseMetadata", None)
        self._normalise_response(response=answer, service_action_name="run_task")
        described = client.describe_tasks(
            cluster=answer["Tasks"][0]["ClusterArn"], tasks=[answer["Tasks"][0]["TaskArn"]]
        )
        described.pop("ResponseMetadata", None)
        self._normalise_response(response=described, service_action_name="describe_tasks")
        env.stack.append(described)
        return None

    return evaluate


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
        mock.patch.object(
            ecs_service.StateTaskServiceEcs,
            "_from_error",
            _ecs_error(ecs_service.StateTaskServiceEcs._from_error),
        ),
        mock.patch.object(
            ecs_service.StateTaskServiceEcs,
            "_eval_service_task",
            _run_task_failures(ecs_service.StateTaskServiceEcs._eval_service_task),
        ),
    ):
        yield
