"""Groups that end through the real dispatcher (moto stores, ThreadNotifier, a receiver on
127.0.0.1) get one signed `group.finished` delivery, however often their end is reported."""

import json
import threading
import time
from collections.abc import Callable, Iterator

import moto.dynamodb.models
import pytest
from moto.dynamodb.parsing.validators import UpdateExpressionValidator

from jobsched.constants import WEBHOOK_DELIVERY_HEADER
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, cancel_group, create_group
from jobsched.models import GroupMode, JobGroup, JobTemplate, OnFailure
from jobsched.models.units import Claim, Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.notifier import ThreadNotifier
from tests.support.hooks import HookServer

OK = Outcome(exit_code=0)
HANG_SECONDS = 30.0  # only against a hang: nothing here waits for a time to pass


class Edges:
    """A kicker and task stopper that do nothing (no executor here)."""

    def kick(self) -> None:
        return None

    def stop(self, unit_id: str, reason: str) -> None:
        return None


@pytest.fixture
def notifier(
    stores: Stores, hook_settings: Settings, serialised_moto: threading.Event
) -> Iterator[ThreadNotifier]:
    # Its two threads claim at once: in-process moto must apply each request whole, as DynamoDB
    # does, or both claims can pass the condition before either writes (two deliveries).
    notifier = ThreadNotifier(stores, hook_settings)
    yield notifier
    notifier.close(wait=True)


@pytest.fixture
def wired(stores: Stores, notifier: ThreadNotifier) -> Stores:
    stores.templates.create(JobTemplate(template_id="once", name="Once", workload="echo"))
    edges = Edges()
    return stores.with_edges(kicker=edges, tasks=edges).with_notifier(notifier)


@pytest.fixture
def dispatcher(wired: Stores) -> Dispatcher:
    return Dispatcher(wired, wired.dispatch, DispatchConfig(slots=1))


def _drain(dispatcher: Dispatcher, claim: Claim | None, outcomes: list[Outcome]) -> None:
    while claim is not None:
        claim = dispatcher.finish(claim, outcomes.pop(0) if outcomes else OK)


def _delivery(hook_server: HookServer) -> dict[str, object]:
    """The body of the one delivery the receiver got. An attempt answered after the sender's
    timeout is sent again, so a delivery may arrive more than once: as the same delivery (one
    delivery id, one body), which is what a receiver de-duplicates by."""
    hooks = hook_server.hooks
    assert hooks
    assert all(hook.signed for hook in hooks)
    assert len({hook.headers[WEBHOOK_DELIVERY_HEADER] for hook in hooks}) == 1
    assert len({hook.body for hook in hooks}) == 1
    body: dict[str, object] = json.loads(hooks[0].body)
    return body


def test_a_parallel_group_ending_in_the_dispatcher_is_notified_once(
    dispatcher: Dispatcher,
    wired: Stores,
    notifier: ThreadNotifier,
    hook_server: HookServer,
) -> None:
    group, jobs = create_group(
        wired,
        GroupCreate(
            mode=GroupMode.PARALLEL,
            webhook_url=hook_server.url,
            jobs=[GroupJobSpec(template_id="once")] * 2,
        ),
    )
    claim = dispatcher.claim()
    assert claim is not None
    for index, job in enumerate(jobs):
        job_claim = dispatcher.claim_group_job(claim, job.job_id)
        assert job_claim is not None
        dispatcher.finish_group_job(job_claim, Outcome(exit_code=index))  # one fails
    assert dispatcher.finish(claim, OK) is None
    notifier.group_ended(group.group_id)  # a repeated report (a redelivered event)
    notifier.close(wait=True)
    body = _delivery(hook_server)
    assert (body["group_id"], body["status"], body["completed"], body["failed"]) == (
        group.group_id,
        "partial",
        1,
        1,
    )
    assert wired.groups.get(group.group_id).notified_at is not None


def test_a_sequential_group_stopped_by_a_failure_is_notified_once(
    dispatcher: Dispatcher,
    wired: Stores,
    notifier: ThreadNotifier,
    hook_server: HookServer,
) -> None:
    group, _ = create_group(
        wired,
        GroupCreate(
            mode=GroupMode.SEQUENTIAL,
            on_failure=OnFailure.STOP,
            webhook_url=hook_server.url,
            jobs=[GroupJobSpec(template_id="once")] * 3,
        ),
    )
    _drain(dispatcher, dispatcher.claim(), [OK, Outcome(exit_code=1)])
    notifier.close(wait=True)
    body = _delivery(hook_server)
    assert (body["group_id"], body["status"]) == (group.group_id, "partial")


def test_a_cancelled_group_is_notified_once(
    wired: Stores, notifier: ThreadNotifier, hook_server: HookServer
) -> None:
    group, _ = create_group(
        wired,
        GroupCreate(webhook_url=hook_server.url, jobs=[GroupJobSpec(template_id="once")] * 2),
    )
    cancel_group(wired, group.group_id)
    notifier.group_ended(group.group_id)
    notifier.close(wait=True)
    body = _delivery(hook_server)
    assert (body["group_id"], body["status"]) == (group.group_id, "cancelled")


def test_a_group_without_a_webhook_sends_nothing(
    dispatcher: Dispatcher, wired: Stores, notifier: ThreadNotifier, hook_server: HookServer
) -> None:
    create_group(wired, GroupCreate(jobs=[GroupJobSpec(template_id="once")]))
    _drain(dispatcher, dispatcher.claim(), [])
    notifier.close(wait=True)
    assert hook_server.hooks == []


def test_two_claims_that_meet_inside_the_store_send_one_delivery(
    stores: Stores,
    notifier: ThreadNotifier,
    hook_server: HookServer,
    ended_group: Callable[..., JobGroup],
    serialised_moto: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two reports of one end, the first claim held after moto checked its condition and
    before it wrote, until the second claim has checked too or is queued behind it. On moto as
    it is, both pass and two deliveries go out (what made this file flaky under load); with
    each request applied whole, as DynamoDB applies it, the second fails the condition."""
    group = ended_group(hook_server.url)
    held = _hold_the_first_claim(monkeypatch, serialised_moto)
    notifier.group_ended(group.group_id)
    notifier.group_ended(group.group_id)  # on the notifier's second thread
    notifier.close(wait=True)
    assert held.is_set()
    assert _delivery(hook_server)["group_id"] == group.group_id
    assert stores.groups.get(group.group_id).notified_at is not None


def _hold_the_first_claim(
    monkeypatch: pytest.MonkeyPatch, queued: threading.Event
) -> threading.Event:
    """Hold the first UpdateItem between moto's condition check and its write until another
    UpdateItem got past its check too, or a request is `queued` behind it. Set once held."""
    held, second = threading.Event(), threading.Event()

    class Held(UpdateExpressionValidator):
        # moto validates an update expression after the condition passed, right before writing.
        def validate(self) -> object:
            if held.is_set():
                second.set()
            else:
                held.set()
                deadline = time.monotonic() + HANG_SECONDS
                while not (second.is_set() or queued.is_set()) and time.monotonic() < deadline:
                    second.wait(0.01)
            return super().validate()

    monkeypatch.setattr(moto.dynamodb.models, "UpdateExpressionValidator", Held)
    return held
