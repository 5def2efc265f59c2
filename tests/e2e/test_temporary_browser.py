"""Temporary chats in Chromium (`assistants-ui run`, password login, two assistants): one
is answered, never listed nor put in the address bar, and gone from the database once
the chat is closed (a new chat; another conversation opened)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from test_isolation_browser import signed_in
from test_login_browser import TIMEOUT

from browser_support import choose, send

pytestmark = pytest.mark.browser


def stored(folder: Path) -> list[tuple[str, int]]:
    """Each stored conversation's title and whether it is temporary."""
    with sqlite3.connect(folder / "data" / "assistants-ui.db") as db:
        rows = db.execute(
            "SELECT c.title, t.conversation_id IS NOT NULL FROM conversations c"
            " LEFT JOIN temporary_chats t ON t.conversation_id = c.id ORDER BY c.created_at"
        ).fetchall()
    return [(str(title), int(temporary)) for title, temporary in rows]


@pytest.mark.parametrize("two_users_app", [2], indirect=True, ids=["two-assistants"])
def test_a_temporary_chat_is_gone_after_it_is_closed(
    browser: Browser, two_users_app: str, tmp_path: Path
) -> None:
    anna = browser.new_context().new_page()
    signed_in(anna, two_users_app, "anna", "anna-password-1", "Anna A")
    side = anna.get_by_test_id("stSidebar")
    send(anna, "A kept question")
    expect(anna.get_by_text("Fake answer to: A kept question")).to_be_visible(timeout=TIMEOUT)
    choose(anna, "Assistant", "🦉 Second")  # a new chat, with the other assistant

    anna.get_by_text("Temporary chat").click()
    send(anna, "A passing thought")
    expect(anna.get_by_text("Fake answer to: A passing thought")).to_be_visible(timeout=TIMEOUT)
    expect(anna.get_by_text("Temporary chat: not in your history")).to_be_visible()
    expect(side.get_by_role("button", name="A kept question")).to_be_visible()
    expect(side.get_by_role("button", name="A passing thought")).to_have_count(0)
    assert "?c=" not in anna.url
    assert stored(tmp_path) == [("A kept question", 0), ("A passing thought", 1)]

    anna.get_by_role("button", name="New chat").first.click()  # closes it
    expect(anna.get_by_text("Fake answer to: A passing thought")).to_have_count(0)
    expect(anna.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=TIMEOUT)
    anna.wait_for_function(
        "() => !document.body.innerText.includes('A passing thought')", timeout=TIMEOUT
    )
    assert stored(tmp_path) == [("A kept question", 0)]

    send(anna, "Another passing thought")  # the switch stays on for the next chat
    expect(anna.get_by_text("Fake answer to: Another passing thought")).to_be_visible(
        timeout=TIMEOUT
    )
    assert stored(tmp_path)[-1] == ("Another passing thought", 1)
    side.get_by_role("button", name="A kept question").click()  # another one opened
    expect(anna.get_by_text("Fake answer to: A kept question")).to_be_visible(timeout=TIMEOUT)
    assert stored(tmp_path) == [("A kept question", 0)]
