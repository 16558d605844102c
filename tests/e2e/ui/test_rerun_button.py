"""The run page's Rerun button in a real browser against `jobsched local`: a finished echo
job's run page shows its lineage; Rerun makes a new job (the API's rerun, linked to this one)
and goes to it; the rerun's page lists both runs and diffs its artifacts against the first."""

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot
from tests.support.waiting import wait_until


def api_of(dashboard: Dashboard) -> httpx.Client:
    headers = {"Authorization": f"Bearer {dashboard.key}"}
    return httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers, timeout=60)


def finished_run(api: httpx.Client, job_id: str) -> str:
    def run_id() -> str | None:
        job: dict[str, Any] = api.get(f"/jobs/{job_id}").json()
        return job["run"]["run_id"] if job["status"] == "finished" else None

    found: str = wait_until(run_id, what=f"{job_id} to finish")
    return found


def test_rerun_from_the_run_page(page: Page, dashboard: Dashboard) -> None:
    with api_of(dashboard) as api:
        created = api.post("/jobs", json={"template_id": "echo", "params": {"message": "again"}})
        assert created.status_code == 201, created.text
        first_job = created.json()["job_id"]
        first_run = finished_run(api, first_job)

        login(page, next_path=f"/ui/runs/{first_run}")
        lineage = page.get_by_test_id("lineage")
        expect(lineage).to_contain_text("no reruns")
        page.get_by_test_id("rerun").click()
        # The new job's run page if it started at once, else the queue it waits in.
        expect(page).to_have_url(re.compile(r"/ui/(queue|runs/run_\w+)$"))

        def with_rerun() -> list[dict[str, Any]] | None:
            jobs: list[dict[str, Any]] = api.get(f"/jobs/{first_job}/lineage").json()["jobs"]
            return jobs if len(jobs) > 1 else None

        chain = wait_until(with_rerun, what="the rerun")
        assert [job["rerun_of"] for job in chain] == [None, first_job]
        second_run = finished_run(api, chain[1]["job_id"])

    page.goto(f"/ui/runs/{second_run}")
    expect(page.locator("[data-testid=lineage-tree] li")).to_have_count(2)
    expect(page.get_by_role("link", name="run", exact=True)).to_have_attribute(
        "href", f"/ui/runs/{first_run}"
    )
    shoot(page, "run-lineage")
    page.get_by_test_id("diff-previous").click()
    expect(page.get_by_role("heading", name="Identical")).to_be_visible()  # same params
    expect(page.get_by_test_id("diff-artifacts")).to_contain_text("identical")
    shoot(page, "run-diff")
