"""The sync client is generated from the async one (`make client`): the file in the tree is
what the generator makes now. Here, not in the unit tier: the generator runs ruff as a
process."""

from tests.support import unasync_client


def test_the_sync_client_is_up_to_date() -> None:
    generated = unasync_client.generate()

    assert unasync_client.TARGET.read_text(encoding="utf-8") == generated, (
        "jobsched_client/_sync/client.py is out of date: run `make client`"
    )
