"""What a group's webhook URL gets when the group is created, before anything is written."""

from typing import TYPE_CHECKING

from jobsched.models import JobGroup
from jobsched.webhooks.addresses import check_webhook_url

if TYPE_CHECKING:  # pydantic-settings stays off the API's cold start
    from jobsched.settings import Settings


def check_group_webhook(url: str | None) -> None:
    """A URL no webhook could ever go to (another scheme, credentials, a private or metadata
    address) is refused at once (422), not found out when the group ends. A name that does not
    resolve yet is let through: sending checks it again."""
    if url is not None:
        check_webhook_url(url, unresolved_ok=True)


def webhook_warnings(settings: "Settings", group: JobGroup) -> list[str]:
    """What the client should know of its webhook now: without a signing key none is sent."""
    if group.webhook_url and not settings.webhooks_signed:
        return [
            "no webhook signing key is configured (JOBSCHED_WEBHOOK_SECRET): this group's "
            "webhook will not be sent"
        ]
    return []
