"""Monitoring: the alarms of a stage, the topic they notify, and its dashboard.

The app's own metrics (jobsched/ports/metrics.py) come from the dispatcher's Lambdas as embedded
metric format, namespace `jobsched`, dimension `service` = `jobsched-<stage>`, which this
construct gives those functions (POWERTOOLS_SERVICE_NAME) so the two always agree. AWS's
metrics cover the rest: the state machine's executions, the dead-letter queues, the functions'
errors and, through `watch_api`, the HTTP API.

Every alarm notifies the topic when it fires and when it clears; every one counts events, so a
period without data (nothing ran, an idle queue) is not a breach. docs/decisions.md,
"Monitoring", gives the thresholds and why.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants
from infra.constructs.dispatcher import Dispatcher
from infra.constructs.execution import removal_policy
from infra.constructs.schedules import Schedules
from infra.constructs.webhooks import Webhooks
from jobsched.ports import metrics

SERVICE_ENV_VAR: Final = "POWERTOOLS_SERVICE_NAME"
CLOUDWATCH_SERVICE: Final = "cloudwatch.amazonaws.com"
# Counts are summed over five minutes: a burst of failures is one notification, not five.
COUNT_PERIOD: Final = Duration.minutes(5)
GRAPH_PERIOD: Final = Duration.minutes(5)
API_STAGE: Final = "$default"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def service_name(stage: str) -> str:
    """The `service` dimension of a stage's metrics."""
    return f"{constants.APP_NAME}-{stage}"


class MonitoringContextError(ValueError):
    """A context value of monitoring the app cannot deploy."""


@dataclass(frozen=True)
class MonitoringConfig:
    alarm_email: str | None = None
    failed_runs_threshold: int = constants.DEFAULT_FAILED_RUNS_ALARM_THRESHOLD

    def __post_init__(self) -> None:
        if self.alarm_email is not None and not _EMAIL.fullmatch(self.alarm_email):
            raise MonitoringContextError(
                f"{constants.ALARM_EMAIL_CONTEXT_KEY}={self.alarm_email!r}: must be an email "
                "address"
            )
        if self.failed_runs_threshold < 1:
            raise MonitoringContextError(
                f"{constants.FAILED_RUNS_ALARM_THRESHOLD_CONTEXT_KEY}="
                f"{self.failed_runs_threshold}: must be 1 or more failed runs"
            )

    @classmethod
    def from_context(cls, scope: Construct) -> "MonitoringConfig":
        """`-c key=value` gives strings, cdk.json JSON values: both are accepted."""
        email = scope.node.try_get_context(constants.ALARM_EMAIL_CONTEXT_KEY)
        threshold = scope.node.try_get_context(constants.FAILED_RUNS_ALARM_THRESHOLD_CONTEXT_KEY)
        return cls(
            alarm_email=None if email in (None, "", "null") else str(email).strip(),
            failed_runs_threshold=_threshold(threshold),
        )


def _threshold(value: Any) -> int:
    key = constants.FAILED_RUNS_ALARM_THRESHOLD_CONTEXT_KEY
    if value in (None, "", "null"):
        return constants.DEFAULT_FAILED_RUNS_ALARM_THRESHOLD
    if isinstance(value, bool):
        raise MonitoringContextError(f"{key}={value!r}: must be a whole number")
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise MonitoringContextError(f"{key}={value!r}: must be a whole number") from exc


class Monitoring(Construct):
    """Public: `topic`, `key`, `dashboard`, `config`, `service`, and the alarms:
    `failed_runs_alarm`, `stuck_runs_alarm`, `execution_alarms` (by metric), `function_alarms`
    (by name), `dead_letter_alarms` (the schedules' and the webhooks'), `api_alarm` (after
    `watch_api`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        dispatcher: Dispatcher,
        schedules: Schedules,
        webhooks: Webhooks,
        config: MonitoringConfig | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.config = config or MonitoringConfig.from_context(self)
        self.service = service_name(stage)
        self.key, self.topic = self._topic()
        for function in [*dispatcher.step_functions.values(), dispatcher.sweeper]:
            function.add_environment(SERVICE_ENV_VAR, self.service)
        self.failed_runs_alarm = self._alarm(
            "FailedRunsAlarm",
            self.app_metric(metrics.RUNS_FAILED, cloudwatch.Stats.SUM),
            self.config.failed_runs_threshold,
            "runs failed (their task exited non-zero, timed out, could not start, or was lost)",
        )
        self.stuck_runs_alarm = self._alarm(
            "StuckRunsAlarm",
            self.app_metric(metrics.RUNS_RECOVERED, cloudwatch.Stats.SUM),
            1,
            "units were recovered by the sweeper: no heartbeat for three periods (a lost "
            "worker or dispatcher)",
        )
        self.execution_alarms = self._execution_alarms(dispatcher.state_machine)
        # The dead-letter queues' alarms are their constructs' own: they notify here.
        self.dead_letter_alarms = {
            "Schedules": schedules.dead_letter_alarm,
            "Webhooks": webhooks.dead_letter_alarm,
        }
        for alarm in self.dead_letter_alarms.values():
            self._notify(alarm)
        self.api_alarm: cloudwatch.Alarm | None = None

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{constants.APP_NAME}-{stage}-{Stack.of(self).region}",
            default_interval=Duration.hours(6),
        )
        # Filled in by watch_functions, here and from the stack.
        self.function_alarms: dict[str, cloudwatch.Alarm] = {}
        self._errors = self._graph("Function errors", [])
        self.watch_functions(
            {
                **{f"Dispatcher{name}": f for name, f in dispatcher.step_functions.items()},
                "Sweeper": dispatcher.sweeper,
                "ScheduleFire": schedules.fire_function,
                "ScheduleRepair": schedules.repair_function,
                "Webhook": webhooks.function,
            }
        )
        self._rows(dispatcher, schedules, webhooks)

    # --- what the stack adds ----------------------------------------------------------------

    def watch_functions(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """An alarm on each function's errors (a raised exception, a timeout, a crash)."""
        for name, function in functions.items():
            self._errors.add_left_metric(function.metric_errors(period=GRAPH_PERIOD, label=name))
            self.function_alarms[name] = self._alarm(
                f"{name}ErrorsAlarm",
                function.metric_errors(period=COUNT_PERIOD, statistic=cloudwatch.Stats.SUM),
                1,
                f"the {name} function raised, timed out or crashed",
            )

    def watch_api(self, http_api: apigwv2.IHttpApi, stage_name: str = API_STAGE) -> None:
        """An alarm on the HTTP API's 5xx answers (never a client's mistake: invariant 7), and
        its requests, errors and latency on the dashboard."""

        def api_metric(name: str, statistic: str, label: str | None = None) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/ApiGateway",
                metric_name=name,
                dimensions_map={"ApiId": http_api.api_id, "Stage": stage_name},
                statistic=statistic,
                period=COUNT_PERIOD,
                label=label,
            )

        self.api_alarm = self._alarm(
            "Api5xxAlarm",
            api_metric("5xx", cloudwatch.Stats.SUM),  # a label would make it metric math
            1,
            "the API answered 5xx (a bug or an outage: no client mistake gives one)",
        )
        self.dashboard.add_widgets(
            self._graph(
                "API requests",
                [
                    api_metric("Count", cloudwatch.Stats.SUM, "requests"),
                    api_metric("4xx", cloudwatch.Stats.SUM, "4xx"),
                    api_metric("5xx", cloudwatch.Stats.SUM, "5xx"),
                ],
            ),
            self._graph(
                "API latency (ms)",
                [
                    api_metric("Latency", cloudwatch.Stats.p(50), "p50"),
                    api_metric("Latency", cloudwatch.Stats.p(90), "p90"),
                    api_metric("IntegrationLatency", cloudwatch.Stats.p(90), "integration p90"),
                ],
            ),
        )

    def app_metric(
        self, name: str, statistic: str, period: Duration = COUNT_PERIOD, label: str | None = None
    ) -> cloudwatch.Metric:
        """One of the app's own metrics (jobsched/ports/metrics.py) of this stage."""
        return cloudwatch.Metric(
            namespace=metrics.NAMESPACE,
            metric_name=name,
            dimensions_map={"service": self.service},
            statistic=statistic,
            period=period,
            label=label,
        )

    # --- the topic ----------------------------------------------------------------------------

    def _topic(self) -> tuple[kms.Key, sns.Topic]:
        """Encrypted with a key of our own: CloudWatch alarms cannot publish to a topic under
        the AWS-managed alias/aws/sns, whose policy cannot let them use it."""
        key = kms.Key(
            self,
            "AlarmKey",
            description=f"jobsched {self.stage}: encrypts the alarm topic",
            enable_key_rotation=True,
            removal_policy=removal_policy(self.stage),
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(CLOUDWATCH_SERVICE)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy: this key
            )
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"jobsched {self.stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        stack = Stack.of(self)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(CLOUDWATCH_SERVICE)],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        if self.config.alarm_email is not None:
            topic.add_subscription(subscriptions.EmailSubscription(self.config.alarm_email))
        return key, topic

    # --- alarms and widgets -------------------------------------------------------------------

    def _alarm(
        self, alarm_id: str, metric: cloudwatch.IMetric, threshold: float, what: str
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            # Counts of events: no data is nothing happened.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"jobsched {self.stage}: {what}",
        )
        self._notify(alarm)
        return alarm

    def _notify(self, alarm: cloudwatch.Alarm) -> None:
        action = cloudwatch_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)

    def _rows(self, dispatcher: Dispatcher, schedules: Schedules, webhooks: Webhooks) -> None:
        """The queue and its runs; outcomes, the dispatcher and what failed; the API's rows
        come with `watch_api`."""
        minute = Duration.minutes(1)
        sum_, maximum = cloudwatch.Stats.SUM, cloudwatch.Stats.MAXIMUM
        self.dashboard.add_widgets(
            self._graph(
                "Queue depth (queued jobs)",
                [self.app_metric(metrics.QUEUE_DEPTH, maximum, minute, "queued")],
            ),
            self._graph("Queue wait (s)", self._percentiles(metrics.QUEUE_WAIT)),
            self._graph("Run duration (s)", self._percentiles(metrics.RUN_DURATION)),
        )
        state_machine = dispatcher.state_machine
        self.dashboard.add_widgets(
            self._graph(
                "Run outcomes",
                [
                    self.app_metric(metrics.RUNS_COMPLETED, sum_, label="completed"),
                    self.app_metric(metrics.RUNS_FAILED, sum_, label="failed"),
                    self.app_metric(metrics.RUNS_RECOVERED, sum_, label="recovered (stuck)"),
                ],
            ),
            self._graph(
                "Dispatcher executions",
                [
                    state_machine.metric_started(period=GRAPH_PERIOD, label="started"),
                    state_machine.metric_succeeded(period=GRAPH_PERIOD, label="succeeded"),
                    state_machine.metric_failed(period=GRAPH_PERIOD, label="failed"),
                    state_machine.metric_timed_out(period=GRAPH_PERIOD, label="timed out"),
                    state_machine.metric_aborted(period=GRAPH_PERIOD, label="aborted"),
                ],
            ),
            self._graph(
                "Dead-letter queues (messages)",
                [
                    queue.metric_approximate_number_of_messages_visible(
                        period=GRAPH_PERIOD, statistic=maximum, label=label
                    )
                    for label, queue in (
                        ("schedules", schedules.dead_letter_queue),
                        ("webhooks", webhooks.dead_letter_queue),
                    )
                ],
            ),
        )
        self.dashboard.add_widgets(
            self._graph(
                "Model tokens",
                [
                    self.app_metric(metrics.PROMPT_TOKENS, sum_, label="prompt"),
                    self.app_metric(metrics.COMPLETION_TOKENS, sum_, label="completion"),
                ],
            ),
            self._graph(
                "Model cost (US$)", [self.app_metric(metrics.MODEL_COST, sum_, label="cost")]
            ),
        )
        self.dashboard.add_widgets(self._errors)

    def _execution_alarms(self, state_machine: sfn.StateMachine) -> dict[str, cloudwatch.Alarm]:
        """Executions of the dispatcher that did not end well (AWS/States, by its ARN)."""
        return {
            "ExecutionsFailed": self._alarm(
                "ExecutionsFailedAlarm",
                state_machine.metric_failed(period=COUNT_PERIOD),
                1,
                "dispatcher executions failed: units may wait until the sweeper kicks again",
            ),
            "ExecutionsTimedOut": self._alarm(
                "ExecutionsTimedOutAlarm",
                state_machine.metric_timed_out(period=COUNT_PERIOD),
                1,
                "dispatcher executions timed out",
            ),
            "ExecutionsAborted": self._alarm(
                "ExecutionsAbortedAlarm",
                state_machine.metric_aborted(period=COUNT_PERIOD),
                1,
                "dispatcher executions were aborted (stopped by hand, or a deployment)",
            ),
        }

    def _percentiles(self, name: str) -> list[cloudwatch.IMetric]:
        return [
            self.app_metric(name, cloudwatch.Stats.p(p), GRAPH_PERIOD, f"p{p}") for p in (50, 90)
        ]

    @staticmethod
    def _graph(title: str, metrics_: Iterable[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(title=title, left=list(metrics_), width=8, height=6)
