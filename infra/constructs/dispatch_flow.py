"""The dispatcher state machine's states (Amazon States Language through CDK).

    Resume? ──(no claim in the input)──► Claim ──► Route ──idle──► Idle
       │ (a handed-over claim)                       ├─job/reservation─► RunTask (.sync) ──┐
       └──────────────────────────────────► Route    └─group─► RunGroup (Map) ────────────┤
                                                                  Catch (States.ALL) ──────┤
                                                                                           ▼
    Done ◄──idle── Next? ◄─────────────── Finish (ends the unit, claims the next one) ◄────┘
                     ├── under the loop bound ──► Route
                     └── at the bound ──► HandOver (startExecution with the claim) ──► HandedOver

RunGroup iterates a parallel group's job ids: ClaimGroupJob ──► Claimed? ──► RunGroupTask
(.sync, Catch) ──► FinishGroupJob. A step Lambda that fails for good fails the execution; the
slot's lease then runs out and the sweeper recovers the unit (ends it "lost", retry policy,
kick). State names are the construct ids, so they are stable for logs and tests.

Payloads stay small whatever a group's size (Step Functions fails a state over 256 KiB, and a
Map's iteration outputs count even when its ResultPath drops them): an iteration gets the
group claim's keys, not the claim, and returns `{}`; a task's result keeps what its finish
reads. Retries back off with jitter: step Lambdas on throttling, RunTask on what ECS could not
place (then Finish records "could not place the task: ..."), HandOver on throttling (then the
execution carries on itself).
"""

from collections.abc import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra import constants
from infra.constructs.execution import Execution
from jobsched.adapters.aws.ecs import PLACEMENT_ERRORS
from jobsched.adapters.aws.overrides import WORKER_ENVIRONMENT

# Worth another try: our code's UnavailableError (DynamoDB throttled, a transaction conflicted)
# and Lambda's throttling (the account's concurrency is shared with the API and the others).
RETRIED_ERRORS = ["UnavailableError", "Lambda.TooManyRequestsException"]
# A StartExecution worth another try: throttled (the SDK's generic error, as
# ECS.AmazonECSException is ECS's), or too many open executions (spelt both ways: the error
# carries the suffix, AWS's nested-workflow guide writes it without).
HAND_OVER_ERRORS = [
    "StepFunctions.AWSStepFunctionsException",
    "StepFunctions.ExecutionLimitExceededException",
    "StepFunctions.ExecutionLimitExceeded",
]
# What Finish reads of a stopped task (ecs.EcsTask); both are in every task description.
TASK_RESULT = {
    "TaskArn": sfn.JsonPath.string_at("$.TaskArn"),
    "Containers": sfn.JsonPath.list_at("$.Containers"),
}
# What ClaimGroupJob needs of the group's claim: its slot and holder, not the group's job ids.
GROUP_CLAIM_KEYS = ("slot", "kind", "unit_id", "holder")


def backoff(
    state: sfn.TaskStateBase | sfn.CustomState, errors: list[str], policy: constants.Backoff
) -> None:
    state.add_retry(
        errors=errors,
        interval=Duration.seconds(policy.interval_seconds),
        backoff_rate=policy.rate,
        max_delay=Duration.seconds(policy.max_delay_seconds),
        max_attempts=policy.retries,
        jitter_strategy=sfn.JitterType.FULL,
    )


class DispatchFlow:
    """Builds the states in `scope`, calling `functions` by step name (Claim, Finish,
    ClaimGroupJob, FinishGroupJob) and running tasks on `execution`."""

    def __init__(
        self,
        scope: Construct,
        functions: Mapping[str, lambda_.IFunction],
        execution: Execution,
    ) -> None:
        self.scope = scope
        self.functions = functions
        self.execution = execution

    def definition(self) -> sfn.IChainable:
        claim = self._step("Claim")
        finish = self._step("Finish")
        route = sfn.Choice(self.scope, "Route")
        run_task = self._run_task("RunTask")
        run_task.add_catch(finish, errors=[sfn.Errors.ALL], result_path="$.error")
        run_task.next(finish)
        run_group = self._run_group()
        run_group.next(finish)
        route.when(
            sfn.Condition.or_(
                sfn.Condition.string_equals("$.kind", "job"),
                sfn.Condition.string_equals("$.kind", "reservation"),
            ),
            run_task,
        )
        route.when(sfn.Condition.string_equals("$.kind", "group"), run_group)
        route.otherwise(sfn.Succeed(self.scope, "Idle"))
        claim.next(route)

        following = sfn.Choice(self.scope, "Next")
        following.when(
            sfn.Condition.string_equals("$.kind", "idle"), sfn.Succeed(self.scope, "Done")
        )
        following.when(
            sfn.Condition.number_greater_than_equals(
                "$.loops", constants.DISPATCH_LOOPS_PER_EXECUTION
            ),
            self._hand_over(route),
        )
        following.otherwise(route)
        finish.next(following)

        # A handed-over execution starts with its predecessor's claim: it runs it, not claims.
        return (
            sfn.Choice(self.scope, "Resume")
            .when(sfn.Condition.is_present("$.claim"), route)
            .otherwise(claim)
        )

    def _step(self, name: str) -> tasks.LambdaInvoke:
        """A step Lambda whose answer becomes the state."""
        step = tasks.LambdaInvoke(
            self.scope,
            name,
            lambda_function=self.functions[name],
            output_path="$.Payload",
            retry_on_service_exceptions=True,
        )
        backoff(step, RETRIED_ERRORS, constants.STEP_RETRY)
        return step

    def _run_task(self, name: str) -> tasks.EcsRunTask:
        """runTask.sync of the worker with the claim step's `task`: its environment, size and
        timeout. The task is found later by the unit id in its overrides (see ecs.py). A task
        ECS could not place is tried again; a task that ran and failed is not (the job's retry
        policy decides)."""
        environment = [
            tasks.TaskEnvironmentVariable(
                name=variable, value=sfn.JsonPath.string_at(f"$.task.environment.{variable}")
            )
            for variable in WORKER_ENVIRONMENT
        ]
        run_task = tasks.EcsRunTask(
            self.scope,
            name,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            cluster=self.execution.cluster,
            task_definition=self.execution.task_definition,
            launch_target=tasks.EcsFargateLaunchTarget(
                platform_version=ecs.FargatePlatformVersion.LATEST
            ),
            assign_public_ip=True,
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[self.execution.security_group],
            container_overrides=[
                tasks.ContainerOverride(
                    container_definition=self.execution.container, environment=environment
                )
            ],
            cpu=sfn.JsonPath.string_at("$.task.cpu"),
            memory_mib=sfn.JsonPath.string_at("$.task.memory"),
            task_timeout=sfn.Timeout.at("$.task.timeout_seconds"),
            result_selector=TASK_RESULT,
            result_path="$.result",
        )
        backoff(run_task, list(PLACEMENT_ERRORS), constants.RUN_TASK_RETRY)
        return run_task

    def _run_group(self) -> sfn.Map:
        """The jobs of a parallel group at once, up to the claim step's `task.max_parallel`: the
        group's own within the deployment's width (Settings.group_width). Each iteration ends
        with FinishGroupJob's answer, `{}`."""
        claim_job = self._step("ClaimGroupJob")
        finish_job = self._step("FinishGroupJob")
        run_job = self._run_task("RunGroupTask")
        run_job.add_catch(finish_job, errors=[sfn.Errors.ALL], result_path="$.error")
        run_job.next(finish_job)
        claimed = (
            sfn.Choice(self.scope, "Claimed")
            .when(sfn.Condition.string_equals("$.kind", "job"), run_job)
            .otherwise(sfn.Succeed(self.scope, "Skipped"))
        )
        run_group = sfn.Map(
            self.scope,
            "RunGroup",
            items_path="$.claim.group.job_ids",
            item_selector={
                "group_claim": {
                    **{key: sfn.JsonPath.string_at(f"$.claim.{key}") for key in GROUP_CLAIM_KEYS},
                    "lease_until": sfn.JsonPath.number_at("$.claim.lease_until"),
                },
                "job_id": sfn.JsonPath.string_at("$$.Map.Item.Value"),
            },
            max_concurrency_path="$.task.max_parallel",
            result_path=sfn.JsonPath.DISCARD,
        )
        run_group.item_processor(claim_job.next(claimed))
        return run_group

    def _hand_over(self, route: sfn.IChainable) -> sfn.IChainable:
        """Start a fresh execution that carries on with the claim in hand (startExecution on
        this very state machine: a CustomState, as the CDK task needs the machine object).
        Throttled, it is tried again; failing for good, this execution runs the claim itself
        (`route`) and tries again after the unit: its history has room to spare."""
        partition = Stack.of(self.scope).partition
        hand_over = sfn.CustomState(
            self.scope,
            "HandOver",
            state_json={
                "Type": "Task",
                "Resource": f"arn:{partition}:states:::states:startExecution",
                "Parameters": {
                    "StateMachineArn.$": "$$.StateMachine.Id",
                    # One hand-over per unit: a repeated one is refused, not doubled.
                    "Name.$": "States.Format('handover-{}', $.claim.unit_id)",
                    "Input": {
                        "kind.$": "$.kind",
                        "claim.$": "$.claim",
                        "task.$": "$.task",
                        "loops": 0,
                        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                    },
                },
            },
        )
        handed_over = sfn.Succeed(self.scope, "HandedOver")
        backoff(hand_over, HAND_OVER_ERRORS, constants.HAND_OVER_RETRY)
        hand_over.add_catch(handed_over, errors=["StepFunctions.ExecutionAlreadyExistsException"])
        hand_over.add_catch(route, errors=[sfn.Errors.ALL], result_path=sfn.JsonPath.DISCARD)
        return hand_over.next(handed_over)
