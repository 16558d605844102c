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
from jobsched.adapters.aws.overrides import WORKER_ENVIRONMENT

# Worth another try: our code's UnavailableError (DynamoDB throttled, a transaction conflicted)
# and Lambda's throttling (a group's Map can invoke 40 steps at once; new accounts allow 10).
RETRIED_ERRORS = ["UnavailableError", "Lambda.TooManyRequestsException"]


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
            self._hand_over(),
        )
        following.otherwise(route)
        finish.next(following)

        # A handed-over execution starts with its predecessor's claim: it runs it, not claims.
        return (
            sfn.Choice(self.scope, "Resume")
            .when(sfn.Condition.is_present("$.claim"), route)
            .otherwise(claim)
        )

    def _step(self, name: str, *, keep_input: bool = False) -> tasks.LambdaInvoke:
        """A step Lambda whose answer becomes the state (or is dropped: `keep_input`)."""
        step = tasks.LambdaInvoke(
            self.scope,
            name,
            lambda_function=self.functions[name],
            output_path=None if keep_input else "$.Payload",
            result_path=sfn.JsonPath.DISCARD if keep_input else None,
            retry_on_service_exceptions=True,
        )
        step.add_retry(
            errors=RETRIED_ERRORS,
            interval=Duration.seconds(2),
            max_attempts=4,
            backoff_rate=2,
        )
        return step

    def _run_task(self, name: str) -> tasks.EcsRunTask:
        """runTask.sync of the worker with the claim step's `task`: its environment, size and
        timeout. The task is found later by the unit id in its overrides (see ecs.py)."""
        environment = [
            tasks.TaskEnvironmentVariable(
                name=variable, value=sfn.JsonPath.string_at(f"$.task.environment.{variable}")
            )
            for variable in WORKER_ENVIRONMENT
        ]
        return tasks.EcsRunTask(
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
            result_path="$.result",
        )

    def _run_group(self) -> sfn.Map:
        """All jobs of a parallel group at once, up to its max_parallel (0: no limit)."""
        claim_job = self._step("ClaimGroupJob")
        finish_job = self._step("FinishGroupJob", keep_input=True)
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
                "group_claim": sfn.JsonPath.object_at("$.claim"),
                "job_id": sfn.JsonPath.string_at("$$.Map.Item.Value"),
            },
            max_concurrency_path="$.task.max_parallel",
            result_path=sfn.JsonPath.DISCARD,
        )
        run_group.item_processor(claim_job.next(claimed))
        return run_group

    def _hand_over(self) -> sfn.IChainable:
        """Start a fresh execution that carries on with the claim in hand (startExecution on
        this very state machine: a CustomState, as the CDK task needs the machine object)."""
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
        hand_over.add_catch(handed_over, errors=["StepFunctions.ExecutionAlreadyExistsException"])
        return hand_over.next(handed_over)
