"""Sharing across two users in two browsers (headless Chromium, `assistants-ui run`,
passwords): Anna shares a snapshot, Bert opens it read-only and never sees what came
after; a browser that is not signed in gets the login; Anna revokes and Bert is told."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from test_isolation_browser import signed_in
from test_login_browser import TIMEOUT

from assistants_ui.web.share_view import REVOKED
from browser_support import send

pytestmark = pytest.mark.browser


def menu(page: Page) -> Locator:
    """The conversation's menu (above the open conversation), opened."""
    body = page.get_by_test_id("stPopoverBody")
    if not body.is_visible():
        main = page.get_by_role("main").get_by_test_id("stPopover")
        main.filter(has_text="Conversation").get_by_role("button").first.click()
    expect(body).to_be_visible(timeout=TIMEOUT)
    return body


def close_menu(page: Page) -> None:
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stPopoverBody")).to_have_count(0, timeout=TIMEOUT)


@pytest.mark.parametrize("two_users_app", [1, 2], indirect=True, ids=["one", "two-assistants"])
def test_a_shared_snapshot_across_two_users(browser: Browser, two_users_app: str) -> None:
    anna = browser.new_context().new_page()
    signed_in(anna, two_users_app, "anna", "anna-password-1", "Anna A")
    send(anna, "Anna's shared plan")
    expect(anna.get_by_text("Fake answer to: Anna's shared plan")).to_be_visible(timeout=TIMEOUT)
    menu(anna).get_by_role("button", name="Share a read-only snapshot").click()
    code = menu(anna).locator("code", has_text="?share=")
    expect(code).to_have_count(1, timeout=TIMEOUT)
    link = code.inner_text().strip()
    assert link.startswith(two_users_app.rstrip("/")), link
    close_menu(anna)

    bert = browser.new_context().new_page()
    signed_in(bert, two_users_app, "bert", "bert-password-1", "Bert B")
    bert.goto(link)
    expect(bert.get_by_text("Fake answer to: Anna's shared plan")).to_be_visible(timeout=TIMEOUT)
    expect(bert.get_by_text("read-only snapshot")).to_be_visible()
    expect(bert.get_by_test_id("stChatInput")).to_have_count(0)  # nothing to send
    # no menu in the snapshot: not his to revoke (the sidebar has his own project menu)
    expect(bert.get_by_role("main").get_by_test_id("stPopover")).to_have_count(0)

    # A browser nobody signed in to gets the login, not the snapshot (SHARE_LINKS_PUBLIC off).
    guest = browser.new_context().new_page()
    guest.goto(link)
    expect(guest.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
    expect(guest.get_by_text("Anna's shared plan")).to_have_count(0)

    send(anna, "Anna's later words")
    expect(anna.get_by_text("Fake answer to: Anna's later words")).to_be_visible(timeout=TIMEOUT)
    bert.reload()
    expect(bert.get_by_text("Fake answer to: Anna's shared plan")).to_be_visible(timeout=TIMEOUT)
    expect(bert.get_by_text("Anna's later words")).to_have_count(0)

    menu(anna).get_by_role("button", name="Revoke").click()
    expect(menu(anna).locator("code", has_text="?share=")).to_have_count(0, timeout=TIMEOUT)
    bert.reload()
    expect(bert.get_by_text(REVOKED)).to_be_visible(timeout=TIMEOUT)
    expect(bert.get_by_text("Anna's shared plan")).to_have_count(0)
