"""A tour of a dashboard with a day's worth of state: completed and failed runs, a running job,
a queue with a held job, a schedule. Each page shows that state, and the screenshots taken here
are the ones in docs/screenshots/ and the README."""

from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot
from tests.support.waiting import wait_until


def submit(api: httpx.Client, **params: Any) -> str:
    created = api.post("/jobs", json={"template_id": "echo", "params": params})
    assert created.status_code == 201, created.text
    job_id: str = created.json()["job_id"]
    return job_id


def status(api: httpx.Client, job_id: str) -> str:
    value: str = api.get(f"/jobs/{job_id}").json()["status"]
    return value


def test_a_tour_of_a_busy_dashboard(page: Page, dashboard: Dashboard) -> None:
    headers = {"Authorization": f"Bearer {dashboard.key}"}
    with httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers) as api:
        done = [submit(api, message=f"chapter {n}", sleep_seconds=0.3) for n in range(3)]
        failed = submit(api, message="a bad prompt", exit_code=3)
        for job_id in [*done, failed]:
            wait_until(lambda j=job_id: status(api, j) == "finished", what=f"{job_id} to end")
        running = submit(api, message="a long research run", sleep_seconds=600)
        wait_until(lambda: status(api, running) == "running", what="the long job to start")
        queued = [submit(api, message=f"story {n}") for n in range(4)]
        held = api.post(f"/jobs/{queued[2]}/hold", json={"note": "waiting for the editor"})
        assert held.status_code == 200, held.text
        schedule = api.post(
            "/schedules",
            json={
                "name": "nightly digest",
                "template_id": "echo",
                "expression": "cron(30 2 * * ? *)",
                "timezone": "Europe/Berlin",
            },
        )
        assert schedule.status_code == 201, schedule.text
        run_id = api.get(f"/jobs/{running}").json()["run"]["run_id"]

        login(page)
        expect(page.locator("#panel-overview_running")).to_contain_text("Echo")
        expect(page.locator("#panel-overview_attention")).to_contain_text("waiting for the editor")
        expect(page.locator("#panel-overview_fires")).to_contain_text("nightly digest")
        shoot(page, "tour-overview")

        page.goto("/ui/queue")
        for job_id in queued:
            expect(page.locator(f'tr[data-job-id="{job_id}"]')).to_be_visible()
        expect(page.locator(f'tr[data-job-id="{queued[2]}"]')).to_contain_text("held")
        shoot(page, "tour-queue")

        page.goto(f"/ui/runs/{run_id}")
        expect(page.locator("pre.log, .log").first).to_contain_text("a long research run")
        shoot(page, "tour-run")

        page.goto("/ui/schedules")
        expect(page.get_by_role("link", name="nightly digest")).to_be_visible()
        expect(page.locator("main")).to_contain_text("02:30")
        shoot(page, "tour-schedules")

        assert api.post(f"/jobs/{running}/cancel").status_code == 200
