"""A run's log lines from CloudWatch Logs (the awslogs driver of its ECS task)."""

import re
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jobsched.adapters.aws.clients import aws_errors, client_options, error_code
from jobsched.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

MAX_EVENTS = 10_000  # GetLogEvents' own limit
UNIT_ID = re.compile(r"(run|rsv)_[0-9a-z]{26}")
FILTER_CURSOR = "f:"


class CloudWatchLogReader:
    """LogReader: `log_path` is the run's stream in `settings.log_group`; the cursor is
    CloudWatch's forward token, so a client following a running job resumes where it was.

    While a unit runs its stream is not known yet (the finish records it), so `log_path` is the
    unit's id: every line the worker writes carries it, and FilterLogEvents finds them across
    the group. A filter cursor ("f:<unit>:<token>") keeps filtering after the run ends, so a
    client never mixes the two kinds of token. A stream that does not exist yet reads as no
    lines.
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
        if cursor and cursor.startswith(FILTER_CURSOR):
            unit, _, token = cursor.removeprefix(FILTER_CURSOR).partition(":")
            return self._filter(unit, token, limit)
        if UNIT_ID.fullmatch(log_path):
            return self._filter(log_path, None, limit)
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

    def _filter(self, unit_id: str, token: str | None, limit: int) -> tuple[list[str], str]:
        """The unit's lines across the log group; the cursor holds the unit and the token, so
        the same request is repeated whatever the caller passes as the path later."""
        request: dict[str, Any] = {
            "logGroupName": self.settings.log_group,
            "filterPattern": f'"{unit_id}"',
            "limit": max(1, min(limit, MAX_EVENTS)),
        }
        if token:
            request["nextToken"] = token
        with aws_errors("CloudWatch Logs"):
            response = self.client.filter_log_events(**request)
        lines = [event.get("message", "") for event in response.get("events", [])]
        next_token = response.get("nextToken") or token or ""
        return lines, f"{FILTER_CURSOR}{unit_id}:{next_token}"
