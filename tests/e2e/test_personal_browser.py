"""Personal instructions in Chromium (`assistants-ui run`, password login, two assistants):
written on the settings page, they reach the request the fake server receives, on either
assistant, and only for the user who wrote them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from test_isolation_browser import signed_in
from test_login_browser import TIMEOUT

from browser_support import choose, send
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser


def system_prompts(fake: FakeOpenAI) -> list[str]:
    out = []
    for call in fake.calls("chat.completions"):
        messages = call.body.get("messages") or []
        out.append(messages[0]["content"] if messages and messages[0]["role"] == "system" else "")
    return out


def write_instructions(page: Page, about: str, how: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("textbox", name="About me").fill(about)
    page.get_by_role("textbox", name="How to answer").fill(how)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved: your next answers use them.")).to_be_visible(timeout=TIMEOUT)
    page.get_by_test_id("stSidebar").get_by_role("link", name="First").click()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=TIMEOUT)


@pytest.mark.parametrize("two_users_app", [2], indirect=True, ids=["two-assistants"])
def test_personal_instructions_reach_the_request_on_every_assistant(
    browser: Browser, two_users_app: str, fake: FakeOpenAI
) -> None:
    anna = browser.new_context().new_page()
    signed_in(anna, two_users_app, "anna", "anna-password-1", "Anna A")
    write_instructions(anna, "I teach chemistry in Lyon.", "Answer with one example.")
    send(anna, "What is a mole?")
    expect(anna.get_by_text("Fake answer to: What is a mole?")).to_be_visible(timeout=TIMEOUT)
    choose(anna, "Assistant", "🦉 Second")
    send(anna, "And a molar mass?")
    expect(anna.get_by_text("Fake answer to: And a molar mass?")).to_be_visible(timeout=TIMEOUT)
    first, second = system_prompts(fake)
    for system in (first, second):
        assert "I teach chemistry in Lyon." in system
        assert "Answer with one example." in system

    bert = browser.new_context().new_page()
    signed_in(bert, two_users_app, "bert", "bert-password-1", "Bert B")
    send(bert, "Hello")
    expect(bert.get_by_text("Fake answer to: Hello")).to_be_visible(timeout=TIMEOUT)
    assert "chemistry" not in system_prompts(fake)[-1]  # Anna's, not Bert's
