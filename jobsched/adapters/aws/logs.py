"""A run's log lines from CloudWatch Logs (the awslogs driver of its ECS task)."""

from functools import cached_property
from typing import TYPE_CHECKING, Any

from jobsched.adapters.aws.clients import aws_errors, client_options, error_code
from jobsched.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

MAX_EVENTS = 10_000  # GetLogEvents' own limit


class CloudWatchLogReader:
    """LogReader: `log_path` is the run's stream in `settings.log_group`; the cursor is
    CloudWatch's forward token, so a client following a running job resumes where it was.

    A stream that does not exist yet (the task is starting) reads as no lines, same cursor.
    """

    def __init__(self, settings: Settings, client: "CloudWatchLogsClient | None" = None) -> None:
        self.settings = settings
        if client is not None:
            self.__dict__["client"] = client

    @cached_property
    def client(self) -> "CloudWatchLogsClient":
        import boto3

        return boto3.client("logs", **client_options(self.settings))

    def read(
        self, log_path: str | None, cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        if not log_path or not self.settings.log_group:
            return [], cursor
        request: dict[str, Any] = {
            "logGroupName": self.settings.log_group,
            "logStreamName": log_path,
            "startFromHead": True,
            "limit": max(1, min(limit, MAX_EVENTS)),
        }
        if cursor:
            request["nextToken"] = cursor
        from botocore.exceptions import ClientError

        try:
            with aws_errors("CloudWatch Logs"):
                response = self.client.get_log_events(**request)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return [], cursor
            raise
        lines = [event.get("message", "") for event in response.get("events", [])]
        return lines, response.get("nextForwardToken") or cursor
