"""A real browser for the dashboard's tests: Playwright (from PyPI) driving the system's
Chromium (Debian's package, installed by `make browser`), headless, against `jobsched local`.

Every page's console must stay clean: a test fails on any console error or uncaught exception.
Each test may save screenshots (`shoot`) under `.screenshots/` for a person to look at.
"""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.local_process import API_KEY, FAST, kill, start_local

CHROMIUM_ENV = "JOBSCHED_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# The flags the machine's Chromium needs headless as root, and no traffic of its own: with its
# background networking on, a closed network refuses its connections many at a time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".screenshots"
WAIT_MS = 60_000  # Playwright's bound for a wait: a hang ends, a slow machine passes


def chromium_path() -> str:
    path = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or DEFAULT_CHROMIUM
    if not Path(path).is_file():
        pytest.fail(
            f"no Chromium at {path}: run `make browser` (it installs Debian's chromium with apt), "
            f"or set {CHROMIUM_ENV} to a Chromium or Chrome binary",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Per module, not per session: Playwright's sync API keeps an event loop running in this
    thread while it is open, and a later test that runs a loop of its own here (the Lambda
    handler's Mangum) would find it running."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@dataclass
class Dashboard:
    """A running `jobsched local` and where its dashboard is."""

    base_url: str
    key: str
    data_dir: Path
    output: Path


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    data_dir = tmp_path / "data"
    output = tmp_path / "jobsched-local.log"
    process, base_url = start_local(output, "--data-dir", str(data_dir), environment=FAST)
    try:
        yield Dashboard(base_url, API_KEY, data_dir, output)
    finally:
        kill(process)


@dataclass
class Console:
    """What the page said on its console: errors fail the test at its end."""

    errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: object, dashboard: Dashboard) -> Iterator[object]:
    """A fresh browser context (no cookies) on the dashboard; its console must stay clean."""
    from playwright.sync_api import Browser, ConsoleMessage, Error

    assert isinstance(browser, Browser)
    context = browser.new_context(
        base_url=dashboard.base_url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    console = Console()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.errors.append(f"{opened.url}: {message.text}")

    def on_error(error: Error) -> None:
        console.errors.append(f"{opened.url}: uncaught {error}")

    opened.on("console", on_console)
    opened.on("pageerror", on_error)
    # Any request that leaves the app fails the test: the dashboard must work offline.
    outside: list[str] = []
    context.route(
        lambda url: not url.startswith(dashboard.base_url),
        lambda route: (outside.append(route.request.url), route.abort()),
    )
    yield opened
    context.close()
    assert not outside, f"requests outside the app: {outside}"
    assert not console.errors, "console errors:\n" + "\n".join(console.errors)


def login(page: object, key: str = API_KEY, next_path: str = "/ui/") -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(f"/ui/login?next={next_path}")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def shoot(page: object, name: str) -> Path:
    """A full-page screenshot, for a person (and docs/) to look at."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
