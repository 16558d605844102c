"""A template's run form in a browser: its JSON Schema's bounds are the inputs' own, so the
browser stops an out-of-range number before any request; a good submit makes the job."""

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot


def echo_jobs(dashboard: Dashboard) -> list[dict[str, object]]:
    headers = {"Authorization": f"Bearer {dashboard.key}"}
    with httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers) as api:
        items: list[dict[str, object]] = api.get("/jobs").json()["items"]
    return [job for job in items if job["template_id"] == "echo"]


def test_the_run_form_is_checked_by_the_browser_then_runs(page: Page, dashboard: Dashboard) -> None:
    login(page, next_path="/ui/templates")
    expect(page.get_by_role("link", name="Echo")).to_be_visible()
    shoot(page, "templates")
    page.get_by_role("link", name="Echo").click()
    expect(page.get_by_role("heading", name="Run with these params")).to_be_visible()

    exit_code = page.get_by_label("exit_code", exact=True)
    exit_code.fill("999")  # the schema's maximum is 255
    page.get_by_role("button", name="Run").click()
    assert exit_code.evaluate("input => input.validity.rangeOverflow")
    assert not page.locator("#tpl-run-result").inner_text().strip()
    assert echo_jobs(dashboard) == []

    exit_code.fill("0")
    page.get_by_label("message", exact=True).fill("from the browser")
    page.get_by_role("button", name="Run").click()
    created = page.get_by_test_id("job-created")
    expect(created).to_contain_text("Queued")
    [job] = echo_jobs(dashboard)
    assert job["params"]["message"] == "from the browser"  # type: ignore[index]
    assert job["params"]["exit_code"] == 0  # type: ignore[index]
    expect(created).to_contain_text(str(job["job_id"]))
    shoot(page, "template-run")
