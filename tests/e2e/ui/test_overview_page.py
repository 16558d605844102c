"""The overview in a real browser: its chart draws, a running job shows and is stopped."""

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot


def test_the_overview_draws_its_chart_and_stops_a_running_job(
    page: Page, dashboard: Dashboard
) -> None:
    headers = {"Authorization": f"Bearer {dashboard.key}"}
    with httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers) as api:
        created = api.post("/jobs", json={"template_id": "echo", "params": {"sleep_seconds": 600}})
        assert created.status_code == 201, created.text
        job_id = created.json()["job_id"]
        login(page)
        expect(page.locator("#overview-chart canvas")).to_have_count(1)
        row = page.locator(f'#panel-overview_running tr[data-job-id="{job_id}"]')
        expect(row).to_be_visible()  # the local dispatcher starts it; the panel follows (SSE)
        shoot(page, "overview")

        page.on("dialog", lambda dialog: dialog.accept())  # the stop button's confirm
        row.get_by_role("button", name=f"Stop job {job_id}").click()
        expect(row).to_have_count(0)
        expect(page.locator("#announce")).to_contain_text(f"Job {job_id} is cancelled.")
        assert api.get(f"/jobs/{job_id}").json()["status"] == "cancelled"
        # Its failed run ("cancelled") lands in the chart's data, and the chart is redrawn.
        expect(page.locator('#panel-overview_attention li[data-kind="failed"]')).to_contain_text(
            "cancelled"
        )
        expect(page.locator("#overview-chart canvas")).to_have_count(1)
