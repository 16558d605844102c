"""Lambda entry point of the group webhook: the dispatch Lambdas invoke it asynchronously with
`{"group_id": ...}` for every group they end (jobsched.adapters.aws.notifier.LambdaNotifier), and it
sends that group's `group.finished`, at most once (jobsched.webhooks.notify.send_group_webhook).

A delivery that failed after the sender's own retries is returned, not raised: Lambda would
retry the event, but the claim already taken refuses every retry, so raising would only fill
the dead-letter queue with events that can never send. Raised are the errors before the claim
(the group cannot be read, the store is unavailable): those events land in the dead-letter
queue with nothing claimed, and can be redriven.
"""

from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from jobsched.settings import Settings, get_settings

if TYPE_CHECKING:
    from jobsched.ports import Stores

SKIPPED = "skipped"


class WebhookEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    group_id: str = Field(min_length=1)


@cache
def settings() -> Settings:
    """Read once per container, with the signing key from Secrets Manager (never logged)."""
    from jobsched.adapters.aws.notifier import with_webhook_secret

    return with_webhook_secret(get_settings())


@cache
def stores() -> "Stores":
    """Only the DynamoDB stores: the function reads the group and claims its notification."""
    from jobsched.adapters.aws.wiring import table_stores

    return table_stores(settings())


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    from jobsched.webhooks.notify import send_group_webhook

    request = WebhookEvent.model_validate(event)
    delivery = send_group_webhook(stores(), settings(), request.group_id)
    if delivery is None:
        return {"group_id": request.group_id, "status": SKIPPED}
    return {
        "group_id": request.group_id,
        "status": delivery.status.value,
        "delivery_id": delivery.delivery_id,
        "attempts": delivery.attempts,
    }
