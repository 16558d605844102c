"""/ui/queue in a real browser against `jobsched local`: the API's order; a drag (previewed
while dragging) and a keyboard move change the API's order and the ETAs shown; a pause shows
its note; a read-only key gets no write controls."""

import re

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot
from tests.support.waiting import BOUND_SECONDS, wait_until

ROWS = "tbody > tr[data-job-id]"


def api(dashboard: Dashboard, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key or dashboard.key}"}
    return httpx.Client(
        base_url=f"{dashboard.base_url}/api/v2", headers=headers, timeout=BOUND_SECONDS
    )


def submit(client: httpx.Client, count: int, sleep_seconds: float = 0) -> list[str]:
    ids = []
    for n in range(count):
        params = {"message": f"job {n}", "sleep_seconds": sleep_seconds}
        created = client.post("/jobs", json={"template_id": "echo", "params": params})
        assert created.status_code == 201, created.text
        ids.append(created.json()["job_id"])
    return ids


def order(client: httpx.Client) -> list[str]:
    return [item["job_id"] for item in client.get("/queue").json()["items"]]


def shown(page: Page) -> list[str]:
    ids: list[str] = page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.jobId)")
    return ids


def settled(page: Page) -> None:
    """The live connection's first push (the panel as it is) has replaced the first paint."""
    expect(page.locator("#panel-queue_items")).to_have_attribute("data-swaps", re.compile(r"\d"))


def eta_of(page: Page, job_id: str) -> str:
    return page.locator(f'tr[data-job-id="{job_id}"] td.eta').inner_text()


def test_a_drag_reorders_the_queue_and_its_etas(page: Page, dashboard: Dashboard) -> None:
    """One long job holds the only slot, so the others wait with real estimates."""
    with api(dashboard) as client:
        (blocker,) = submit(client, 1, sleep_seconds=600)
        wait_until(
            lambda: client.get(f"/jobs/{blocker}").json()["status"] == "running",
            what="the blocking job to run",
        )
        queued = submit(client, 4)
        assert order(client) == queued
        login(page, next_path="/ui/queue")
        expect(page.locator(ROWS)).to_have_count(4)
        settled(page)
        assert shown(page) == queued
        last = queued[-1]
        before = eta_of(page, last)
        assert "UTC" in before, before  # an estimate, not a state

        handle = page.locator(f'tr[data-job-id="{last}"] .drag-handle').bounding_box()
        target = page.locator(f'tr[data-job-id="{queued[0]}"]').bounding_box()
        assert handle is not None
        assert target is not None
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        top_y = target["y"] + 2
        for step in range(1, 11):  # in steps, as a hand does: SortableJS follows the pointer
            y = handle["y"] + (top_y - handle["y"]) * step / 10
            page.mouse.move(handle["x"] + handle["width"] / 2, y)
        expect(page.locator("body")).to_have_class("dragging")
        # The preview: the moved job would start first, so its ETA (and others') changed.
        # (.first: SortableJS's floating copy of the row under the pointer is the second)
        changed = page.locator(f'tr[data-job-id="{last}"] td.eta.eta-changed').first
        expect(changed).to_be_visible()
        shoot(page, "queue-dragging")
        # A last step after the screenshot (which pauses the page): the drop lands where shown.
        page.mouse.move(handle["x"] + handle["width"] / 2, top_y + 1)
        page.mouse.up()

        # The list is re-rendered from the API once the move is made (Playwright's wait keeps
        # the page's events flowing, where a poll of the API from here would block them).
        expect(page.locator("body")).not_to_have_class("dragging")
        expect(page.locator(f'{ROWS}[data-position="1"]')).to_have_attribute("data-job-id", last)
        assert order(client) == [last, *queued[:3]]
        assert shown(page) == order(client)
        assert eta_of(page, last) != before  # re-rendered from the API: it starts sooner
        shoot(page, "queue")


def test_a_keyboard_move(page: Page, dashboard: Dashboard) -> None:
    with api(dashboard) as client:
        assert client.post("/queue/pause", json={"note": "keyboard"}).status_code == 200
        a, b, c = submit(client, 3)
        login(page, next_path="/ui/queue")
        expect(page.locator(ROWS)).to_have_count(3)
        settled(page)
        row = page.locator(f'tr[data-job-id="{c}"]')
        row.focus()
        page.keyboard.press("Alt+ArrowUp")
        wait_until(lambda: order(client) == [a, c, b], what="the key to move the job")
        expect(page.locator("#announce")).to_have_text(f"Moved job {c} to position 2")
        expect(page.locator(f'{ROWS}[data-position="2"]')).to_have_attribute("data-job-id", c)
        expect(page.locator(f'tr[data-job-id="{c}"]')).to_be_focused()
        page.keyboard.press("Alt+Home")
        wait_until(lambda: order(client) == [c, a, b], what="the key to move the job to the top")
        expect(page.locator("#announce")).to_have_text(f"Moved job {c} to position 1")
        page.get_by_role("button", name=f"Move down job {a}").click()
        wait_until(lambda: order(client) == [c, b, a], what="the button to move the job")
        expect(page.locator(f'tr[data-job-id="{a}"]')).to_be_focused()


def test_pause_with_a_note_and_live_arrivals(page: Page, dashboard: Dashboard) -> None:
    login(page, next_path="/ui/queue")
    page.get_by_label("Why pause").fill("maintenance window")
    page.get_by_role("button", name="Pause queue").click()
    expect(page.get_by_test_id("queue-state")).to_contain_text("maintenance window")
    with api(dashboard) as client:
        assert client.get("/queue").json()["state"]["note"] == "maintenance window"
        (job,) = submit(client, 1)
    expect(page.locator(f'tr[data-job-id="{job}"]')).to_be_visible()  # live, no reload
    page.get_by_role("button", name="Resume queue").click()
    expect(page.get_by_test_id("queue-state")).to_contain_text("dispatching")


def test_a_read_only_key_has_no_write_controls(page: Page, dashboard: Dashboard) -> None:
    with api(dashboard) as client:
        assert client.post("/queue/pause").status_code == 200
        submit(client, 2)
        minted = client.post("/keys", json={"name": "viewer", "scopes": ["read"]})
        assert minted.status_code == 201, minted.text
    login(page, key=minted.json()["secret"], next_path="/ui/queue")
    expect(page.locator(ROWS)).to_have_count(2)
    for control in (".drag-handle", "input[type=checkbox]", "select", "button[data-move]"):
        expect(page.locator(f"main {control}")).to_have_count(0)
    expect(page.get_by_role("button", name="Pause queue")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
