"""The one stack of a stage: composes the capability constructs, holds no resources itself."""

from aws_cdk import Aspects, CfnOutput, Environment, Stack, Tags
from constructs import Construct

from infra import checkov, constants
from infra.config import DeployConfig
from infra.constructs import Data, Dispatcher, Execution, Schedules, Webhooks
from infra.constructs.api import Api
from infra.constructs.monitoring import Monitoring


class SchedulerStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        env: Environment | None = None,
    ) -> None:
        constants.validate_stage(stage)
        super().__init__(
            scope,
            construct_id,
            stack_name=constants.stack_name(stage),
            description=f"{constants.APP_NAME} job scheduler ({stage})",
            env=env,
        )
        self.stage = stage
        Tags.of(self).add("app", constants.APP_NAME)
        Tags.of(self).add("stage", stage)
        self.config = DeployConfig.from_context(self)
        self.config.apply(self)
        Aspects.of(self).add(checkov.Acknowledgments())
        self.data = Data(
            self,
            "Data",
            stage=stage,
            environment=self.config.settings_environment(),
            deletion_protection=self.config.table_deletion_protection,
        )
        self.execution = Execution(
            self,
            "Execution",
            stage=stage,
            tables=self.data.tables,
            task_cpu=self.config.task_cpu,
            task_memory_mib=self.config.task_memory_mib,
            artifact_retention_days=self.config.history_retention_days,
            model_provider=self.config.model_provider,
            model_keys_secret_arn=self.config.model_keys_secret_arn,
        )
        self.dispatcher = Dispatcher(
            self,
            "Dispatcher",
            stage=stage,
            tables=self.data.tables,
            table_environment=self.data.settings_environment(),
            execution=self.execution,
            group_width=self.config.group_width,
            concurrency=self.config.concurrency,
        )
        self.schedules = Schedules(
            self,
            "Schedules",
            stage=stage,
            tables=self.data.tables,
            table_environment=self.data.settings_environment(),
            state_machine_arn=self.dispatcher.state_machine_arn,
            concurrency=self.config.concurrency,
        )
        self.webhooks = Webhooks(
            self,
            "Webhooks",
            stage=stage,
            tables=self.data.tables,
            table_environment=self.data.settings_environment(),
            concurrency=self.config.concurrency,
        )
        # Every dispatcher function may end a group (a finish, a recovery by the sweeper).
        self.webhooks.notify_from(
            [*self.dispatcher.step_functions.values(), self.dispatcher.sweeper]
        )
        # Alarms (to one topic) and the dashboard; the dispatcher's functions report metrics.
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            dispatcher=self.dispatcher,
            schedules=self.schedules,
            webhooks=self.webhooks,
        )
        # The HTTP API and the default templates' seed; its outputs (ApiUrl) are its own.
        self.api = Api(
            self,
            "Api",
            stage=stage,
            data=self.data,
            execution=self.execution,
            dispatcher=self.dispatcher,
            schedules=self.schedules,
            webhooks=self.webhooks,
            concurrency=self.config.concurrency,
        )
        self.monitoring.watch_functions({"Api": self.api.function})
        self.monitoring.watch_api(self.api.http_api, self.api.default_stage.stage_name)
        self._outputs()

    def _outputs(self) -> None:
        # Pinned logical ids: deploy scripts and the API's settings read them by name.
        for output_id, value, description in (
            (
                "DispatcherStateMachineArn",
                self.dispatcher.state_machine.state_machine_arn,
                "The dispatcher state machine (JOBSCHED_STATE_MACHINE_ARN)",
            ),
            (
                "ArtifactsBucketName",
                self.execution.bucket.bucket_name,
                "Run outputs under runs/<unit id>/ (JOBSCHED_ARTIFACTS_BUCKET)",
            ),
            (
                "ClusterName",
                self.execution.cluster.cluster_name,
                "The ECS cluster the jobs run in (JOBSCHED_CLUSTER)",
            ),
            (
                "TaskDefinitionArn",
                self.execution.task_definition.task_definition_arn,
                "The worker task definition (JOBSCHED_TASK_DEFINITION)",
            ),
            (
                "TaskLogGroupName",
                self.execution.log_group.log_group_name,
                "Worker task logs (JOBSCHED_LOG_GROUP)",
            ),
            (
                "ScheduleGroupName",
                self.schedules.group_name,
                "EventBridge Scheduler group of the schedules (JOBSCHED_SCHEDULE_GROUP)",
            ),
            (
                "ScheduleTargetArn",
                self.schedules.fire_function.function_arn,
                "The schedule fire function (JOBSCHED_SCHEDULE_TARGET_ARN)",
            ),
            (
                "ScheduleRoleArn",
                self.schedules.scheduler_role.role_arn,
                "Role the schedules invoke it with (JOBSCHED_SCHEDULE_ROLE_ARN)",
            ),
            (
                "WebhookFunctionName",
                self.webhooks.function.function_name,
                "The group webhook function (JOBSCHED_WEBHOOK_FUNCTION)",
            ),
            (
                "WebhookSecretArn",
                self.webhooks.secret.secret_arn,
                "The webhook signing key, for receivers (JOBSCHED_WEBHOOK_SECRET_ARN)",
            ),
            (
                "ScheduleDeadLetterQueueArn",
                self.schedules.dead_letter_queue.queue_arn,
                "Fires not delivered or handled (JOBSCHED_SCHEDULE_DLQ_ARN)",
            ),
            (
                "AlarmTopicArn",
                self.monitoring.topic.topic_arn,
                "The topic every alarm notifies (subscribe to it, or set alarm_email)",
            ),
            (
                "DashboardName",
                self.monitoring.dashboard.dashboard_name,
                "The stage's CloudWatch dashboard",
            ),
        ):
            output = CfnOutput(self, output_id, value=value, description=description)
            output.override_logical_id(output_id)
