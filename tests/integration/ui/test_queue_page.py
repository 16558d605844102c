"""/ui/queue in process, over both stores: the API's order with positions and ETAs, a page at
a time; every write through the dashboard's routes changes the API's state; a preview changes
nothing; a move that lost a race is said; a read-only key gets no controls and is refused."""

import re

import pytest
from fastapi.testclient import TestClient

from tests.support.ui import write_headers

QUEUE = "/ui/queue"


def submit(api: TestClient, template: str, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        created = api.post("/api/v2/jobs", json={"template_id": template, "params": {"count": 1}})
        assert created.status_code == 201, created.text
        ids.append(created.json()["job_id"])
    return ids


def order(api: TestClient) -> list[str]:
    return [
        item["job_id"] for item in api.get("/api/v2/queue", params={"limit": 200}).json()["items"]
    ]


def shown(html: str) -> list[str]:
    return re.findall(r'<tr tabindex="0" data-job-id="([^"]+)"', html)


@pytest.fixture
def queued(client: TestClient, echo_template: str) -> list[str]:
    """Four jobs waiting behind a paused queue."""
    assert client.post("/api/v2/queue/pause", json={"note": "ui test"}).status_code == 200
    return submit(client, echo_template, 4)


def test_the_page_lists_the_api_order_with_positions_and_etas(
    admin_ui: TestClient, client: TestClient, queued: list[str]
) -> None:
    page = admin_ui.get(QUEUE)
    assert page.status_code == 200
    html = page.text
    assert shown(html) == order(client) == queued
    for position, job_id in enumerate(queued, start=1):
        assert f'data-job-id="{job_id}" data-position="{position}"' in html
    assert html.count('data-eta="paused"') == 4  # the API's ETA state: a paused queue
    assert "ui test" in html  # the pause's note
    assert "Sortable.min.js" in html
    assert "queue.js" in html
    assert 'id="panel-queue_items"' in html


def test_page_two_follows_the_api_cursor(
    admin_ui: TestClient, client: TestClient, echo_template: str
) -> None:
    client.post("/api/v2/queue/pause")
    ids = submit(client, echo_template, 53)
    first = admin_ui.get(QUEUE).text
    assert shown(first) == ids[:50]
    cursor = client.get("/api/v2/queue", params={"limit": 50}).json()["next_cursor"]
    assert cursor
    assert "Next page" in first
    second = admin_ui.get(QUEUE, params={"cursor": cursor}).text
    assert shown(second) == ids[50:]
    assert f'data-job-id="{ids[51]}" data-position="52"' in second  # queue-wide places
    panel = admin_ui.get("/ui/panels/queue_items", params={"cursor": cursor}).text
    assert shown(panel) == ids[50:]


def test_moves_change_the_api_order(
    admin_ui: TestClient, client: TestClient, queued: list[str]
) -> None:
    headers = write_headers(admin_ui, QUEUE)
    a, b, c, d = queued
    moved = admin_ui.post("/ui/queue/move", json={"job_id": d, "position": 1}, headers=headers)
    assert moved.status_code == 200
    assert "X-Refused" not in moved.headers
    assert order(client) == [d, a, b, c]
    assert shown(moved.text) == [d, a, b, c]  # the list re-rendered from the API
    top = admin_ui.post(f"/ui/queue/{c}/top", headers=headers)
    assert shown(top.text) == order(client) == [c, d, a, b]
    bottom = admin_ui.post(f"/ui/queue/{c}/bottom", headers=headers)
    assert shown(bottom.text) == order(client) == [d, a, b, c]
    # A form post (an htmx button) works as the script's JSON.
    admin_ui.post("/ui/queue/move", data={"job_id": b, "position": "2"}, headers=headers)
    assert order(client) == [d, b, a, c]


def test_priority_hold_release_cancel(
    admin_ui: TestClient, client: TestClient, queued: list[str]
) -> None:
    headers = write_headers(admin_ui, QUEUE)
    a, b, c, _d = queued
    admin_ui.post(f"/ui/queue/{c}/priority", data={"priority": "high"}, headers=headers)
    assert client.get(f"/api/v2/jobs/{c}").json()["priority"] == "high"
    assert order(client)[0] == c
    held = admin_ui.post(f"/ui/queue/{a}/hold", headers={**headers, "HX-Prompt": "wait for b"})
    job = client.get(f"/api/v2/jobs/{a}").json()
    assert job["status"] == "held"
    assert job["hold"]["note"] == "wait for b"
    assert 'title="wait for b">held</span>' in held.text
    assert f'aria-label="Release job {a}"' in held.text
    admin_ui.post(f"/ui/queue/{a}/release", headers=headers)
    assert client.get(f"/api/v2/jobs/{a}").json()["status"] == "queued"
    cancelled = admin_ui.post(f"/ui/queue/{b}/cancel", headers=headers)
    assert client.get(f"/api/v2/jobs/{b}").json()["status"] == "cancelled"
    assert b not in shown(cancelled.text)
    assert admin_ui.post(f"/ui/queue/{b}/explode", headers=headers).status_code == 404


def test_bulk_actions(admin_ui: TestClient, client: TestClient, queued: list[str]) -> None:
    headers = write_headers(admin_ui, QUEUE)
    a, b, c, d = queued
    admin_ui.post("/ui/queue/bulk", data={"action": "top", "job_id": [c, d]}, headers=headers)
    assert order(client) == [c, d, a, b]  # their order kept
    admin_ui.post("/ui/queue/bulk", data={"action": "bottom", "job_id": [c]}, headers=headers)
    assert order(client) == [d, a, b, c]
    form = {"action": "hold", "job_id": [a, b], "note": "batch"}
    admin_ui.post("/ui/queue/bulk", data=form, headers=headers)
    for job_id in (a, b):
        job = client.get(f"/api/v2/jobs/{job_id}").json()
        assert job["status"] == "held"
        assert job["hold"]["note"] == "batch"
    admin_ui.post("/ui/queue/bulk", data={"action": "release", "job_id": [a, b]}, headers=headers)
    assert {client.get(f"/api/v2/jobs/{j}").json()["status"] for j in (a, b)} == {"queued"}
    done = admin_ui.post(
        "/ui/queue/bulk", data={"action": "cancel", "job_id": [a, d]}, headers=headers
    )
    assert order(client) == [b, c]
    assert shown(done.text) == [b, c]
    nothing = admin_ui.post("/ui/queue/bulk", data={"action": "cancel"}, headers=headers)
    assert "Nothing done" in nothing.text
    assert order(client) == [b, c]


def test_pause_and_resume_with_a_note(
    admin_ui: TestClient, client: TestClient, echo_template: str
) -> None:
    headers = write_headers(admin_ui, QUEUE)
    paused = admin_ui.post("/ui/queue/pause", data={"note": "deploy at 5"}, headers=headers)
    state = client.get("/api/v2/queue").json()["state"]
    assert state["paused"]
    assert state["note"] == "deploy at 5"
    assert "deploy at 5" in paused.text
    assert ">paused<" in paused.text
    resumed = admin_ui.post("/ui/queue/resume", headers=headers)
    assert not client.get("/api/v2/queue").json()["paused"]
    assert ">dispatching<" in resumed.text


def test_a_preview_changes_nothing(
    admin_ui: TestClient, client: TestClient, queued: list[str]
) -> None:
    headers = write_headers(admin_ui, QUEUE)
    before = client.get("/api/v2/queue").json()
    answer = admin_ui.post(
        "/ui/queue/preview", json={"job_id": queued[3], "position": 1}, headers=headers
    )
    assert answer.status_code == 200
    etas = answer.json()["etas"]
    assert set(etas) == set(queued)
    assert etas[queued[3]]["position"] == 1
    assert etas[queued[0]]["position"] == 2
    assert etas[queued[0]]["text"] == "paused"
    assert not etas[queued[0]]["changed"]
    assert client.get("/api/v2/queue").json()["items"] == before["items"]


def test_a_preview_while_dispatching_shows_changed_etas(
    admin_ui: TestClient, client: TestClient, echo_template: str
) -> None:
    """Not paused (no dispatcher runs in process): the ETAs are estimates, and a move to the
    front makes the moved job's earlier."""
    ids = submit(client, echo_template, 4)
    headers = write_headers(admin_ui, QUEUE)
    answer = admin_ui.post(
        "/ui/queue/preview", json={"job_id": ids[3], "position": 1}, headers=headers
    ).json()["etas"]
    assert answer[ids[3]]["changed"]
    assert "UTC" in answer[ids[3]]["text"]
    assert order(client) == ids


def test_a_move_that_lost_a_race_is_reported(
    admin_ui: TestClient, client: TestClient, queued: list[str]
) -> None:
    headers = write_headers(admin_ui, QUEUE)
    gone = queued[1]
    assert client.post(f"/api/v2/jobs/{gone}/cancel").status_code == 200  # meanwhile
    answer = admin_ui.post("/ui/queue/move", json={"job_id": gone, "position": 1}, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["X-Outcome"] == "lost"
    assert f"Job {gone} could not be changed" in answer.text
    assert "cancelled" in answer.text  # the API's word for what happened
    assert 'hx-swap-oob="innerHTML"' in answer.text
    assert shown(answer.text) == order(client) == [queued[0], queued[2], queued[3]]
    unknown = admin_ui.post(
        "/ui/queue/move", json={"job_id": "nope", "position": 1}, headers=headers
    )
    assert "Job nope is gone" in unknown.text
    assert unknown.headers["X-Outcome"] == "lost"
    lost = admin_ui.post(
        "/ui/queue/bulk", data={"action": "top", "job_id": [queued[3], gone]}, headers=headers
    )
    assert "1 of 2 done" in lost.text
    assert gone in lost.text
    assert order(client)[0] == queued[3]


def test_bad_input_is_a_clear_refusal(admin_ui: TestClient, queued: list[str]) -> None:
    headers = write_headers(admin_ui, QUEUE)
    answer = admin_ui.post(
        "/ui/queue/move", json={"job_id": queued[0], "position": "first"}, headers=headers
    )
    assert answer.status_code == 200
    assert answer.headers["X-Refused"] == "422"


def test_a_read_only_key_sees_no_controls_and_is_refused(
    reader_ui: TestClient, client: TestClient, queued: list[str]
) -> None:
    html = reader_ui.get(QUEUE).text
    assert shown(html) == queued
    for control in (
        "drag-handle",
        'type="checkbox"',
        "<select",
        "Pause queue",
        "data-move",
        "Sortable.min.js",
        "hx-post",
    ):
        assert control not in html, control
    headers = write_headers(reader_ui, QUEUE)
    writes = [
        ("/ui/queue/move", {"job_id": queued[3], "position": 1}),
        (f"/ui/queue/{queued[0]}/cancel", None),
        (f"/ui/queue/{queued[0]}/hold", None),
        ("/ui/queue/pause", {"note": "mine"}),
    ]
    for path, body in writes:
        refused = reader_ui.post(path, json=body, headers=headers)
        assert refused.headers.get("X-Refused") == "403", path
    bulk = reader_ui.post(
        "/ui/queue/bulk", data={"action": "cancel", "job_id": queued}, headers=headers
    )
    assert bulk.headers.get("X-Refused") == "403"
    assert order(client) == queued
    assert client.get(f"/api/v2/jobs/{queued[0]}").json()["status"] == "queued"
