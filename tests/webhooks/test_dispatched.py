"""Groups that end through the real dispatcher (moto stores, ThreadNotifier, a receiver on
127.0.0.1) get exactly one signed `group.finished`, however often their end is reported."""

import json
from collections.abc import Iterator

import pytest

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, cancel_group, create_group
from jobsched.models import GroupMode, JobTemplate, OnFailure
from jobsched.models.units import Claim, Outcome
from jobsched.ports import Stores
from jobsched.settings import Settings
from local.notifier import ThreadNotifier
from tests.webhooks.conftest import HookServer

OK = Outcome(exit_code=0)


class Edges:
    """A kicker and task stopper that do nothing (no executor here)."""

    def kick(self) -> None:
        return None

    def stop(self, unit_id: str, reason: str) -> None:
        return None


@pytest.fixture
def notifier(stores: Stores, hook_settings: Settings) -> Iterator[ThreadNotifier]:
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


def _bodies(hook_server: HookServer) -> list[dict[str, object]]:
    assert all(hook.signed for hook in hook_server.hooks)
    return [json.loads(hook.body) for hook in hook_server.hooks]


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
    (body,) = _bodies(hook_server)
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
    (body,) = _bodies(hook_server)
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
    (body,) = _bodies(hook_server)
    assert (body["group_id"], body["status"]) == (group.group_id, "cancelled")


def test_a_group_without_a_webhook_sends_nothing(
    dispatcher: Dispatcher, wired: Stores, notifier: ThreadNotifier, hook_server: HookServer
) -> None:
    create_group(wired, GroupCreate(jobs=[GroupJobSpec(template_id="once")]))
    _drain(dispatcher, dispatcher.claim(), [])
    notifier.close(wait=True)
    assert hook_server.hooks == []
