"""The dashboard's queue page (issue 15) on a deep queue: 10,000 queued jobs against 50.

The app is served in this process by uvicorn on a SQLite store (the local runtime's), its queue
paused and seeded through the store's port (enqueue, as POST /jobs does, without HTTP), and the
page opened by Playwright in the system's Chromium. Figures, each the median of REPEATS:
- first render: navigation start to DOMContentLoaded, the list being in the page's HTML;
- the rows in the DOM (the page holds one page of the queue, never all of it);
- drop to updated order: a drag of the page's last row to the top, from the mouse's release
  to the list re-rendered from the API (the move, then GET /queue, then the swap).
The same figures for a 50-job queue, measured in the same run, are the baseline.
"""

import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.harness import NOOP, free_port, sqlite_rig
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.keys import mint_key
from jobsched.jobs.queue import pause
from jobsched.models import Scope
from jobsched.ports import Stores

DEEP, BASELINE = 10_000, 50
REPEATS = 5
ROWS = "tbody > tr[data-job-id]"


@dataclass(frozen=True)
class Figures:
    first_render_ms: float
    rows: int
    drop_ms: float


@contextmanager
def served(stores: Stores) -> Iterator[str]:
    import uvicorn

    from api.app import create_app

    port = free_port()
    config = uvicorn.Config(
        create_app(stores, ui_live="sse"), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def seed(stores: Stores, jobs: int) -> str:
    pause(stores, "bench: jobs stay queued")
    for _ in range(jobs):
        enqueue(stores, JobCreate(template_id=NOOP.template_id))
    return mint_key(stores.keys, "bench", [Scope.ADMIN]).secret


DROP_SCRIPT = """() => { window.benchDrop = new Promise(resolve => {
  const panel = document.getElementById("panel-queue_items");
  const swaps = panel.dataset.swaps;
  let dropped = 0;
  const once = {capture: true, once: true};
  document.addEventListener("mouseup", () => { dropped = performance.now(); }, once);
  new MutationObserver((_, observer) => {
    if (dropped && panel.dataset.swaps !== swaps) {
      observer.disconnect();
      resolve(performance.now() - dropped);
    }
  }).observe(panel, {attributes: true, attributeFilter: ["data-swaps"]});
}); }"""


def drag_last_to_top(page: Any) -> float:
    """ms from the release of the mouse to the re-rendered list (the moved row first)."""
    last = page.locator(ROWS).last
    moved = last.get_attribute("data-job-id")
    handle = last.locator(".drag-handle").bounding_box()
    top = page.locator(ROWS).first.bounding_box()
    assert handle is not None
    assert top is not None
    page.evaluate(DROP_SCRIPT)
    x = handle["x"] + handle["width"] / 2
    page.mouse.move(x, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    # a step of 10 px at a time, as a hand moves: SortableJS moves its placeholder row by row
    steps = max(int((handle["y"] - top["y"]) / 10), 1)
    for step in range(1, steps + 1):
        page.mouse.move(x, handle["y"] + (top["y"] + 2 - handle["y"]) * step / steps)
    page.mouse.move(x, top["y"] + 1)
    page.mouse.up()
    elapsed = float(page.evaluate("window.benchDrop"))
    first = page.locator(ROWS).first.get_attribute("data-job-id")
    assert first == moved, "the drop did not move the row to the top"
    return elapsed


def measure(jobs: int) -> Figures:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM_ARGS, chromium_path

    with sqlite_rig("NORMAL") as rig:
        key = seed(rig.api, jobs)
        with served(rig.api) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
            )
            # tall enough for the whole page of 50 rows: the drag needs no scrolling
            context = browser.new_context(
                base_url=base_url, viewport={"width": 1280, "height": 3200}
            )
            page = context.new_page()
            page.goto("/ui/login?next=/ui/")
            page.get_by_label("API key").fill(key)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/ui/")
            renders, drops, rows = [], [], 0
            for _ in range(REPEATS):
                page.goto("/ui/queue")
                page.locator(ROWS).first.wait_for()
                renders.append(
                    page.evaluate(
                        "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                    )
                )
                rows = page.locator("tr[data-job-id]").count()
                # the live stream's first push replaces the first paint: drag after it
                page.wait_for_function("document.getElementById('panel-queue_items').dataset.swaps")
                drops.append(drag_last_to_top(page))
            browser.close()
    return Figures(statistics.median(renders), rows, statistics.median(drops))


def main() -> None:
    print(f"Queue page: {DEEP:,} queued jobs against {BASELINE}, medians of {REPEATS}")
    deep, base = measure(DEEP), measure(BASELINE)
    print(f"{'':28}{f'{DEEP:,} jobs':>14}{f'{BASELINE} jobs':>14}{'ratio':>9}")
    for label, a, b, unit in (
        ("first render (nav -> DCL)", deep.first_render_ms, base.first_render_ms, "ms"),
        ("rows in the DOM", deep.rows, base.rows, ""),
        ("drop -> updated order", deep.drop_ms, base.drop_ms, "ms"),
    ):
        print(f"{label:28}{f'{a:.0f} {unit}':>14}{f'{b:.0f} {unit}':>14}{a / b:>8.2f}x")


if __name__ == "__main__":
    main()
