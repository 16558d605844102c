"""Dead-letter queues: what a Lambda's asynchronous invocations (or a scheduler's targets) could
not deliver or handle waits in one, encrypted and TLS-only, and an alarm says so.

Both are made in the caller's scope, with the ids `DeadLetterQueue` and `DeadLetterAlarm`, so
their logical ids are the caller's (a queue is stateful: its id must not move).
"""

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import nag
from infra.constructs.execution import removal_policy


def dead_letter_queue(
    scope: Construct, *, stage: str, retention_days: int, holds: str
) -> sqs.Queue:
    """SQS-managed encryption, TLS only, kept with the stage's removal policy; `holds` says
    whose failures it keeps (cdk-nag's reason that it has no dead-letter queue of its own)."""
    queue = sqs.Queue(
        scope,
        "DeadLetterQueue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(retention_days),
        removal_policy=removal_policy(stage),
    )
    nag.acknowledge(
        queue,
        "AwsSolutions-SQS3",
        f"this is the dead-letter queue itself (of {holds}); nothing consumes it automatically",
    )
    return queue


def dead_letter_alarm(scope: Construct, queue: sqs.IQueue, *, description: str) -> cloudwatch.Alarm:
    """In alarm while any message waits in the queue (checked every minute)."""
    return cloudwatch.Alarm(
        scope,
        "DeadLetterAlarm",
        metric=queue.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
        ),
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        # SQS stops reporting an empty, idle queue.
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
