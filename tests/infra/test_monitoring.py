"""The monitoring construct as synthesised: an encrypted, TLS-only alarm topic CloudWatch may
publish to, each alarm's metric, dimensions, threshold and comparison with the topic as its
alarm and OK action, the service dimension the dispatcher's functions report with, the
dashboard's widgets, the outputs, and the context that configures it.

The whole stack's cdk-nag and cfn-lint checks are in tests/infra/test_data.py; this module's
synthesis runs cdk-nag too (a finding raises), and cfn-lint on the variant with an email."""

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from cfnlint.api import lint
from cfnlint.config import ManualArgs

from infra import constants
from infra.build import build_app, unreviewed_findings
from infra.constructs.monitoring import (
    SERVICE_ENV_VAR,
    MonitoringConfig,
    MonitoringContextError,
    service_name,
)
from jobsched.ports import metrics
from tests.support.synth import Synth as StackSynth

TOPIC = "MonitoringAlarmTopic"
KEY = "MonitoringAlarmKey"
ALARM = "AWS::CloudWatch::Alarm"
IMPORTED_API_ID = "a1b2c3d4e5"  # when the stack has no API of its own to watch
FUNCTIONS = {
    # alarm prefix -> the function's logical id prefix
    "MonitoringDispatcherClaimErrorsAlarm": "DispatcherClaimFunction",
    "MonitoringDispatcherFinishErrorsAlarm": "DispatcherFinishFunction",
    "MonitoringDispatcherClaimGroupJobErrorsAlarm": "DispatcherClaimGroupJobFunction",
    "MonitoringDispatcherFinishGroupJobErrorsAlarm": "DispatcherFinishGroupJobFunction",
    "MonitoringSweeperErrorsAlarm": "DispatcherSweeperFunction",
    "MonitoringScheduleFireErrorsAlarm": "SchedulesFireFunction",
    "MonitoringScheduleRepairErrorsAlarm": "SchedulesRepairFunction",
    "MonitoringWebhookErrorsAlarm": "WebhooksWebhookFunction",
}


class Synth(StackSynth):
    @property
    def api_id(self) -> Any:
        """The watched API's id, as the template holds it."""
        alarm = self.stack.monitoring.api_alarm
        assert alarm is not None
        metric = alarm.metric.to_metric_config().metric_stat
        assert metric is not None
        assert metric.dimensions is not None
        (api_id,) = [d.value for d in metric.dimensions if d.name == "ApiId"]
        return self.stack.resolve(api_id)

    @property
    def topic(self) -> dict[str, str]:
        return {"Ref": self.logical_id("AWS::SNS::Topic", TOPIC)}


def _synth(tmp_dir: Path, context: dict[str, Any] | None = None) -> Synth:
    app, stack = build_app(context, outdir=str(tmp_dir))
    monitoring = stack.monitoring
    if monitoring.api_alarm is None:
        # The stack composes no API yet: watch one by its id (an import creates nothing).
        monitoring.watch_api(
            apigwv2.HttpApi.from_http_api_attributes(
                stack, "WatchedApi", http_api_id=IMPORTED_API_ID
            )
        )
    return Synth.of(app, stack)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(tmp_path_factory.mktemp("monitoring"))


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return _synth(
        tmp_path_factory.mktemp("monitoring-prod"),
        {
            constants.STAGE_CONTEXT_KEY: "prod",
            constants.ALARM_EMAIL_CONTEXT_KEY: "oncall@example.com",
            constants.FAILED_RUNS_ALARM_THRESHOLD_CONTEXT_KEY: "5",  # `-c` gives strings
        },
    )


# --- the topic --------------------------------------------------------------------------------


def test_the_topic_is_encrypted_with_a_rotated_key_cloudwatch_may_use(synth: Synth) -> None:
    key = synth.logical_id("AWS::KMS::Key", KEY)
    assert synth.properties("AWS::SNS::Topic", TOPIC)["KmsMasterKeyId"] == {
        "Fn::GetAtt": [key, "Arn"]
    }
    properties = synth.properties("AWS::KMS::Key", KEY)
    assert properties["EnableKeyRotation"] is True
    # alias/aws/sns would not do: its policy cannot let CloudWatch alarms publish.
    (cloudwatch,) = [
        s
        for s in properties["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert (cloudwatch["Effect"], sorted(cloudwatch["Action"])) == (
        "Allow",
        ["kms:Decrypt", "kms:GenerateDataKey*"],
    )


def test_the_topic_takes_tls_only_and_alarms_of_this_account(synth: Synth) -> None:
    (policy,) = [
        p
        for p in synth.resources("AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [synth.topic]
    ]
    deny, allow = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "sns:Publish")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert (allow["Effect"], allow["Action"]) == ("Allow", "sns:Publish")
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    (source,) = allow["Condition"]["ArnLike"].values()
    assert source["Fn::Join"][1][-1] == ":alarm:*"


def test_email_only_when_asked(synth: Synth, prod: Synth) -> None:
    assert synth.resources("AWS::SNS::Subscription") == {}
    (subscription,) = prod.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {
        "Protocol": "email",
        "TopicArn": prod.topic,
        "Endpoint": "oncall@example.com",
    }


def test_the_key_is_kept_outside_dev(synth: Synth, prod: Synth) -> None:
    assert synth.resource("AWS::KMS::Key", KEY)["DeletionPolicy"] == "Delete"
    assert prod.resource("AWS::KMS::Key", KEY)["DeletionPolicy"] == "RetainExceptOnCreate"


# --- the alarms -------------------------------------------------------------------------------


def _alarm(synth: Synth, prefix: str) -> dict[str, Any]:
    return synth.properties(ALARM, prefix)


def _watched(synth: Synth, prefix: str) -> tuple[Any, ...]:
    """(namespace, metric, dimensions, statistic, period, threshold, comparison)."""
    alarm = _alarm(synth, prefix)
    # Every alarm tells the topic when it fires and when it clears, and nobody else.
    assert alarm["AlarmActions"] == [synth.topic]
    assert alarm["OKActions"] == [synth.topic]
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"  # counts: no data is nothing happened
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    return (
        alarm["Namespace"],
        alarm["MetricName"],
        dimensions,
        alarm["Statistic"],
        alarm["Period"],
        alarm["Threshold"],
        alarm["ComparisonOperator"],
    )


AT_LEAST = "GreaterThanOrEqualToThreshold"


def test_failed_runs(synth: Synth, prod: Synth) -> None:
    assert _watched(synth, "MonitoringFailedRunsAlarm") == (
        "jobsched",
        "RunsFailed",
        {"service": "jobsched-dev"},
        "Sum",
        300,
        3,
        AT_LEAST,
    )
    assert _watched(prod, "MonitoringFailedRunsAlarm")[2:] == (
        {"service": "jobsched-prod"},
        "Sum",
        300,
        5,  # failed_runs_alarm_threshold
        AT_LEAST,
    )


def test_stuck_runs(synth: Synth) -> None:
    assert _watched(synth, "MonitoringStuckRunsAlarm") == (
        metrics.NAMESPACE,
        metrics.RUNS_RECOVERED,
        {"service": "jobsched-dev"},
        "Sum",
        300,
        1,
        AT_LEAST,
    )


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"])
def test_dispatcher_executions(synth: Synth, metric: str) -> None:
    state_machine = synth.logical_id("AWS::StepFunctions::StateMachine", "DispatcherStateMachine")
    assert _watched(synth, f"Monitoring{metric}Alarm") == (
        "AWS/States",
        metric,
        {"StateMachineArn": {"Ref": state_machine}},
        "Sum",
        300,
        1,
        AT_LEAST,
    )


@pytest.mark.parametrize("construct", ["Schedules", "Webhooks"])
def test_dead_letter_queues_notify_the_topic(synth: Synth, construct: str) -> None:
    queue = synth.logical_id("AWS::SQS::Queue", f"{construct}DeadLetterQueue")
    assert _watched(synth, f"{construct}DeadLetterAlarm") == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}},
        "Maximum",
        60,
        0,
        "GreaterThanThreshold",  # not empty
    )


def test_each_dead_letter_queue_has_one_alarm(synth: Synth) -> None:
    """The queues' own alarms notify the topic; monitoring adds none beside them."""
    sqs = [a for a in synth.resources(ALARM).values() if a["Properties"]["Namespace"] == "AWS/SQS"]
    assert len(sqs) == 2


@pytest.mark.parametrize(("alarm", "function"), FUNCTIONS.items())
def test_function_errors(synth: Synth, alarm: str, function: str) -> None:
    function_id = synth.logical_id("AWS::Lambda::Function", function)
    assert _watched(synth, alarm) == (
        "AWS/Lambda",
        "Errors",
        {"FunctionName": {"Ref": function_id}},
        "Sum",
        300,
        1,
        AT_LEAST,
    )


def _variables(function: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = function["Properties"].get("Environment", {}).get("Variables", {})
    return variables


def test_every_project_function_is_watched(synth: Synth) -> None:
    """Ours (they read jobsched settings), not CDK's helpers; the seed runs at deployment,
    where a failure fails the deployment itself."""
    watched = {
        _alarm(synth, logical_id)["Dimensions"][0]["Value"]["Ref"]
        for logical_id, alarm in synth.resources(ALARM).items()
        if alarm["Properties"]["Namespace"] == "AWS/Lambda"
    }
    ours = {
        logical_id
        for logical_id, function in synth.resources("AWS::Lambda::Function").items()
        if "JOBSCHED_TABLE_PREFIX" in _variables(function)
        and not function["Properties"]["Handler"].startswith("functions.seed")
    }
    assert watched == ours


def test_api_5xx(synth: Synth) -> None:
    assert _watched(synth, "MonitoringApi5xxAlarm") == (
        "AWS/ApiGateway",
        "5xx",
        {"ApiId": synth.api_id, "Stage": "$default"},
        "Sum",
        300,
        1,
        AT_LEAST,
    )


def test_every_alarm_notifies_the_topic(synth: Synth) -> None:
    for logical_id in synth.resources(ALARM):
        _watched(synth, logical_id)


# --- where the app's metrics come from --------------------------------------------------------


def test_the_functions_that_report_name_the_alarms_service(synth: Synth) -> None:
    reporting = {
        logical_id: function["Properties"]["Environment"]["Variables"].get(SERVICE_ENV_VAR)
        for logical_id, function in synth.resources("AWS::Lambda::Function").items()
        if logical_id.startswith("Dispatcher")
    }
    assert len(reporting) == 5  # four steps and the sweeper
    assert set(reporting.values()) == {service_name("dev")} == {"jobsched-dev"}


def test_the_sink_reads_that_service(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions import metrics as function_metrics

    monkeypatch.setenv(SERVICE_ENV_VAR, service_name("dev"))
    function_metrics.sink.cache_clear()
    try:
        sink = function_metrics.sink()
        assert (sink.metrics.namespace, sink.metrics.service) == ("jobsched", "jobsched-dev")
    finally:
        function_metrics.sink.cache_clear()


# --- the dashboard ----------------------------------------------------------------------------


def _dashboard(synth: Synth) -> dict[str, Any]:
    body = synth.properties("AWS::CloudWatch::Dashboard", "MonitoringDashboard")["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    # References sit inside JSON strings (the region, ids): a placeholder keeps them strings.
    text = "".join(part if isinstance(part, str) else "<reference>" for part in parts)
    dashboard: dict[str, Any] = json.loads(text)
    return dashboard


def _widgets(synth: Synth) -> dict[str, list[tuple[str, str, str]]]:
    """Each widget's (namespace, metric, statistic) by title."""
    widgets = {}
    for widget in _dashboard(synth)["widgets"]:
        properties = widget["properties"]
        rows = []
        for row in properties["metrics"]:
            options = row[-1] if isinstance(row[-1], dict) else {}
            rows.append((row[0], row[1], options.get("stat", "Average")))
        widgets[properties["title"]] = rows
    return widgets


def test_the_dashboard_shows_the_queue_the_runs_the_dispatcher_and_the_api(synth: Synth) -> None:
    widgets = _widgets(synth)
    assert widgets["Queue depth (queued jobs)"] == [("jobsched", "QueueDepth", "Maximum")]
    assert widgets["Queue wait (s)"] == [
        ("jobsched", "QueueWait", "p50"),
        ("jobsched", "QueueWait", "p90"),
    ]
    assert widgets["Run duration (s)"] == [
        ("jobsched", "RunDuration", "p50"),
        ("jobsched", "RunDuration", "p90"),
    ]
    assert widgets["Run outcomes"] == [
        ("jobsched", "RunsCompleted", "Sum"),
        ("jobsched", "RunsFailed", "Sum"),
        ("jobsched", "RunsRecovered", "Sum"),
    ]
    assert {metric for _, metric, _ in widgets["Dispatcher executions"]} == {
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
    }
    assert (
        widgets["Dead-letter queues (messages)"]
        == [("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")] * 2
    )
    assert widgets["Model tokens"] == [
        ("jobsched", "PromptTokens", "Sum"),
        ("jobsched", "CompletionTokens", "Sum"),
    ]
    assert widgets["Model cost (US$)"] == [("jobsched", "ModelCostUSD", "Sum")]
    assert {metric for _, metric, _ in widgets["API requests"]} == {"Count", "4xx", "5xx"}
    assert ("AWS/ApiGateway", "Latency", "p90") in widgets["API latency (ms)"]
    assert len(widgets["Function errors"]) == len(synth.stack.monitoring.function_alarms)


def test_the_dashboards_app_metrics_are_this_stages(synth: Synth) -> None:
    for widget in _dashboard(synth)["widgets"]:
        for row in widget["properties"]["metrics"]:
            if row[0] == "jobsched":
                assert row[2:4] == ["service", "jobsched-dev"]


# --- outputs and context ----------------------------------------------------------------------


def test_outputs_name_the_topic_and_the_dashboard(synth: Synth) -> None:
    outputs = synth.json["Outputs"]
    dashboard = synth.logical_id("AWS::CloudWatch::Dashboard", "MonitoringDashboard")
    assert outputs["AlarmTopicArn"]["Value"] == synth.topic  # a topic's Ref: its ARN
    assert outputs["DashboardName"]["Value"] == {"Ref": dashboard}


def test_cdk_json_names_the_context_keys() -> None:
    from infra.build import context_defaults

    defaults = context_defaults()
    assert defaults[constants.ALARM_EMAIL_CONTEXT_KEY] is None
    assert defaults[constants.FAILED_RUNS_ALARM_THRESHOLD_CONTEXT_KEY] == 3


@pytest.mark.parametrize(
    ("context", "config"),
    [
        ({}, MonitoringConfig(None, 3)),
        ({"alarm_email": "", "failed_runs_alarm_threshold": "null"}, MonitoringConfig(None, 3)),
        (
            {"alarm_email": " a@b.io ", "failed_runs_alarm_threshold": 10},
            MonitoringConfig("a@b.io", 10),
        ),
    ],
)
def test_config_from_context(context: dict[str, Any], config: MonitoringConfig) -> None:
    assert MonitoringConfig.from_context(Stack(App(context=context), "s")) == config


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"alarm_email": "oncall"}, "alarm_email='oncall': must be an email address"),
        ({"failed_runs_alarm_threshold": 0}, "failed_runs_alarm_threshold=0: must be 1 or more"),
        ({"failed_runs_alarm_threshold": "x"}, "must be a whole number"),
        ({"failed_runs_alarm_threshold": True}, "must be a whole number"),
    ],
)
def test_bad_context_fails_synthesis_with_the_key(context: dict[str, Any], message: str) -> None:
    with pytest.raises(MonitoringContextError, match=message.replace("(", r"\(")):
        MonitoringConfig.from_context(Stack(App(context=context), "s"))


# --- checks -----------------------------------------------------------------------------------


def test_cdk_nag_leaves_nothing_unreviewed(synth: Synth, prod: Synth) -> None:
    assert unreviewed_findings(synth.assembly) == []
    assert unreviewed_findings(prod.assembly) == []


def test_cfn_lint_passes_with_an_email_subscription(prod: Synth) -> None:
    matches = lint(
        json.dumps(prod.json), config=ManualArgs(ignore_checks=["W3005"], regions=["us-east-1"])
    )
    assert [str(match) for match in matches] == []
