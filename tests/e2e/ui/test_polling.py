"""The dashboard where the server cannot stream (as behind API Gateway): `jobsched local` with
JOBSCHED_UI_LIVE=poll. The pages poll their panels with the ETag of what they show, get 304 while
nothing changed, and still follow the queue without a reload."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login
from tests.support.local_process import API_KEY, FAST, kill, start_local


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    output = tmp_path / "jobsched-local.log"
    data_dir = tmp_path / "data"
    environment = {**FAST, "JOBSCHED_UI_LIVE": "poll"}
    process, base_url = start_local(output, "--data-dir", str(data_dir), environment=environment)
    try:
        yield Dashboard(base_url, API_KEY, data_dir, output)
    finally:
        kill(process)


def test_a_polling_page_follows_the_queue_with_etags(page: Page, dashboard: Dashboard) -> None:
    login(page)  # the overview
    assert page.locator("[sse-connect]").count() == 0
    # Nothing changed since the page was drawn: its first ask carries the ETag of its first
    # paint and is told so (304), and so is every one after it.
    for _ in range(2):
        with page.expect_response(lambda r: "/ui/panels/overview_counts" in r.url) as asked:
            pass
        assert asked.value.status == 304
        assert asked.value.request.headers.get("if-none-match")

    headers = {"Authorization": f"Bearer {dashboard.key}"}
    with httpx.Client(base_url=f"{dashboard.base_url}/api/v2", headers=headers) as api:
        assert api.post("/queue/pause", json={"note": "hold"}).status_code == 200
        assert api.post("/jobs", json={"template_id": "echo", "params": {}}).status_code == 201
    expect(page.locator('[data-status="queued"]')).to_have_text("1")  # a 200 with the change
