"""The prompt library in Chromium (`assistants-ui run`, password login, two assistants): a
prompt saved with a {{variable}} is inserted with "/", its variable asked for in a small
form, and what is sent is the filled prompt."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from test_isolation_browser import signed_in
from test_login_browser import TIMEOUT

from browser_support import choose, send
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("two_users_app", [2], indirect=True, ids=["two-assistants"])
def test_a_prompt_with_a_variable_is_inserted_with_a_slash(
    browser: Browser, two_users_app: str, fake: FakeOpenAI
) -> None:
    anna = browser.new_context().new_page()
    signed_in(anna, two_users_app, "anna", "anna-password-1", "Anna A")
    side = anna.get_by_test_id("stSidebar")
    side.get_by_role("link", name="Settings").click()
    anna.get_by_text("New prompt").click()
    anna.get_by_role("textbox", name="Name (typed after /)").fill("translate")
    anna.get_by_role("textbox", name="Prompt").fill("Translate {{text}} into Japanese.")
    anna.get_by_role("button", name="Save prompt").click()
    expect(anna.get_by_text("/translate")).to_be_visible(timeout=TIMEOUT)
    side.get_by_role("link", name="First").click()
    choose(anna, "Assistant", "🦉 Second")

    send(anna, "/")
    picker = anna.locator(".st-key-prompt-picker")
    picker.get_by_role("button", name="/translate").click()
    picker.get_by_role("textbox", name="text").fill("good night")
    picker.get_by_role("button", name="Insert").click()
    box = anna.get_by_test_id("stChatInputTextArea")
    expect(box).to_have_value("Translate good night into Japanese.", timeout=TIMEOUT)
    expect(picker).to_have_count(0)
    box.press("Enter")
    expect(anna.get_by_text("Fake answer to: Translate good night into Japanese.")).to_be_visible(
        timeout=TIMEOUT
    )
    [call] = fake.calls("chat.completions")  # the "/" itself was never sent
    assert call.body["messages"][-1]["content"] == "Translate good night into Japanese."
