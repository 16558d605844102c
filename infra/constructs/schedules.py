"""Schedules on AWS: the stage's EventBridge Scheduler group, the fire Lambda its schedules
invoke, the role they invoke it with, the dead-letter queue of fires that were not handled, and
the drift repair on a five-minute schedule.

The EventBridge schedules themselves are made at runtime, one per Schedule, by whatever holds
`environment()` and `grant_manage_schedules()` (the repair here, the API later): see
jobsched/adapters/aws/scheduler.py.
"""

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import checkov, constants, nag
from infra.config import Concurrency
from infra.constructs.execution import removal_policy
from infra.constructs.queues import dead_letter_alarm, dead_letter_queue
from infra.functions import project_function
from jobsched import constants as c

FIRE_HANDLER = "functions.schedule_fire.handler"
REPAIR_HANDLER = "functions.schedule_repair.handler"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"
# Pinned like the tables: replacing the group would delete every schedule in it.
GROUP_LOGICAL_ID = "ScheduleGroup"

# What jobsched.schedules.fire.fire() does to each table, and nothing more. It never touches
# groups (a fire's job joins none) and only reads lock (its kick starts an execution only when
# a slot is free: adapters/aws/kicker.py; the dispatcher claims).
FIRE_TABLE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    # find the schedule; record_fire sets its last_run
    "schedules": ("dynamodb:GetItem", "dynamodb:UpdateItem"),
    # an earlier delivery's Idempotency-Key record and job; the enqueue transaction's puts
    "jobs": ("dynamodb:GetItem", "dynamodb:PutItem"),
    # an earlier delivery's skipped run; a skipped fire's run
    "runs": ("dynamodb:GetItem", "dynamodb:PutItem"),
    # the template (cached); the enqueue transaction's check of its version
    "templates": ("dynamodb:GetItem", "dynamodb:ConditionCheckItem"),
    # the kick's look at the slots
    "lock": ("dynamodb:Query",),
}
# The overlap policy reads the schedule's newest jobs through this index of the jobs table.
FIRE_QUERY_INDEX = ("jobs", c.BY_SCHEDULE_INDEX)
# repair_drift: finds marked records (a query of the kind index), clears a marker, finishes a
# delete. catch_up_all then lists the schedules (the same index) and fires or skips their missed
# times as a fire does.
REPAIR_TABLE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    **FIRE_TABLE_ACTIONS,
    "schedules": ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
}
REPAIR_QUERY_INDEX = ("schedules", c.BY_KIND_INDEX)
# What creating and changing the group's schedules takes (jobsched/adapters/aws/scheduler.py).
MANAGE_SCHEDULE_ACTIONS = (
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
)


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tables: Mapping[str, dynamodb.ITable],
        table_environment: Mapping[str, str],
        state_machine_arn: str,
        alarm_topic: sns.ITopic | None = None,
        concurrency: Concurrency = Concurrency(),
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.tables = tables
        stack = Stack.of(self)
        self.group = scheduler.ScheduleGroup(
            self,
            "Group",
            schedule_group_name=constants.schedule_group_name(stage),
            # Deleting a group deletes its schedules: only a dev stack's go with the stack.
            removal_policy=removal_policy(stage),
        )
        cfn_group = self.group.node.default_child
        assert isinstance(cfn_group, scheduler.CfnScheduleGroup)
        cfn_group.override_logical_id(GROUP_LOGICAL_ID)
        # A reference rather than the literal name, so what names the group waits for it.
        self.group_name = cfn_group.ref
        # Every schedule of the group (`schedule/<group>/<name>`).
        self.schedules_arn = stack.format_arn(
            service="scheduler", resource="schedule", resource_name=f"{self.group_name}/*"
        )
        self.dead_letter_queue = dead_letter_queue(
            self,
            stage=stage,
            retention_days=constants.SCHEDULE_DLQ_RETENTION_DAYS,
            holds="the schedules' EventBridge targets and of the fire Lambda's asynchronous "
            "invocations",
        )
        base_environment = {
            **table_environment,
            "JOBSCHED_TABLE_PREFIX": constants.table_prefix(stage),
        }

        fire_role = self._function_role("FireRole", "schedule fire")
        self._grant_tables(fire_role, FIRE_TABLE_ACTIONS, FIRE_QUERY_INDEX)
        fire_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[state_machine_arn])
        )
        fire_role.add_to_principal_policy(
            iam.PolicyStatement(  # a leftover schedule (one without a record) deletes itself
                actions=["scheduler:DeleteSchedule"], resources=[self.schedules_arn]
            )
        )
        self._acknowledge_group_schedules(fire_role, "a fire deletes its leftover schedule")
        self.fire_function = self._function(
            "Fire",
            FIRE_HANDLER,
            fire_role,
            Duration.seconds(30),
            {
                **base_environment,
                "JOBSCHED_STATE_MACHINE_ARN": state_machine_arn,
                "JOBSCHED_SCHEDULE_GROUP": self.group_name,
            },
            # EventBridge invokes Lambda asynchronously: its retry policy covers the hand-over
            # only. A fire that raises (a store failure) is retried twice by Lambda, then kept
            # in the same queue, so the alarm sees it.
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
            retry_attempts=2,
            max_event_age=Duration.seconds(c.SCHEDULE_MAX_EVENT_AGE_SECONDS),
            # Fires beyond it wait in Lambda's queue (throttled events are retried for up to
            # the event age), rather than take the dispatcher's concurrency.
            reserved_concurrency=concurrency.reserved("fire"),
        )
        self.scheduler_role = self._scheduler_role()

        repair_role = self._function_role("RepairRole", "schedule drift repair")
        self._grant_tables(repair_role, REPAIR_TABLE_ACTIONS, REPAIR_QUERY_INDEX)
        self._grant_tables(repair_role, {}, FIRE_QUERY_INDEX)  # catch-up's overlap policy
        repair_role.add_to_principal_policy(  # a catch-up fire's kick, as a fire's
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[state_machine_arn])
        )
        self.grant_manage_schedules(repair_role)
        self.repair_function = self._function(
            "Repair",
            REPAIR_HANDLER,
            repair_role,
            Duration.minutes(2),
            {
                **base_environment,
                **self.environment(),
                "JOBSCHED_STATE_MACHINE_ARN": state_machine_arn,
            },
            reserved_concurrency=concurrency.reserved("repair"),
            without_dead_letter_queue=checkov.SCHEDULED_WITHOUT_RETRY,
        )
        self.repair_schedule = self._repair_schedule()
        self.dead_letter_alarm = self._dead_letter_alarm(alarm_topic)

    # --- for the functions that write schedules ------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The settings of a process that creates schedules (jobsched.settings.Settings)."""
        return {
            "JOBSCHED_SCHEDULE_GROUP": self.group_name,
            "JOBSCHED_SCHEDULE_TARGET_ARN": self.fire_function.function_arn,
            "JOBSCHED_SCHEDULE_ROLE_ARN": self.scheduler_role.role_arn,
            "JOBSCHED_SCHEDULE_DLQ_ARN": self.dead_letter_queue.queue_arn,
        }

    def grant_manage_schedules(self, role: iam.IRole) -> None:
        """Create, change, read and delete the group's schedules, handing them the scheduler
        role (CreateSchedule and UpdateSchedule pass it)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(MANAGE_SCHEDULE_ACTIONS), resources=[self.schedules_arn]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SCHEDULER_SERVICE}},
            )
        )
        self._acknowledge_group_schedules(role, "schedules are created per Schedule at runtime")

    # --- roles --------------------------------------------------------------------------------

    def _function_role(self, role_id: str, what: str) -> iam.Role:
        role = iam.Role(
            self,
            role_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"jobsched {what}",
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource("*"),
            nag.XRAY_TAKES_NO_RESOURCE,
        )
        return role

    def _grant_tables(
        self,
        role: iam.Role,
        table_actions: Mapping[str, tuple[str, ...]],
        query_index: tuple[str, str],
    ) -> None:
        for entity, actions in table_actions.items():
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(actions), resources=[self.tables[entity].table_arn]
                )
            )
        entity, index = query_index
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[f"{self.tables[entity].table_arn}/index/{index}"],
            )
        )

    def _acknowledge_group_schedules(self, role: iam.IRole, why: str) -> None:
        nag.acknowledge(
            role,
            nag.wildcard_resource(
                "arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:"
                f"schedule/<{GROUP_LOGICAL_ID}>/*"
            ),
            f"any schedule of the project's own group: {why}",
        )

    def _scheduler_role(self) -> iam.Role:
        """What EventBridge Scheduler assumes to run the group's schedules: invoke the fire
        function, and put what it cannot deliver into the dead-letter queue."""
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                SCHEDULER_SERVICE,
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    # The guide's confused-deputy page names the group's ARN (earlier versions
                    # the schedule's): either, of this group only.
                    "ArnLike": {
                        "aws:SourceArn": [self.group.schedule_group_arn, self.schedules_arn]
                    },
                },
            ),
            description="jobsched: EventBridge Scheduler invokes the schedule fire",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(  # the unqualified ARN, as the schedules name it
                actions=["lambda:InvokeFunction"], resources=[self.fire_function.function_arn]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[self.dead_letter_queue.queue_arn]
            )
        )
        return role

    # --- functions ----------------------------------------------------------------------------

    def _function(
        self,
        name: str,
        handler: str,
        role: iam.Role,
        timeout: Duration,
        environment: Mapping[str, str],
        **options: Any,
    ) -> lambda_.Function:
        return project_function(
            self,
            name,
            handler=handler,
            role=role,
            timeout=timeout,
            environment=environment,
            stage=self.stage,
            description=f"jobsched schedules: {handler}",
            **options,
        )

    def _repair_schedule(self) -> scheduler.Schedule:
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "RepairScheduleRole",
            assumed_by=iam.ServicePrincipal(
                SCHEDULER_SERVICE,
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="jobsched: EventBridge Scheduler invokes the schedule drift repair",
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource(f"<{nag.logical_id(self.repair_function)}.Arn>:*"),
            "CDK grants invoke on the repair function and its versions; only it is invoked",
        )
        # In the account's default group, like the sweeper's: the project's group holds one
        # schedule per Schedule and nothing else.
        return scheduler.Schedule(
            self,
            "RepairSchedule",
            schedule=scheduler.ScheduleExpression.rate(
                Duration.minutes(constants.SCHEDULE_REPAIR_RATE_MINUTES)
            ),
            description="jobsched: re-apply schedules whose EventBridge write was left unfinished",
            # The next repair is minutes away and does the same: no retries.
            target=scheduler_targets.LambdaInvoke(
                self.repair_function,
                role=role,
                retry_attempts=0,
                max_event_age=Duration.minutes(1),
            ),
        )

    def _dead_letter_alarm(self, topic: sns.ITopic | None) -> cloudwatch.Alarm:
        alarm = dead_letter_alarm(
            self,
            self.dead_letter_queue,
            description="jobsched: schedule fires that were not delivered or handled wait in "
            "the schedules' dead-letter queue",
        )
        if topic is not None:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        return alarm
