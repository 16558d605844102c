"""functions/webhook.py, the Lambda the dispatch Lambdas invoke for each group they end: over
moto's DynamoDB and Secrets Manager, delivering to a receiver on 127.0.0.1."""

import json
import subprocess
import sys
from collections.abc import Callable, Iterator

import boto3
import pytest
from pydantic import ValidationError

from functions import webhook
from jobsched.models import GroupStatus, JobGroup
from jobsched.ports import Stores
from jobsched.settings import get_settings
from tests.support.hooks import SECRET, HookServer
from tests.support.waiting import BOUND_SECONDS

# A Lambda of the AWS deployment: it reads the DynamoDB tables by their names.
pytestmark = pytest.mark.dynamodb_only


@pytest.fixture
def environment(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The function's environment over the moto tables of `stores` (prefix "test"), as the
    CDK app sets it but with the secret in Secrets Manager (moto) and loopback allowed."""
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="jobsched-test-webhook", SecretString=SECRET
    )["ARN"]
    values = {
        "JOBSCHED_TABLE_PREFIX": "test",
        "JOBSCHED_WEBHOOK_SECRET_ARN": arn,
        "JOBSCHED_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    monkeypatch.delenv("JOBSCHED_WEBHOOK_SECRET", raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    def reset() -> None:
        get_settings.cache_clear()
        webhook.settings.cache_clear()
        webhook.stores.cache_clear()

    reset()
    yield values
    reset()


@pytest.mark.usefixtures("environment")
def test_sends_the_ended_groups_webhook_signed_with_the_stored_secret(
    stores: Stores, hook_server: HookServer, ended_group: Callable[..., JobGroup]
) -> None:
    group = ended_group(hook_server.url, GroupStatus.FAILED)
    answer = webhook.handler({"group_id": group.group_id}, None)
    assert answer["group_id"] == group.group_id
    assert (answer["status"], answer["attempts"]) == ("delivered", 1)
    (hook,) = hook_server.hooks
    assert hook.signed  # with the secret read from Secrets Manager
    assert hook.headers["X-Jobsched-Delivery"] == answer["delivery_id"]
    assert json.loads(hook.body)["status"] == "failed"
    assert json.loads(json.dumps(answer)) == answer  # a Lambda's answer is JSON
    # Lambda delivers an event at least once: a repeat is skipped by the claim.
    assert webhook.handler({"group_id": group.group_id}, None) == {
        "group_id": group.group_id,
        "status": "skipped",
    }
    assert len(hook_server.hooks) == 1


@pytest.mark.usefixtures("environment")
def test_a_group_without_a_webhook_is_skipped(ended_group: Callable[..., JobGroup]) -> None:
    group = ended_group(None)
    assert webhook.handler({"group_id": group.group_id}, None)["status"] == "skipped"


@pytest.mark.usefixtures("environment")
def test_a_failed_delivery_is_returned_not_raised(
    stores: Stores, ended_group: Callable[..., JobGroup], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the sender's own retries the claim is spent: a Lambda retry could send nothing."""
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from jobsched.webhooks import events

    defaults = events.notify_group_finished.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "backoff", 0.01)  # two quick attempts, not five slow ones
    monkeypatch.setitem(defaults, "attempts", 2)
    group = ended_group(f"http://127.0.0.1:{port}/hook")
    answer = webhook.handler({"group_id": group.group_id}, None)
    assert (answer["status"], answer["attempts"]) == ("failed", 2)
    assert stores.groups.get(group.group_id).notified_at is not None


@pytest.mark.usefixtures("environment")
def test_a_bad_event_or_a_missing_group_raises_for_the_dead_letter_queue() -> None:
    from jobsched.errors import NotFoundError

    with pytest.raises(ValidationError):
        webhook.handler({}, None)
    with pytest.raises(NotFoundError):
        webhook.handler({"group_id": "grp_missing"}, None)


def test_the_function_imports_neither_boto3_nor_httpx_nor_fastapi() -> None:
    """Cold start: boto3 loads on the first AWS call, httpx when a webhook is sent."""
    code = (
        "import sys, functions.webhook; "
        "print(sorted(m for m in ('fastapi', 'api', 'boto3', 'httpx') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=BOUND_SECONDS,
    )
    assert result.stdout.strip() == "[]"
