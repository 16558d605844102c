"""The schedule form in a browser: the preview follows the typing (a dry run, nothing made),
a bad expression is named inline, and the submit creates the schedule."""

import re

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot


def schedules(dashboard: Dashboard) -> list[dict[str, object]]:
    headers = {"Authorization": f"Bearer {dashboard.key}"}
    with httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers) as api:
        items: list[dict[str, object]] = api.get("/schedules").json()["items"]
    return items


def test_the_preview_follows_the_typing_then_create(page: Page, dashboard: Dashboard) -> None:
    login(page, next_path="/ui/schedules/new")
    expect(page.get_by_role("heading", name="New schedule")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("weekday report")
    page.get_by_label("Template", exact=True).select_option("echo")
    page.get_by_label("Time zone", exact=True).fill("America/New_York")
    page.get_by_label("Expression", exact=True).fill("cron(0 9 ? * MON-FRI *)")

    preview = page.locator("#schedule-preview")
    expect(preview.get_by_test_id("preview-words")).to_contain_text(
        "At 09:00, Monday through Friday"
    )
    fires = preview.locator('[data-testid="next-fires"] li')
    expect(fires).to_have_count(5)
    expect(fires.first).to_contain_text("09:00")
    assert schedules(dashboard) == []  # a preview is a dry run

    page.get_by_label("Expression", exact=True).fill("cron(0 25 * * ? *)")
    expect(preview.get_by_test_id("preview-errors")).to_be_visible()
    expect(page.locator("#err-expression")).not_to_be_empty()
    assert schedules(dashboard) == []

    # EventBridge's day 2 is Monday (Unix's would be Tuesday).
    page.get_by_label("Expression", exact=True).fill("cron(30 7 ? * 2 *)")
    expect(preview.get_by_test_id("preview-words")).to_contain_text("At 07:30, only on Monday")
    expect(page.locator("#err-expression")).to_be_empty()
    shoot(page, "schedule-edit")

    page.get_by_role("button", name="Create schedule").click()
    expect(page).to_have_url(re.compile(r"/ui/schedules$"))
    row = page.locator("tr", has_text="weekday report")
    expect(row).to_contain_text("At 07:30, only on Monday")
    expect(row).to_contain_text("America/New_York")
    [made] = schedules(dashboard)
    assert (made["expression"], made["timezone"]) == ("cron(30 7 ? * 2 *)", "America/New_York")
    shoot(page, "schedules")
