"""Assistants by group and model-written titles, in headless Chromium (`assistants-ui run`,
passwords, the fake server).

"Second" is restricted to the group "owls" (`allowed_groups`). bert, in no group,
never sees it; anna, an admin, gives him the group on the admin page; he then
picks it, asks, and the history lists the title the model wrote, without a click.
Once anna takes the group away, his link to that conversation opens read-only with
one sentence, and the assistant is gone from his picker.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_isolation_browser import signed_in
from test_login_browser import SECRETS, TIMEOUT, add_user, write_secrets

from assistants_ui.web.app import NOT_ALLOWED
from browser_support import TWO_ASSISTANTS, StartApp, choose, send
from fakes.chat_routes import chat_title
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

RESTRICTED = TWO_ASSISTANTS.replace('icon = "🦉"\n', 'icon = "🦉"\nallowed_groups = ["owls"]\n')


@pytest.fixture
def owls_app(start_app: StartApp, tmp_path: Path, fake: FakeOpenAI) -> str:
    write_secrets(tmp_path, SECRETS)
    add_user(tmp_path, "anna", "anna-password-1", "Anna A")
    add_user(tmp_path, "bert", "bert-password-1", "Bert B")
    (tmp_path / "assistants.toml").write_text(RESTRICTED.format(base_url=fake.base_url))
    return start_app(
        {
            "AUTHENTICATION_REQUIRED": "true",
            "ADMIN_USERS": "anna",
            "HOME": str(tmp_path / "home"),
        },
        tmp_path,
    )


def _no_second(page: Page) -> None:
    """Nothing on the page names the restricted assistant."""
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=TIMEOUT)
    # With one assistant left, there is no picker at all.
    expect(page.get_by_role("combobox", name="Assistant")).to_have_count(0)
    body = page.locator("body").inner_text()
    assert "Second" not in body and "🦉" not in body, body


def _groups(anna: Page, *groups: str) -> None:
    """On the admin page: bert's groups become `groups`."""
    choose(anna, "User to manage", "Bert B (password)")
    box = anna.get_by_test_id("stMultiSelect").filter(has_text="Groups of Bert B")
    expect(box).to_be_visible(timeout=TIMEOUT)
    clear = box.get_by_role("button", name="Clear all")
    if clear.count():
        clear.click()
        expect(clear).to_have_count(0, timeout=TIMEOUT)  # its rerun has redrawn the box
    for group in groups:
        # Typed and taken with Enter. A rerun still finishing (choosing the user, clearing)
        # redraws the box and drops what was typed or taken: then it is done again, as
        # `choose` opens its list again.
        combobox = box.get_by_role("combobox")
        for attempt in range(6):
            if group in box.inner_text():  # taken by the last try after all
                break
            try:
                combobox.fill(group, timeout=5_000)
                anna.get_by_role("option", name=group).first.wait_for(timeout=5_000)
                combobox.press("Enter", timeout=5_000)
                expect(box).to_contain_text(group, timeout=5_000)
                break
            except (PlaywrightTimeout, AssertionError):
                if attempt == 5:
                    raise
    anna.keyboard.press("Escape")  # the list of options closes
    said = anna.get_by_text(f"Groups of Bert B saved: {', '.join(sorted(groups)) or 'none'}.")
    for attempt in range(6):  # a click a redraw swallowed is made again
        anna.get_by_role("button", name="Save groups").click()
        try:
            expect(said).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            if attempt == 5:
                raise


def test_a_user_without_the_group_never_sees_the_assistant_and_its_link_is_refused(
    browser: Browser, owls_app: str, fake: FakeOpenAI, tmp_path: Path
) -> None:
    bert = browser.new_context().new_page()
    signed_in(bert, owls_app, "bert", "bert-password-1", "Bert B")
    _no_second(bert)

    anna = browser.new_context().new_page()
    signed_in(anna, owls_app, "anna", "anna-password-1", "Anna A")
    _no_second(anna)  # admins are not exempt
    anna.get_by_role("link", name="Admin").click()
    expect(anna.get_by_role("heading", name="Who can use which assistant")).to_be_visible(
        timeout=TIMEOUT
    )
    _groups(anna, "owls")

    # bert's next click: the assistant is his to pick; his first answer gets a title
    # written by the model, listed without another click.
    fake.expect("chat.title", chat_title("Why owls sleep by day"))
    bert.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
    choose(bert, "Assistant", "🦉 Second")
    send(bert, "Tell me about owls and why they are awake at night")
    expect(bert.get_by_text("Fake answer to: Tell me about owls")).to_be_visible(timeout=TIMEOUT)
    history = bert.get_by_test_id("stSidebar")
    expect(history.get_by_role("button", name="Why owls sleep by day")).to_be_visible(
        timeout=TIMEOUT
    )
    [titled] = fake.calls("chat.title")
    assert "Tell me about owls" in titled.body["messages"][1]["content"]
    link = bert.url
    assert "?c=" in link

    # anna takes the group away: bert's link opens read-only, with one sentence.
    _groups(anna)
    bert.goto(link)
    expect(bert.get_by_text(NOT_ALLOWED % {"assistant": "'second'"})).to_be_visible(timeout=TIMEOUT)
    asked = bert.get_by_test_id("stText").get_by_text("Tell me about owls and why they are")
    expect(asked).to_be_visible()  # his own messages stay his to read
    expect(bert.get_by_test_id("stChatInputTextArea")).to_have_count(0)
    expect(bert.get_by_role("combobox", name="Assistant")).to_have_count(0)
    answered = len(fake.calls("chat.completions"))

    # Someone else's link to it is no conversation of theirs at all.
    anna.goto(link)
    expect(anna.get_by_text("Conversation not found.")).to_be_visible(timeout=TIMEOUT)
    assert len(fake.calls("chat.completions")) == answered

    with sqlite3.connect(tmp_path / "data" / "assistants-ui.db") as db:
        audit = db.execute("SELECT action, target, detail FROM admin_audit ORDER BY id").fetchall()
    assert audit == [
        ("set_groups", "Bert B (password:bert)", "added owls"),
        ("set_groups", "Bert B (password:bert)", "removed owls"),
    ]
