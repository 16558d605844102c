"""The webhooks on AWS: the GroupNotifier that hands an ended group to the webhook Lambda, and
the webhook secret read from Secrets Manager."""

import json
import logging
from functools import cached_property
from typing import Any

from pydantic import SecretStr

from jobsched.adapters.aws.clients import client_options
from jobsched.settings import Settings

logger = logging.getLogger(__name__)


class LambdaNotifier:
    """GroupNotifier on AWS: an asynchronous (`Event`) invoke of the webhook Lambda named by
    `webhook_function`, which runs `send_group_webhook`. Lambda queues the event and answers
    at once, so a dispatch step pays one short call. Errors are logged, not raised: a missed
    notification must not fail the dispatch step that ended the group."""

    def __init__(self, settings: Settings, client: Any = None) -> None:
        self.settings = settings
        self._warned = False
        if client is not None:
            self.__dict__["client"] = client

    @cached_property
    def client(self) -> Any:
        import boto3

        return boto3.client("lambda", **client_options(self.settings))

    def group_ended(self, group_id: str) -> None:
        function = self.settings.webhook_function
        if not function:
            if not self._warned:
                self._warned = True
                logger.warning("no JOBSCHED_WEBHOOK_FUNCTION: ended groups' webhooks are not sent")
            return
        from botocore.exceptions import BotoCoreError, ClientError

        payload = json.dumps({"group_id": group_id}).encode()
        try:
            self.client.invoke(FunctionName=function, InvocationType="Event", Payload=payload)
        except (BotoCoreError, ClientError):
            logger.exception("webhook not handed over", extra={"group_id": group_id})


def with_webhook_secret(settings: Settings, client: Any = None) -> Settings:
    """The settings with `webhook_secret` read from Secrets Manager when only
    `webhook_secret_arn` is set (the webhook Lambda). The value is never logged."""
    if settings.webhook_secret is not None or not settings.webhook_secret_arn:
        return settings
    if client is None:
        import boto3

        client = boto3.client("secretsmanager", **client_options(settings))
    value = client.get_secret_value(SecretId=settings.webhook_secret_arn)["SecretString"]
    return settings.model_copy(update={"webhook_secret": SecretStr(value)})
