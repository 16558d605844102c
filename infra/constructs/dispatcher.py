"""The dispatcher: the Standard state machine that runs units one after another as Fargate
tasks (its states: dispatch_flow.py), its step Lambdas with least-privilege roles, and the
sweeper on a one-minute EventBridge Scheduler schedule.
"""

from collections.abc import Mapping
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import checkov, constants, nag
from infra.config import Concurrency
from infra.constructs.data import has_indexes
from infra.constructs.dispatch_flow import DispatchFlow
from infra.constructs.execution import (
    CONTAINER_NAME,
    LOG_STREAM_PREFIX,
    Execution,
    log_retention,
    removal_policy,
)
from infra.functions import project_function

# The tables dispatch writes, and the one it only reads.
DISPATCH_TABLES = ("jobs", "runs", "groups", "lock")
# Templates and schedules are read by id (and cached): their budgets hold the claim.
READ_TABLES = ("templates", "schedules")
# A finished unit's story and card files are indexed before its end is recorded: the files are
# read from the run's outputs, and the items put first-write-wins after a dedup read of the
# stored sketches (jobsched/content/indexing.py).
CONTENT_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
DISPATCH_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
]
STEP_HANDLERS = {
    "Claim": "functions.dispatch.claim",
    "Finish": "functions.dispatch.finish",
    "ClaimGroupJob": "functions.dispatch.claim_group_job",
    "FinishGroupJob": "functions.dispatch.finish_group_job",
}
SWEEPER_HANDLER = "functions.sweeper.handler"


class Dispatcher(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tables: Mapping[str, dynamodb.ITable],
        table_environment: Mapping[str, str],
        execution: Execution,
        group_width: int,
        concurrency: Concurrency = Concurrency(),
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.concurrency = concurrency
        self.tables = tables
        self.execution = execution
        stack = Stack.of(self)
        self.state_machine_name = constants.state_machine_name(stage)
        self.state_machine_arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.environment = {
            **table_environment,
            "JOBSCHED_TABLE_PREFIX": constants.table_prefix(stage),
            "JOBSCHED_STATE_MACHINE_ARN": self.state_machine_arn,
            "JOBSCHED_CLUSTER": execution.cluster.cluster_name,
            "JOBSCHED_TASK_DEFINITION": execution.task_definition.task_definition_arn,
            "JOBSCHED_CONTAINER_NAME": CONTAINER_NAME,
            "JOBSCHED_ARTIFACTS_BUCKET": execution.bucket.bucket_name,
            "JOBSCHED_LOG_GROUP": execution.log_group.log_group_name,
            "JOBSCHED_LOG_STREAM_PREFIX": LOG_STREAM_PREFIX,
            # A group's Map never runs more jobs at once than the step functions can serve.
            "JOBSCHED_GROUP_WIDTH": str(group_width),
        }
        step_role = self._role("StepRole", "dispatcher state machine steps")
        # A finish that frees a concurrency key wakes the dispatcher for the slots its
        # handover does not fill (Dispatcher._wake_for_keys).
        step_role.add_to_principal_policy(self._start_execution())
        # Each step function's own reservation: no burst elsewhere can throttle dispatch.
        self.step_functions = {
            name: self._function(
                name, handler, step_role, Duration.seconds(30), concurrency.reserved("step")
            )
            for name, handler in STEP_HANDLERS.items()
        }
        sweeper_role = self._role("SweeperRole", "sweeper")
        sweeper_role.add_to_principal_policy(self._start_execution())
        self.sweeper = self._function(
            "Sweeper",
            SWEEPER_HANDLER,
            sweeper_role,
            Duration.seconds(60),
            concurrency.reserved("sweeper"),
            without_dead_letter_queue=checkov.SCHEDULED_WITHOUT_RETRY,
        )
        self.state_machine = self._state_machine()
        self.schedule = scheduler.Schedule(
            self,
            "SweepSchedule",
            schedule=scheduler.ScheduleExpression.rate(
                Duration.minutes(constants.SWEEP_RATE_MINUTES)
            ),
            description="jobsched: recover lost units, kick the dispatcher when work waits",
            # The next sweep is a minute away: no retries, no stale sweeps.
            target=scheduler_targets.LambdaInvoke(
                self.sweeper,
                role=self._scheduler_role(),
                retry_attempts=0,
                max_event_age=Duration.minutes(1),
            ),
        )

    # --- Lambdas ------------------------------------------------------------------------------

    def _role(self, role_id: str, what: str) -> iam.Role:
        """A function role with only what dispatch needs: its tables, and finding and stopping
        the cluster's tasks (cancel, timeout, recovery)."""
        role = iam.Role(
            self,
            role_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"jobsched {what}",
        )
        resources = []
        for entity in DISPATCH_TABLES:
            table_arn = self.tables[entity].table_arn
            resources.append(table_arn)
            if has_indexes(entity):
                resources.append(f"{table_arn}/index/*")
                nag.acknowledge(
                    role,
                    nag.wildcard_resource(f"<{constants.table_logical_id(entity)}.Arn>/index/*"),
                    f"queries of the {entity} table's own indexes (queue order, filters)",
                )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # What the dispatch steps' reads, queries and transactions use, no more (no
                # Scan, no batch writes, no streams).
                actions=DISPATCH_ACTIONS,
                resources=resources,
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem"],  # read by id (and cached)
                resources=[self.tables[entity].table_arn for entity in READ_TABLES],
            )
        )
        self._grant_indexing(role)
        self.execution.grant_task_control(role)
        return role

    def _grant_indexing(self, role: iam.Role) -> None:
        content = self.tables["content"].table_arn
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=CONTENT_ACTIONS, resources=[content, f"{content}/index/*"])
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource(f"<{constants.table_logical_id('content')}.Arn>/index/*"),
            "the content table's own indexes: stored sketches by kind for dedup",
        )
        runs = "runs/*"
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.execution.bucket.arn_for_objects(runs)]
            )
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource(f"<{nag.logical_id(self.execution.bucket)}.Arn>/{runs}"),
            "a finished unit's output files (stories, cards) under runs/<unit id>/",
        )

    def _function(
        self,
        name: str,
        handler: str,
        role: iam.Role,
        timeout: Duration,
        reserved_concurrency: int | None,
        **options: Any,
    ) -> lambda_.Function:
        return project_function(
            self,
            name,
            handler=handler,
            role=role,
            timeout=timeout,
            environment=self.environment,
            stage=self.stage,
            description=f"jobsched dispatcher: {handler}",
            reserved_concurrency=reserved_concurrency,
            **options,
        )

    def _scheduler_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "SweepScheduleRole",
            # Only this account's schedules may use it (the confused-deputy guard).
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="jobsched: EventBridge Scheduler invokes the sweeper",
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource(f"<{nag.logical_id(self.sweeper)}.Arn>:*"),
            "CDK grants invoke on the sweeper function and its versions; only it is invoked",
        )
        return role

    def _start_execution(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=["states:StartExecution"], resources=[self.state_machine_arn]
        )

    # --- the state machine --------------------------------------------------------------------

    def _state_machine(self) -> sfn.StateMachine:
        log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            retention=log_retention(self.stage),
            removal_policy=removal_policy(self.stage),
        )
        state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(
                DispatchFlow(self, self.step_functions, self.execution).definition()
            ),
            comment="jobsched dispatcher: claim, run on Fargate, finish, loop",
            logs=sfn.LogOptions(
                destination=log_group,
                level=sfn.LogLevel.ALL,
                # Job params may hold secrets: log the states, not the data.
                include_execution_data=False,
            ),
            tracing_enabled=True,
        )
        state_machine.add_to_role_policy(self._start_execution())  # the hand-over
        self._acknowledge_state_machine_role(state_machine)
        return state_machine

    def _acknowledge_state_machine_role(self, state_machine: sfn.StateMachine) -> None:
        role = state_machine.role
        for function in self.step_functions.values():
            nag.acknowledge(
                role,
                nag.wildcard_resource(f"<{nag.logical_id(function)}.Arn>:*"),
                "CDK's LambdaInvoke grants the step function and its versions; only it is called",
            )
        nag.acknowledge(
            role,
            nag.wildcard_resource(
                nag.task_definition_family_pattern(nag.logical_id(self.execution.task_definition))
            ),
            "ecs:RunTask on the worker's task definition family (any revision), as CDK's "
            "EcsRunTask grants it",
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource("*"),
            "runTask.sync needs ecs:StopTask/DescribeTasks on tasks not known in advance; "
            "X-Ray and CloudWatch Logs delivery actions take no resource",
        )
