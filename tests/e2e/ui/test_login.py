"""Log in with a key, see the overview live, log out; a wrong key is refused."""

import re

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot


def test_login_then_logout(page: Page, dashboard: Dashboard) -> None:
    page.goto("/ui/")
    expect(page).to_have_url(f"{dashboard.base_url}/ui/login?next=%2Fui%2F")
    shoot(page, "login")
    login(page)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert dashboard.key not in page.url
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "jobsched_session")
    assert session["httpOnly"]
    assert session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # the scripts cannot read the key

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto("/ui/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_a_wrong_key_is_refused(page: Page) -> None:
    page.goto("/ui/login")
    page.get_by_label("API key").fill("jsk_nothere_wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")


def test_the_overview_counts_follow_the_queue_live(page: Page, dashboard: Dashboard) -> None:
    """A job submitted through the API appears in the counts without a reload (SSE)."""
    login(page)
    expect(page.locator("main")).to_have_attribute(
        "sse-connect", re.compile(r"^/ui/events\?panels=overview_counts")
    )
    headers = {"Authorization": f"Bearer {dashboard.key}"}
    with httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers) as api:
        assert api.post("/queue/pause", json={"note": "hold still"}).status_code == 200
        created = api.post("/jobs", json={"template_id": "echo", "params": {}})
        assert created.status_code == 201, created.text
    expect(page.locator('[data-status="queued"]')).to_have_text("1")
    shoot(page, "overview")
