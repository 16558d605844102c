"""send_group_webhook and the two GroupNotifier edges: ThreadNotifier delivering to a real
server on 127.0.0.1, LambdaNotifier's invoke (botocore Stubber: moto runs Lambda code only
under docker), and the signing key read from Secrets Manager."""

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import SecretStr

from jobsched.adapters.aws.notifier import LambdaNotifier, with_webhook_secret
from jobsched.models import GroupStatus, JobGroup
from jobsched.ports import Stores
from jobsched.settings import Settings
from jobsched.webhooks import DeliveryStatus
from jobsched.webhooks.notify import send_group_webhook
from local.notifier import ThreadNotifier
from tests.support.hooks import SECRET, HookServer

FUNCTION = "jobsched-dev-webhook"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:jobsched-webhook-AbCdEf"


# --- send_group_webhook ---------------------------------------------------------------------


def test_sends_once_then_the_claim_refuses(
    stores: Stores,
    hook_settings: Settings,
    hook_server: HookServer,
    ended_group: Callable[..., JobGroup],
) -> None:
    group = ended_group(hook_server.url, GroupStatus.PARTIAL)
    first = send_group_webhook(stores, hook_settings, group.group_id)
    assert first is not None
    assert first.status == DeliveryStatus.DELIVERED
    assert send_group_webhook(stores, hook_settings, group.group_id) is None
    (hook,) = hook_server.hooks
    assert hook.signed
    assert hook.headers["X-Jobsched-Delivery"] == first.delivery_id
    body = json.loads(hook.body)
    assert (body["event"], body["group_id"], body["status"]) == (
        "group.finished",
        group.group_id,
        "partial",
    )
    kept = stores.groups.get(group.group_id)
    assert kept.notified_at is not None
    assert kept.webhook is not None
    assert (kept.webhook.status, kept.webhook.attempts, kept.webhook.status_code) == (
        "delivered",
        1,
        204,  # the hook server's answer
    )
    assert kept.webhook.delivery_id == first.delivery_id


def test_a_group_without_a_url_is_not_claimed(
    stores: Stores, hook_settings: Settings, ended_group: Callable[..., JobGroup]
) -> None:
    group = ended_group(None)
    assert send_group_webhook(stores, hook_settings, group.group_id) is None
    assert stores.groups.get(group.group_id).notified_at is None


def test_a_group_not_ended_is_left_unclaimed_for_its_end(
    stores: Stores,
    hook_settings: Settings,
    hook_server: HookServer,
    ended_group: Callable[..., JobGroup],
) -> None:
    group = ended_group(hook_server.url, GroupStatus.RUNNING)
    assert send_group_webhook(stores, hook_settings, group.group_id) is None
    assert stores.groups.get(group.group_id).notified_at is None
    stores.groups.set_status(group.model_copy(update={"status": GroupStatus.COMPLETED}))
    delivery = send_group_webhook(stores, hook_settings, group.group_id)
    assert delivery is not None
    assert delivery.delivered


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:{port}/hooks/group", "http://169.254.169.254/latest/meta-data/"]
)
def test_default_settings_refuse_loopback_and_the_metadata_service(
    stores: Stores,
    settings: Settings,
    hook_server: HookServer,
    ended_group: Callable[..., JobGroup],
    url: str,
) -> None:
    port = hook_server.url.split(":")[2].split("/")[0]
    group = ended_group(url.format(port=port))
    defaults = settings.model_copy(update={"webhook_secret": SecretStr(SECRET)})
    assert defaults.webhook_allow_private is False
    delivery = send_group_webhook(stores, defaults, group.group_id)
    assert delivery is not None
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.REFUSED, 0)
    assert hook_server.hooks == []
    refused = stores.groups.get(group.group_id).webhook
    assert refused is not None
    assert refused.status == "refused"
    assert refused.error is not None
    assert "address" in refused.error  # it says why
    # Refused for good: the claim is spent, so a repeat does not try again.
    assert send_group_webhook(stores, defaults, group.group_id) is None


def test_logs_name_the_group_and_delivery_never_the_secret(
    stores: Stores,
    hook_settings: Settings,
    hook_server: HookServer,
    ended_group: Callable[..., JobGroup],
    caplog: pytest.LogCaptureFixture,
) -> None:
    group = ended_group(hook_server.url)
    with caplog.at_level(logging.DEBUG):
        delivery = send_group_webhook(stores, hook_settings, group.group_id)
        send_group_webhook(stores, hook_settings, group.group_id)
    assert delivery is not None
    records = [r for r in caplog.records if getattr(r, "group_id", None) == group.group_id]
    assert any(getattr(r, "delivery_id", None) == delivery.delivery_id for r in records)
    assert any("claimed already" in r.getMessage() for r in records)
    (hook,) = hook_server.hooks
    signature = hook.headers["X-Jobsched-Signature"]
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__}"
        assert SECRET not in text
        assert signature not in text


# --- ThreadNotifier -------------------------------------------------------------------------


@pytest.mark.usefixtures("serialised_moto")  # its two threads claim at once (test_dispatched.py)
def test_thread_notifier_delivers_a_signed_webhook(
    stores: Stores,
    hook_settings: Settings,
    hook_server: HookServer,
    ended_group: Callable[..., JobGroup],
) -> None:
    group = ended_group(hook_server.url)
    notifier = ThreadNotifier(stores, hook_settings)
    notifier.group_ended(group.group_id)
    notifier.group_ended(group.group_id)  # reported twice: still one webhook
    notifier.close(wait=True)
    (hook,) = hook_server.hooks
    assert hook.signed
    assert json.loads(hook.body)["group_id"] == group.group_id


def test_thread_notifier_takes_a_stores_factory(
    stores: Stores,
    hook_settings: Settings,
    hook_server: HookServer,
    ended_group: Callable[..., JobGroup],
) -> None:
    group = ended_group(hook_server.url)
    notifier = ThreadNotifier(lambda: stores, hook_settings, max_workers=1)
    notifier.group_ended(group.group_id)
    notifier.close(wait=True)
    assert len(hook_server.hooks) == 1


def test_thread_notifier_logs_errors_and_never_raises(
    stores: Stores, hook_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = ThreadNotifier(stores, hook_settings)
    with caplog.at_level(logging.ERROR):
        notifier.group_ended("grp_missing")  # NotFoundError in the thread
        notifier.close(wait=True)
    assert any(r.getMessage() == "group webhook failed" for r in caplog.records)
    notifier.group_ended("grp_after_close")  # closed: logged, not raised


# --- LambdaNotifier -------------------------------------------------------------------------


@pytest.fixture
def lambda_client() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber


def test_lambda_notifier_invokes_the_function_asynchronously(
    lambda_client: tuple[Any, Stubber],
) -> None:
    client, stubber = lambda_client
    stubber.add_response(
        "invoke",
        {"StatusCode": 202},
        {"FunctionName": FUNCTION, "InvocationType": "Event", "Payload": b'{"group_id": "grp_1"}'},
    )
    LambdaNotifier(Settings(webhook_function=FUNCTION), client).group_ended("grp_1")
    stubber.assert_no_pending_responses()


def test_lambda_notifier_logs_a_failed_invoke(
    lambda_client: tuple[Any, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    client, stubber = lambda_client
    stubber.add_client_error("invoke", "ResourceNotFoundException", http_status_code=404)
    with caplog.at_level(logging.ERROR):
        LambdaNotifier(Settings(webhook_function=FUNCTION), client).group_ended("grp_1")
    (record,) = caplog.records
    assert getattr(record, "group_id", None) == "grp_1"
    stubber.assert_no_pending_responses()


def test_lambda_notifier_without_a_function_warns_once(
    lambda_client: tuple[Any, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = lambda_client  # no response queued: any call would fail the stub
    notifier = LambdaNotifier(Settings(webhook_function=None), client)
    with caplog.at_level(logging.WARNING):
        notifier.group_ended("grp_1")
        notifier.group_ended("grp_2")
    assert ["JOBSCHED_WEBHOOK_FUNCTION" in r.getMessage() for r in caplog.records] == [True]


def test_lambda_notifier_makes_its_client_lazily() -> None:
    notifier = LambdaNotifier(Settings(webhook_function=FUNCTION))
    assert "client" not in notifier.__dict__
    assert notifier.client.meta.service_model.service_name == "lambda"


# --- the signing key from Secrets Manager ----------------------------------------------------


def test_the_secret_is_read_from_secrets_manager_when_only_its_arn_is_set() -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_secret_value",
            {"ARN": SECRET_ARN, "Name": "jobsched-webhook", "SecretString": SECRET},
            {"SecretId": SECRET_ARN},
        )
        settings = with_webhook_secret(Settings(webhook_secret_arn=SECRET_ARN), client)
        stubber.assert_no_pending_responses()
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert SECRET not in repr(settings)


def test_a_secret_set_directly_wins_and_no_arn_reads_nothing() -> None:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    with Stubber(client):  # nothing queued: a call would fail
        direct = Settings(webhook_secret="direct", webhook_secret_arn=SECRET_ARN)
        assert with_webhook_secret(direct, client) is direct
        bare = Settings()
        assert with_webhook_secret(bare, client) is bare
