"""The dashboard in a real browser (tests/support/browser.py) against `jobsched local`."""

from tests.support.browser import browser, dashboard, page

__all__ = ["browser", "dashboard", "page"]
