"""The notification claim (DynamoGroupStore.claim_notification): one conditional write, won by
exactly one caller per ended group, however many try at once."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.models import GroupStatus, JobGroup, utcnow
from jobsched.ports import Stores
from tests.support.waiting import BOUND_SECONDS

CALLERS = 2
ROUNDS = 5


@pytest.mark.usefixtures("serialised_moto")
def test_two_concurrent_callers_one_wins(
    stores: Stores, ended_group: Callable[..., JobGroup]
) -> None:
    for _ in range(ROUNDS):
        group = ended_group("https://hooks.example/g")
        assert sorted(_claim_at_once(stores, group.group_id)) == [False, True]


def _claim_at_once(stores: Stores, group_id: str) -> list[bool]:
    """CALLERS threads released together by a barrier, each claiming the group once."""
    barrier = threading.Barrier(CALLERS)
    results: list[bool] = []

    def claim() -> None:
        barrier.wait()
        results.append(stores.groups.claim_notification(group_id, utcnow()))

    threads = [threading.Thread(target=claim) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BOUND_SECONDS)
    return results


@pytest.mark.parametrize(
    "status",
    [GroupStatus.COMPLETED, GroupStatus.FAILED, GroupStatus.PARTIAL, GroupStatus.CANCELLED],
)
def test_an_ended_group_is_claimed_once_and_keeps_the_time(
    stores: Stores, ended_group: Callable[..., JobGroup], status: GroupStatus
) -> None:
    group = ended_group(None, status)
    at = utcnow()
    assert stores.groups.claim_notification(group.group_id, at)
    assert not stores.groups.claim_notification(group.group_id, at + timedelta(seconds=1))
    stored = stores.groups.get(group.group_id)
    assert stored.notified_at == at
    assert stored.status == status  # the claim changes nothing else


def test_a_group_that_has_not_ended_is_not_claimed(stores: Stores, echo_template: str) -> None:
    group, _ = create_group(stores, GroupCreate(jobs=[GroupJobSpec(template_id=echo_template)]))
    assert not stores.groups.claim_notification(group.group_id, utcnow())  # queued
    stores.groups.set_status(group.model_copy(update={"status": GroupStatus.RUNNING}))
    assert not stores.groups.claim_notification(group.group_id, utcnow())
    assert stores.groups.get(group.group_id).notified_at is None
    stores.groups.set_status(group.model_copy(update={"status": GroupStatus.COMPLETED}))
    assert stores.groups.claim_notification(group.group_id, utcnow())


def test_a_missing_group_is_not_claimed_nor_created(stores: Stores) -> None:
    assert not stores.groups.claim_notification("grp_missing", utcnow())
    assert stores.groups.list_page(10, None).items == []
