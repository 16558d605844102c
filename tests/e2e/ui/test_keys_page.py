"""The keys page in a real browser: create a key, its secret shown once, revoke it."""

import re

from playwright.sync_api import Page, expect

from tests.support.browser import Dashboard, login, shoot


def test_create_a_key_see_its_secret_once_then_revoke_it(page: Page, dashboard: Dashboard) -> None:
    login(page, next_path="/ui/keys")
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.get_by_label("Name").fill("ci-robot")
    page.get_by_label("write").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("key-secret")
    expect(secret).to_have_text(re.compile(r"^jsk_\w+_\S+$"))
    shown = secret.inner_text()
    row = page.locator("tr", has_text="ci-robot")
    expect(row).to_contain_text("write")
    shoot(page, "keys")

    page.reload()
    expect(page.locator("tr", has_text="ci-robot")).to_be_visible()
    assert shown not in page.content()  # shown once: not after a reload

    page.on("dialog", lambda dialog: dialog.accept())  # the revoke button's confirm
    page.locator("tr", has_text="ci-robot").get_by_role(
        "button", name="Revoke key ci-robot"
    ).click()
    expect(page.locator("tr", has_text="ci-robot")).to_contain_text("revoked")
    expect(page.locator("tr", has_text="ci-robot").get_by_role("button")).to_have_count(0)
