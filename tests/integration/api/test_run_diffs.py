"""GET /runs/{id}/artifacts/diff (issue 17, point 3), on both stores: one text artifact's
unified diff between two runs, or which of their artifacts changed; runs made by the real
dispatcher, their outputs files under the runs folder as the local runtime reads them."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobsched.constants import MAX_DIFF_TEXT_BYTES
from jobsched.jobs import artifact_diff
from jobsched.jobs.keys import mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.api import V2, assert_problem
from tests.support.ui_runs import RunWorld, make_world

STORY = b"once\nthere was\na scheduler\n"
RETOLD = b"once\nthere were\ntwo schedulers\n"


@pytest.fixture
def world(stores: Stores, tmp_path: Path) -> RunWorld:
    return make_world(stores, tmp_path / "data")


@pytest.fixture
def api(world: RunWorld) -> TestClient:
    """A read key's client: a diff reads."""
    from api.app import create_app

    client = TestClient(create_app(world.stores), raise_server_exceptions=False)
    minted = mint_key(world.stores.keys, "diff-reader", [Scope.READ])
    client.headers["Authorization"] = f"Bearer {minted.secret}"
    return client


def run_with(world: RunWorld, outputs: dict[str, bytes], exit_code: int = 0) -> str:
    """A run of the work template that wrote these outputs; its id."""
    world.submit("work", message="diffed")
    claim = world.start()
    uris = [world.output(claim, name, data) for name, data in outputs.items()]
    world.finish(claim, exit_code, artifacts=uris)
    run_id: str = claim.unit_id
    return run_id


def diff(api: TestClient, run_id: str, against: str, **query: str) -> dict[str, Any]:
    response = api.get(f"{V2}/runs/{run_id}/artifacts/diff", params={"against": against, **query})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def changes(found: dict[str, Any]) -> dict[str, str]:
    return {a["name"]: a["change"] for a in found["artifacts"]}


def test_a_changed_text_is_a_unified_diff_from_against_to_run(
    world: RunWorld, api: TestClient
) -> None:
    first = run_with(world, {"story.txt": STORY})
    second = run_with(world, {"story.txt": RETOLD})

    found = diff(api, second, first, name="story.txt")

    assert found["run"]["run_id"] == second
    assert found["against"]["run_id"] == first
    assert found["name"] == "story.txt"
    assert found["identical"] is False
    assert found["diff"] == [
        f"--- {first}/story.txt",
        f"+++ {second}/story.txt",
        "@@ -1,3 +1,3 @@",
        " once",
        "-there was",
        "-a scheduler",
        "+there were",
        "+two schedulers",
    ]
    assert found["diff_truncated"] is False
    assert found["artifacts"] == [{"name": "story.txt", "change": "changed", "detail": None}]
    # The other way round, the lines swap sides.
    back = diff(api, first, second, name="story.txt")["diff"]
    assert back[4:] == ["-there were", "-two schedulers", "+there was", "+a scheduler"]


def test_identical_runs_and_a_run_against_itself(world: RunWorld, api: TestClient) -> None:
    first = run_with(world, {"story.txt": STORY, "data.bin": bytes(range(256))})
    second = run_with(world, {"story.txt": STORY, "data.bin": bytes(range(256))})

    named = diff(api, second, first, name="story.txt")
    whole = diff(api, second, first)

    assert (named["identical"], named["diff"]) == (True, [])
    assert named["artifacts"] == [{"name": "story.txt", "change": "identical", "detail": None}]
    assert whole["identical"] is True
    assert whole["name"] is None
    assert changes(whole) == {"data.bin": "identical", "story.txt": "identical"}
    assert diff(api, first, first)["identical"] is True


def test_without_a_name_each_artifact_says_how_it_changed(world: RunWorld, api: TestClient) -> None:
    first = run_with(
        world,
        {"same.txt": b"same\n", "story.txt": STORY, "old.txt": b"gone\n", "data.bin": b"\x00\x01"},
    )
    second = run_with(
        world,
        {
            "same.txt": b"same\n",
            "story.txt": RETOLD,
            "cards/1.json": b"{}\n",
            "data.bin": b"\x00\x02",
        },
    )

    found = diff(api, second, first)

    assert found["identical"] is False
    assert found["diff"] == []
    assert [a["name"] for a in found["artifacts"]] == sorted(changes(found))
    assert changes(found) == {
        "cards/1.json": "added",
        "data.bin": "changed",  # bytes are compared whatever they hold
        "old.txt": "removed",
        "same.txt": "identical",
        "story.txt": "changed",
    }


def test_an_artifact_in_one_run_only_is_diffed_against_nothing(
    world: RunWorld, api: TestClient
) -> None:
    first = run_with(world, {"story.txt": STORY})
    second = run_with(world, {"story.txt": STORY, "cards/1.json": b'{"a": 1}\n'})

    added = diff(api, second, first, name="cards/1.json")
    removed = diff(api, first, second, name="1.json")  # a file name unique in its run

    assert added["diff"] == [
        "--- /dev/null",
        f"+++ {second}/cards/1.json",
        "@@ -0,0 +1 @@",
        '+{"a": 1}',
    ]
    assert changes(added) == {"cards/1.json": "added"}
    assert removed["diff"][:2] == [f"--- {second}/cards/1.json", "+++ /dev/null"]
    assert changes(removed) == {"1.json": "removed"}


def test_a_last_line_without_its_end_is_said(world: RunWorld, api: TestClient) -> None:
    first = run_with(world, {"n.txt": b"1\n2"})
    second = run_with(world, {"n.txt": b"1\n2\n"})

    found = diff(api, second, first, name="n.txt")

    assert found["diff"][2:] == [
        "@@ -1,2 +1,2 @@",
        " 1",
        "-2",
        "\\ No newline at end of file",
        "+2",
    ]


def test_a_long_diff_is_cut_and_says_so(
    world: RunWorld, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifact_diff, "MAX_DIFF_LINES", 5)
    first = run_with(world, {"n.txt": b"".join(b"%d\n" % n for n in range(20))})
    second = run_with(world, {"n.txt": b"".join(b"%d!\n" % n for n in range(20))})

    found = diff(api, second, first, name="n.txt")

    assert len(found["diff"]) == 5
    assert found["diff_truncated"] is True


def test_unknown_runs_and_artifacts_are_404s(world: RunWorld, api: TestClient) -> None:
    first = run_with(world, {"story.txt": STORY})
    path = f"{V2}/runs/{first}/artifacts/diff"

    assert_problem(api.get(f"{V2}/runs/run_nope/artifacts/diff", params={"against": first}), 404)
    assert_problem(api.get(path, params={"against": "run_nope"}), 404)
    missing = assert_problem(api.get(path, params={"against": first, "name": "card.json"}), 404)
    assert "story.txt" in missing["detail"]  # what the runs do have
    assert_problem(api.get(path), 422, "query.against")
    # The download by index is still its own route.
    assert api.get(f"{V2}/runs/{first}/artifacts/0").content == STORY


def test_binary_and_undecodable_artifacts_are_refused(world: RunWorld, api: TestClient) -> None:
    first = run_with(
        world, {"data.bin": b"PK\x03\x04\x00\x00", "latin.txt": "café\n".encode("latin-1")}
    )
    second = run_with(world, {"data.bin": b"PK\x03\x04\x00\x01", "latin.txt": b"cafe\n"})

    for name in ("data.bin", "latin.txt"):
        refused = api.get(
            f"{V2}/runs/{second}/artifacts/diff", params={"against": first, "name": name}
        )
        body = assert_problem(refused, 422, "name")
        assert body["title"] == "Artifact is not text"
        assert name in body["detail"]
        assert "not UTF-8 text" in body["detail"]


def test_a_text_over_the_bound_is_a_413(world: RunWorld, api: TestClient) -> None:
    first = run_with(world, {"big.txt": b"a\n" * (MAX_DIFF_TEXT_BYTES // 2 + 1)})
    second = run_with(world, {"big.txt": b"b\n"})

    refused = api.get(
        f"{V2}/runs/{second}/artifacts/diff", params={"against": first, "name": "big.txt"}
    )

    body = assert_problem(refused, 413, "name")
    assert str(MAX_DIFF_TEXT_BYTES) in body["detail"]


def test_a_file_name_two_artifacts_share_must_be_a_path(world: RunWorld, api: TestClient) -> None:
    first = run_with(world, {"a/card.json": b"1\n", "b/card.json": b"2\n"})
    second = run_with(world, {"a/card.json": b"1\n", "b/card.json": b"3\n"})
    path = f"{V2}/runs/{second}/artifacts/diff"

    body = assert_problem(api.get(path, params={"against": first, "name": "card.json"}), 422)

    assert "a/card.json" in body["detail"]
    assert diff(api, second, first, name="a/card.json")["identical"] is True
    assert diff(api, second, first, name="b/card.json")["diff"][-2:] == ["-2", "+3"]


def test_unreadable_and_uncompared_artifacts_are_listed_not_refused(
    world: RunWorld, api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_with(world, {"a.txt": b"a\n", "b.txt": b"b\n", "c.txt": b"c\n"})
    second = run_with(world, {"a.txt": b"a\n", "b.txt": b"b\n", "c.txt": b"c\n"})
    gone = world.data_dir / "runs" / first / "outputs" / "a.txt"
    gone.unlink()
    monkeypatch.setattr(artifact_diff, "MAX_DIFF_READ_BYTES", 4)  # b.txt's pair uses it up

    found = diff(api, second, first)

    assert changes(found) == {"a.txt": "unreadable", "b.txt": "identical", "c.txt": "not_compared"}
    assert found["identical"] is False
    detail = {a["name"]: a["detail"] for a in found["artifacts"]}
    assert "a.txt" in detail["a.txt"]
    assert detail["b.txt"] is None
    assert "at most 4 bytes" in detail["c.txt"]


def test_a_key_is_needed_and_a_read_key_is_enough(world: RunWorld, api: TestClient) -> None:
    first = run_with(world, {"story.txt": STORY})
    from api.app import create_app

    anonymous = TestClient(create_app(world.stores), raise_server_exceptions=False)

    refused = anonymous.get(f"{V2}/runs/{first}/artifacts/diff", params={"against": first})

    assert_problem(refused, 401)
    assert diff(api, first, first)["identical"] is True
