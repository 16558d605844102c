"""Every page of the dashboard in the browser: it renders with its heading, its console stays
clean (the `page` fixture fails on any error), nothing is requested outside the app, and a
read-only key's pages carry no write control."""

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot

PAGES = {
    "/ui/": "overview",
    "/ui/queue": "queue",
    "/ui/runs": "runs",
    "/ui/groups": "groups",
    "/ui/schedules": "schedules",
    "/ui/templates": "templates",
    "/ui/keys": "keys",
}
# What a write control looks like on any page: a form or htmx element that writes, a drag
# handle, a bulk checkbox (the logout is in the header, outside <main>).
WRITE_CONTROLS = (
    "main form[method=post], main [hx-post], main [hx-patch], main [hx-delete], "
    "main .drag-handle, main input[type=checkbox]"
)


def test_every_page_renders_with_a_clean_console(page: Page, dashboard: Dashboard) -> None:
    login(page)
    for path, name in PAGES.items():
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("link", name="jobsched")).to_be_visible()
        shoot(page, f"page-{name}")


def test_a_read_only_key_sees_no_write_control(page: Page, dashboard: Dashboard) -> None:
    headers = {"Authorization": f"Bearer {dashboard.key}"}
    with httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers) as api:
        assert api.post("/queue/pause", json={"note": "still"}).status_code == 200
        assert api.post("/jobs", json={"template_id": "echo", "params": {}}).status_code == 201
        minted = api.post("/keys", json={"name": "viewer", "scopes": ["read"]})
        assert minted.status_code == 201, minted.text
    login(page, minted.json()["secret"])
    expect(page.get_by_role("link", name="Keys")).to_have_count(0)
    for path in [p for p, name in PAGES.items() if name != "keys"]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.locator(WRITE_CONTROLS).count() == 0, path
    shoot(page, "read-only-queue")
