"""/queue through the HTTP API: order, moves, priorities, reorder, statistics, pause and resume."""

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from jobsched.adapters.dynamodb import Dynamo
from jobsched.models import JobStatus
from jobsched.ports import Stores
from tests.support.api import (
    V2,
    all_pages,
    assert_problem,
    post_job,
    post_template,
    queue,
    queue_ids,
    seed_job,
)


def make_jobs(client: TestClient, *specs: tuple[str, object]) -> dict[str, str]:
    """Enqueue (name, priority) in this order; returns name -> job_id."""
    return {name: post_job(client, priority=priority)["job_id"] for name, priority in specs}


def names(client: TestClient, ids: dict[str, str]) -> list[str]:
    by_id = {job_id: name for name, job_id in ids.items()}
    return [by_id[job_id] for job_id in queue_ids(client)]


def priority_of(client: TestClient, job_id: str) -> object:
    return client.get(f"{V2}/jobs/{job_id}").json()["priority"]


def move(client: TestClient, job_id: str, **body: object) -> dict[str, object]:
    response = client.post(f"{V2}/queue/{job_id}/move", json=body)
    assert response.status_code == 200, response.text
    moved: dict[str, object] = response.json()
    return moved


@pytest.fixture
def abcd(client: TestClient, echo_template: str) -> dict[str, str]:
    return make_jobs(client, *((name, "normal") for name in "ABCD"))


@pytest.fixture
def hnnl(client: TestClient, echo_template: str) -> dict[str, str]:
    return make_jobs(client, ("H", "high"), ("N1", "normal"), ("N2", "normal"), ("L", "low"))


# --- the order ----------------------------------------------------------------------------------


def test_order_is_priority_then_fifo(client: TestClient, echo_template: str) -> None:
    ids = make_jobs(
        client,
        ("L1", "low"),
        ("N1", "normal"),
        ("H1", "high"),
        ("I1", "immediate"),
        ("N2", "normal"),
        ("P60", 60),
        ("H2", "high"),
        ("L2", "low"),
        ("I2", "immediate"),
    )

    page = queue(client)

    assert page["paused"] is False
    assert page["next_cursor"] is None
    assert names(client, ids) == ["I1", "I2", "H1", "H2", "P60", "N1", "N2", "L1", "L2"]
    assert [item["position"] for item in page["items"]] == list(range(1, 10))
    first = page["items"][0]
    assert first["priority"] == "immediate"
    assert first["template_id"] == "echo"
    assert set(first) == {
        "position",
        "job_id",
        "template_id",
        "priority",
        "group_id",
        "schedule_id",
        "created_at",
        "held",
        "hold",
        "eta",
    }
    for item in page["items"]:
        job = client.get(f"{V2}/jobs/{item['job_id']}").json()
        assert job["queue_position"] == item["position"]
        assert job["priority"] == item["priority"]


def test_pages_keep_positions_continuous(client: TestClient, echo_template: str) -> None:
    ids = make_jobs(client, *((f"J{n}", ["low", "high", "normal"][n % 3]) for n in range(7)))

    pages = all_pages(client, f"{V2}/queue", limit=3)

    assert [len(page) for page in pages][:3] == [3, 3, 1]
    items = [item for page in pages for item in page]
    assert [item["position"] for item in items] == [1, 2, 3, 4, 5, 6, 7]
    assert [item["job_id"] for item in items] == queue_ids(client)
    assert sorted(item["job_id"] for item in items) == sorted(ids.values())


def test_cancelled_jobs_leave_the_queue_and_positions_close_up(
    client: TestClient, abcd: dict[str, str]
) -> None:
    client.post(f"{V2}/jobs/{abcd['B']}/cancel")

    assert names(client, abcd) == ["A", "C", "D"]
    assert [item["position"] for item in queue(client)["items"]] == [1, 2, 3]
    assert client.get(f"{V2}/jobs/{abcd['C']}").json()["queue_position"] == 2


# --- move ---------------------------------------------------------------------------------------


def test_move_to_a_position(client: TestClient, abcd: dict[str, str]) -> None:
    moved = move(client, abcd["D"], position=1)
    assert (moved["queue_position"], moved["priority"]) == (1, "normal")
    assert names(client, abcd) == ["D", "A", "B", "C"]

    assert move(client, abcd["D"], position=3)["queue_position"] == 3
    assert names(client, abcd) == ["A", "B", "D", "C"]

    assert move(client, abcd["A"], position=99)["queue_position"] == 4
    assert names(client, abcd) == ["B", "D", "C", "A"]

    assert move(client, abcd["D"], position=2)["queue_position"] == 2  # where it is already
    assert names(client, abcd) == ["B", "D", "C", "A"]


def test_move_before_and_after(client: TestClient, abcd: dict[str, str]) -> None:
    move(client, abcd["D"], before=abcd["B"])
    assert names(client, abcd) == ["A", "D", "B", "C"]

    move(client, abcd["A"], after=abcd["C"])
    assert names(client, abcd) == ["D", "B", "C", "A"]

    move(client, abcd["C"], before=abcd["D"])
    assert names(client, abcd) == ["C", "D", "B", "A"]

    move(client, abcd["C"], after=abcd["A"])
    assert names(client, abcd) == ["D", "B", "A", "C"]
    assert {priority_of(client, job_id) for job_id in abcd.values()} == {"normal"}


def test_a_move_into_another_band_adopts_its_priority(
    client: TestClient, hnnl: dict[str, str]
) -> None:
    # position 1 and "before X" anchor on the job the mover lands in front of
    moved = move(client, hnnl["L"], position=1)
    assert (moved["priority"], moved["queue_position"]) == ("high", 1)
    assert moved["note"].startswith("priority low -> high: the place asked for lies among high")
    assert names(client, hnnl) == ["L", "H", "N1", "N2"]

    moved = move(client, hnnl["L"], before=hnnl["N2"])
    assert moved["priority"] == "normal"
    assert names(client, hnnl) == ["H", "N1", "L", "N2"]

    # "after X" anchors on X
    moved = move(client, hnnl["H"], after=hnnl["N2"])
    assert (moved["priority"], moved["queue_position"]) == ("normal", 4)
    assert names(client, hnnl) == ["N1", "L", "N2", "H"]

    # the queue view and the job agree on the new priority
    item = next(i for i in queue(client)["items"] if i["job_id"] == hnnl["H"])
    assert item["priority"] == "normal"
    within = move(client, hnnl["H"], position=2)  # among normal jobs still: no note
    assert (within["priority"], within["note"]) == ("normal", None)


def test_a_move_keeps_its_priority_when_its_band_fits(
    client: TestClient, echo_template: str
) -> None:
    ids = make_jobs(client, ("H", "high"), ("L", "low"), ("N", "normal"))
    assert names(client, ids) == ["H", "N", "L"]

    moved = move(client, ids["N"], after=ids["H"])  # between high and low: normal fits

    assert (moved["priority"], moved["queue_position"]) == ("normal", 2)
    moved = move(client, ids["L"], position=3)
    assert moved["priority"] == "low"


def test_a_move_to_the_end_adopts_the_last_band(client: TestClient, hnnl: dict[str, str]) -> None:
    moved = move(client, hnnl["N1"], position=10)
    assert (moved["priority"], moved["queue_position"]) == ("low", 4)
    assert names(client, hnnl) == ["H", "N2", "L", "N1"]


def test_move_needs_exactly_one_target(client: TestClient, abcd: dict[str, str]) -> None:
    url = f"{V2}/queue/{abcd['A']}/move"
    for body in (
        {},
        {"position": None},
        {"position": 1, "before": abcd["B"]},
        {"before": abcd["B"], "after": abcd["C"]},
        {"position": 1, "before": abcd["B"], "after": abcd["C"]},
    ):
        body_problem = assert_problem(client.post(url, json=body), 422, field="body")
        assert "exactly one" in body_problem["detail"]
    assert_problem(client.post(url, json={"position": 0}), 422, field="position")
    assert_problem(client.post(url, json={"position": "top"}), 422, field="position")
    assert_problem(client.post(url, json={"to": 1}), 422, field="to")
    assert names(client, abcd) == ["A", "B", "C", "D"]


def test_move_relative_to_itself_is_422(client: TestClient, abcd: dict[str, str]) -> None:
    url = f"{V2}/queue/{abcd['B']}/move"
    assert_problem(client.post(url, json={"before": abcd["B"]}), 422, field="before")
    assert_problem(client.post(url, json={"after": abcd["B"]}), 422, field="after")
    assert names(client, abcd) == ["A", "B", "C", "D"]


def test_move_of_a_job_not_queued_is_409_and_unknown_is_404(
    client: TestClient, abcd: dict[str, str]
) -> None:
    client.post(f"{V2}/jobs/{abcd['A']}/cancel")

    assert_problem(client.post(f"{V2}/queue/{abcd['A']}/move", json={"position": 1}), 409)
    assert_problem(client.post(f"{V2}/queue/job_missing/move", json={"position": 1}), 404)
    # a target that is not queued, or unknown
    url = f"{V2}/queue/{abcd['B']}/move"
    assert_problem(client.post(url, json={"before": abcd["A"]}), 409)
    assert_problem(client.post(url, json={"after": "job_missing"}), 404)
    assert names(client, abcd) == ["B", "C", "D"]


# --- priority -----------------------------------------------------------------------------------


def test_set_priority_goes_to_the_end_of_the_new_band(
    client: TestClient, hnnl: dict[str, str]
) -> None:
    response = client.post(f"{V2}/queue/{hnnl['N1']}/priority", json={"priority": "low"})

    assert response.status_code == 200
    assert (response.json()["priority"], response.json()["queue_position"]) == ("low", 4)
    assert names(client, hnnl) == ["H", "N2", "L", "N1"]

    client.post(f"{V2}/queue/{hnnl['L']}/priority", json={"priority": "immediate"})
    assert names(client, hnnl) == ["L", "H", "N2", "N1"]

    client.post(f"{V2}/queue/{hnnl['N2']}/priority", json={"priority": 90})
    assert names(client, hnnl) == ["L", "N2", "H", "N1"]
    assert priority_of(client, hnnl["N2"]) == 90


def test_the_same_priority_keeps_the_place(client: TestClient, abcd: dict[str, str]) -> None:
    for same in ("normal", 50, "NORMAL"):
        response = client.post(f"{V2}/queue/{abcd['B']}/priority", json={"priority": same})
        assert (response.json()["priority"], response.json()["queue_position"]) == ("normal", 2)
    assert names(client, abcd) == ["A", "B", "C", "D"]


def test_set_priority_errors(client: TestClient, abcd: dict[str, str]) -> None:
    url = f"{V2}/queue/{abcd['A']}/priority"
    for body in ({"priority": "urgent"}, {"priority": 101}, {"priority": True}, {}):
        assert_problem(client.post(url, json=body), 422, field="priority")
    assert_problem(client.post(url, json={"priority": "high", "x": 1}), 422, field="x")
    assert_problem(client.post(f"{V2}/queue/job_missing/priority", json={"priority": "high"}), 404)
    client.post(f"{V2}/jobs/{abcd['D']}/cancel")
    assert_problem(client.post(f"{V2}/queue/{abcd['D']}/priority", json={"priority": "low"}), 409)
    assert names(client, abcd) == ["A", "B", "C"]
    assert priority_of(client, abcd["A"]) == "normal"


# --- reorder ------------------------------------------------------------------------------------


def reorder(client: TestClient, *job_ids: str) -> list[str]:
    response = client.post(f"{V2}/queue/reorder", json={"job_ids": list(job_ids)})
    assert response.status_code == 200, response.text
    return [job["job_id"] for job in response.json()["items"]]


def test_reorder_permutes_the_listed_jobs_only(client: TestClient, echo_template: str) -> None:
    ids = make_jobs(client, *((name, "normal") for name in "ABCDE"))

    assert reorder(client, ids["D"], ids["B"]) == [ids["D"], ids["B"]]
    assert names(client, ids) == ["A", "D", "C", "B", "E"]

    reorder(client, ids["E"], ids["C"], ids["A"])
    assert names(client, ids) == ["E", "D", "C", "B", "A"]

    reorder(client, ids["D"], ids["C"])  # already in this order: nothing moves
    assert names(client, ids) == ["E", "D", "C", "B", "A"]
    assert [item["position"] for item in queue(client)["items"]] == [1, 2, 3, 4, 5]


def test_reorder_across_bands_swaps_priorities(client: TestClient, hnnl: dict[str, str]) -> None:
    response = client.post(f"{V2}/queue/reorder", json={"job_ids": [hnnl["L"], hnnl["H"]]})
    notes = {job["job_id"]: job["note"] for job in response.json()["items"]}
    assert notes[hnnl["L"]].startswith("priority low -> high")
    assert notes[hnnl["H"]].startswith("priority high -> low")

    assert names(client, hnnl) == ["L", "N1", "N2", "H"]
    assert priority_of(client, hnnl["L"]) == "high"
    assert priority_of(client, hnnl["H"]) == "low"


def test_rejected_reorders_change_nothing(client: TestClient, abcd: dict[str, str]) -> None:
    url = f"{V2}/queue/reorder"
    a, c, d = (abcd[name] for name in "ACD")
    client.post(f"{V2}/jobs/{d}/cancel")

    assert (
        "more than once"
        in assert_problem(client.post(url, json={"job_ids": [c, a, c]}), 422, field="job_ids")[
            "detail"
        ]
    )
    assert_problem(client.post(url, json={"job_ids": []}), 422, field="job_ids")
    assert_problem(client.post(url, json={"job_ids": [a] * 51}), 422, field="job_ids")
    assert_problem(client.post(url, json={}), 422, field="job_ids")
    assert_problem(client.post(url, json={"job_ids": a}), 422, field="job_ids")
    assert_problem(client.post(url, json={"job_ids": [c, d]}), 409)
    assert_problem(client.post(url, json={"job_ids": [c, "job_missing"]}), 404)
    assert names(client, abcd) == ["A", "B", "C"]


def test_queue_writes_need_the_write_scope(
    reader: TestClient, writer: TestClient, echo_template: str
) -> None:
    a, b = post_job(writer)["job_id"], post_job(writer)["job_id"]

    assert_problem(reader.post(f"{V2}/queue/{b}/move", json={"position": 1}), 403)
    assert_problem(reader.post(f"{V2}/queue/{b}/priority", json={"priority": "high"}), 403)
    assert_problem(reader.post(f"{V2}/queue/reorder", json={"job_ids": [b, a]}), 403)
    assert queue_ids(reader) == [a, b]

    assert writer.post(f"{V2}/queue/{b}/move", json={"position": 1}).status_code == 200
    assert writer.post(f"{V2}/queue/reorder", json={"job_ids": [a, b]}).status_code == 200
    assert writer.post(f"{V2}/queue/{a}/priority", json={"priority": 1}).status_code == 200
    assert queue_ids(reader) == [b, a]


# --- stats --------------------------------------------------------------------------------------


def test_stats(client: TestClient, dynamo: Dynamo, echo_template: str) -> None:
    post_template(client, "other")
    oldest = post_job(client)
    post_job(client, priority="high")
    post_job(client, "other")
    cancelled = post_job(client)["job_id"]
    client.post(f"{V2}/jobs/{cancelled}/cancel")
    seed_job(dynamo, "job_busy", JobStatus.RUNNING)
    seed_job(dynamo, "job_done", JobStatus.FINISHED)

    response = client.get(f"{V2}/queue/stats")

    assert response.status_code == 200
    stats = response.json()
    assert stats["counts_by_status"] == {
        "queued": 3,
        "running": 1,
        "finished": 1,
        "cancelled": 1,
        "held": 0,
    }
    assert stats["queued_by_template"] == {"echo": 2, "other": 1}
    assert stats["queued"] == 3
    assert datetime.fromisoformat(stats["oldest_queued_at"]) == datetime.fromisoformat(
        oldest["created_at"]
    )
    assert stats["oldest_wait_seconds"] >= 0
    assert stats["running"] == ["job_busy"]
    assert stats["paused"] is False


def test_stats_of_an_empty_queue(reader: TestClient) -> None:
    stats = reader.get(f"{V2}/queue/stats").json()
    assert stats == {
        "counts_by_status": {"queued": 0, "running": 0, "finished": 0, "cancelled": 0, "held": 0},
        "queued_by_template": {},
        "queued": 0,
        "oldest_queued_at": None,
        "oldest_wait_seconds": None,
        "running": [],
        "paused": False,
        "state": {"paused": False, "changed_at": None, "changed_by": None, "note": None},
        "skipped_fires": 0,
        "rejected_runs": 0,
        "usage_last_24h": {
            "runs": 0,
            "calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
            "cost_usd": 0.0,
            "unpriced_calls": 0,
        },
    }


# --- pause and resume ---------------------------------------------------------------------------


def test_pause_persists_and_enqueue_goes_on(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    response = client.post(f"{V2}/queue/pause")

    assert response.status_code == 200
    assert response.json()["paused"] is True
    assert response.json()["changed_at"] is not None
    assert queue(client)["paused"] is True
    assert client.get(f"{V2}/queue/stats").json()["paused"] is True
    # another app over the same tables (another Lambda instance) sees it
    fresh = TestClient(create_app(stores), headers=dict(client.headers))
    assert fresh.get(f"{V2}/queue").json()["paused"] is True

    job = post_job(client)
    assert queue_ids(client) == [job["job_id"]]
    assert client.post(f"{V2}/queue/pause").json()["paused"] is True  # twice is fine

    resumed = client.post(f"{V2}/queue/resume")
    assert resumed.status_code == 200
    assert resumed.json()["paused"] is False
    assert fresh.get(f"{V2}/queue").json()["paused"] is False


def test_a_pause_keeps_its_note_and_who_paused_and_shows_them(client: TestClient) -> None:
    paused = client.post(f"{V2}/queue/pause", json={"note": "deploying the new model"})

    assert paused.status_code == 200, paused.text
    state = paused.json()
    assert (state["paused"], state["note"]) == (True, "deploying the new model")
    assert state["changed_by"]  # the admin key's id, never its secret
    assert "jsk_" not in state["changed_by"]
    for shown in (queue(client)["state"], client.get(f"{V2}/queue/stats").json()["state"]):
        assert shown == state

    resumed = client.post(f"{V2}/queue/resume").json()
    assert (resumed["paused"], resumed["note"]) == (False, None)  # the pause's note went with it
    assert queue(client)["state"] == resumed


def test_a_pause_note_is_checked(client: TestClient) -> None:
    assert_problem(client.post(f"{V2}/queue/pause", json={"note": "x" * 501}), 422)
    assert_problem(client.post(f"{V2}/queue/pause", json={"why": "typo"}), 422)
    assert queue(client)["paused"] is False


def test_pause_and_resume_need_the_admin_scope(
    client: TestClient, writer: TestClient, reader: TestClient
) -> None:
    for other in (writer, reader):
        assert "admin" in assert_problem(other.post(f"{V2}/queue/pause"), 403)["detail"]
    assert queue(reader)["paused"] is False

    client.post(f"{V2}/queue/pause")
    for other in (writer, reader):
        assert_problem(other.post(f"{V2}/queue/resume"), 403)
    assert queue(reader)["paused"] is True
