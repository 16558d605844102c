"""The AWS adapters beyond DynamoDB: Step Functions (kick), ECS (task overrides, stop, how a
task ended), CloudWatch Logs (run logs), EventBridge Scheduler (schedules), and the dispatcher
state machine's steps.

boto3 loads on first use of a client, never at import."""

from jobsched.adapters.aws.ecs import EcsTaskStopper, log_stream_name
from jobsched.adapters.aws.kicker import StepFunctionsKicker
from jobsched.adapters.aws.logs import CloudWatchLogReader
from jobsched.adapters.aws.overrides import WORKER_ENVIRONMENT, ecs_overrides
from jobsched.adapters.aws.scheduler import EventBridgeScheduleSync, schedule_sync
from jobsched.adapters.aws.wiring import aws_dispatcher, aws_stores, state_machine_steps

__all__ = [
    "WORKER_ENVIRONMENT",
    "CloudWatchLogReader",
    "EcsTaskStopper",
    "EventBridgeScheduleSync",
    "StepFunctionsKicker",
    "aws_dispatcher",
    "aws_stores",
    "ecs_overrides",
    "log_stream_name",
    "schedule_sync",
    "state_machine_steps",
]
