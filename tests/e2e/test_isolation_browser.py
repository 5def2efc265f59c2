"""Two users in two browsers (headless Chromium, `assistants-ui run`, passwords):
A chats, reloads and finds the conversation; B neither lists it nor opens it by link."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from test_login_browser import COOKIE_NAME, TIMEOUT, log_in

from browser_support import choose, send

pytestmark = pytest.mark.browser


def signed_in(page: Page, url: str, user: str, password: str, name: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
    log_in(page, user, password)
    expect(page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {name}")).to_be_visible(
        timeout=TIMEOUT
    )
    # The login cookie is written by a component after the page shows the login; a
    # navigation before it is stored would start a new session without it.
    page.wait_for_function(
        "name => document.cookie.split('; ').some(c => c.startsWith(name + '='))",
        arg=COOKIE_NAME,
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize("two_users_app", [1, 2], indirect=True, ids=["one", "two-assistants"])
def test_users_see_only_their_own_conversations(browser: Browser, two_users_app: str) -> None:
    """With two assistants (the original project's OPENAI_ASSISTANTS), every way of
    opening a conversation also picks its assistant: a reload, the history list, a
    link after signing in."""
    anna = browser.new_context().new_page()
    signed_in(anna, two_users_app, "anna", "anna-password-1", "Anna A")
    picker = anna.get_by_role("combobox", name="Assistant")
    two = picker.count() > 0
    if two:  # the conversation is the second assistant's: opening it must select it
        choose(anna, "Assistant", "🦉 Second")
    send(anna, "Anna's secret plan")
    expect(anna.get_by_text("Fake answer to: Anna's secret plan")).to_be_visible(timeout=TIMEOUT)
    side = anna.get_by_test_id("stSidebar")
    expect(side.get_by_role("button", name="Anna's secret plan")).to_be_visible(timeout=TIMEOUT)
    link = anna.url
    assert "?c=" in link

    anna.reload()  # the conversation comes back from storage, the login from the cookie
    expect(anna.get_by_text("Fake answer to: Anna's secret plan")).to_be_visible(timeout=TIMEOUT)
    expect(side.get_by_role("button", name="Anna's secret plan")).to_be_visible()
    expect(anna.get_by_text("Something went wrong")).to_have_count(0)
    if two:
        expect(picker).to_have_value("🦉 Second")
        choose(anna, "Assistant", "🤖 First")  # a new chat with the other assistant
        expect(anna.get_by_text("Fake answer to: Anna's secret plan")).to_have_count(0)
    else:
        anna.get_by_role("button", name="New chat").first.click()
        expect(anna.get_by_text("Fake answer to: Anna's secret plan")).to_have_count(0)
    side.get_by_role("button", name="Anna's secret plan").click()  # from the history list
    expect(anna.get_by_text("Fake answer to: Anna's secret plan")).to_be_visible(timeout=TIMEOUT)
    expect(anna.get_by_text("Something went wrong")).to_have_count(0)
    expect(side.get_by_role("button", name="Anna's secret plan")).to_be_visible()
    if two:
        expect(picker).to_have_value("🦉 Second")

    bert = browser.new_context().new_page()
    signed_in(bert, two_users_app, "bert", "bert-password-1", "Bert B")
    bert_side = bert.get_by_test_id("stSidebar")
    expect(bert_side.get_by_text("Your conversations appear here.")).to_be_visible()
    expect(bert.get_by_text("Anna's secret plan")).to_have_count(0)
    bert_side.get_by_placeholder("Search titles and messages").fill("secret")
    bert_side.get_by_placeholder("Search titles and messages").press("Enter")
    expect(bert_side.get_by_text("No conversation matches.")).to_be_visible(timeout=TIMEOUT)

    bert.goto(link)  # Anna's deep link, in Bert's browser
    expect(bert.get_by_text("Conversation not found.")).to_be_visible(timeout=TIMEOUT)
    expect(bert.get_by_text("Anna's secret plan")).to_have_count(0)
    expect(bert.get_by_text("Fake answer to")).to_have_count(0)

    # A deep link still works for its owner, in a fresh browser after logging in again.
    again = browser.new_context().new_page()
    again.goto(link)
    log_in(again, "anna", "anna-password-1")
    expect(again.get_by_text("Fake answer to: Anna's secret plan")).to_be_visible(timeout=TIMEOUT)
    expect(again.get_by_text("Something went wrong")).to_have_count(0)
    if two:
        expect(again.get_by_role("combobox", name="Assistant")).to_have_value("🦉 Second")
