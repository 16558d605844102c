"""The Runs and Groups pages in a real browser against `jobsched local`: a running echo job's
log grows on its page without a reload (the event stream), its status changes when it ends,
the search filters its lines; the runs list; a group's timeline."""

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot
from tests.support.waiting import wait_until


def api_of(dashboard: Dashboard) -> httpx.Client:
    headers = {"Authorization": f"Bearer {dashboard.key}"}
    return httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers, timeout=60)


def started_run(api: httpx.Client, job_id: str) -> str:
    def run_id() -> str | None:
        job: dict[str, Any] = api.get(f"/jobs/{job_id}").json()
        return job["run"]["run_id"] if job.get("run") else None

    found: str = wait_until(run_id, what=f"{job_id} to start")
    return found


def test_a_running_jobs_log_follows_live_then_it_finishes(page: Page, dashboard: Dashboard) -> None:
    with api_of(dashboard) as api:
        created = api.post(
            "/jobs",
            json={"template_id": "echo", "params": {"message": "live log", "sleep_seconds": 4}},
        )
        assert created.status_code == 201, created.text
        run_id = started_run(api, created.json()["job_id"])

    login(page, next_path=f"/ui/runs/{run_id}")
    expect(page.get_by_role("heading", name=re.compile("Run"))).to_be_visible()
    log = page.get_by_test_id("log")
    expect(page.get_by_test_id("run-state")).to_have_text("started")
    # A line the worker writes only after three seconds arrives without a reload.
    expect(log).to_contain_text('"elapsed_seconds": 3')
    shoot(page, "run-log")
    expect(page.get_by_test_id("run-state")).to_have_text("completed")
    expect(page.get_by_test_id("exit-code")).to_have_text("0")
    expect(page.get_by_test_id("artifacts")).to_contain_text("echo.txt")
    with page.expect_download() as downloading:
        page.get_by_test_id("artifact-download").click()
    download = downloading.value
    assert download.suggested_filename == "echo.txt"
    assert Path(download.path()).read_text() == "live log\n"

    page.get_by_label("Search").fill('"elapsed_seconds": 2')
    expect(page.locator(".log-line.match")).to_have_count(1)
    expect(page.locator(".log-line:visible")).to_have_count(1)
    expect(page.locator("#log-matches")).to_contain_text("1 of")
    page.get_by_label("Search").fill("")
    expect(page.locator(".log-line:visible").nth(3)).to_be_visible()

    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.locator(f'[data-run="{run_id}"]')).to_contain_text("completed")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No runs match.")).to_be_visible()
    shoot(page, "runs")


def test_a_groups_page_shows_its_timeline(page: Page, dashboard: Dashboard) -> None:
    jobs = [
        {"template_id": "echo", "params": {"message": "one", "sleep_seconds": 0.5}},
        {"template_id": "echo", "params": {"message": "two", "exit_code": 3}},
    ]
    with api_of(dashboard) as api:
        made = api.post("/groups", json={"name": "pair", "mode": "sequential", "jobs": jobs})
        assert made.status_code == 201, made.text
        group_id = made.json()["group_id"]

        def ended() -> bool:
            return api.get(f"/groups/{group_id}").json()["status"] not in ("queued", "running")

        wait_until(ended, what="the group to end")

    login(page, next_path=f"/ui/groups/{group_id}")
    expect(page.get_by_test_id("group-status")).not_to_have_text("running")
    bars = page.locator(".gantt-bar")
    expect(bars).to_have_count(2)
    expect(bars.nth(0)).to_have_attribute("data-outcome", "completed")
    expect(bars.nth(1)).to_have_attribute("data-outcome", "failed")
    shoot(page, "group")
    page.get_by_role("link", name="Groups", exact=True).click()
    expect(page.locator(f'[data-group="{group_id}"]')).to_contain_text("pair")
