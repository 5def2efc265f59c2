"""Daily limits in the chat page (AppTest): refused before anything is saved or sent,
with the reset time, for guests too."""

from __future__ import annotations

import pytest
from test_app import app, texts, use_fake

from assistants_ui.core.limits import EVERYONE, GUESTS
from assistants_ui.settings import load_settings
from assistants_ui.storage import open_database
from assistants_ui.storage.admin import Admin
from fakes.chat_routes import chat_text
from fakes.server import FakeOpenAI


def _limit(target: str, messages: str) -> None:
    db = open_database(load_settings()[0])
    try:
        Admin(db).set_limit(actor="test", target=target, messages=messages)
    finally:
        db.dispose()


def test_a_guest_over_the_limit_is_refused_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    _limit(EVERYONE, "1")
    fake.expect("chat.completions", chat_text(["First answer."]))
    at = app()
    at.chat_input[0].set_value("first").run()
    assert "First answer." in texts(at)

    at.chat_input[0].set_value("second").run()
    assert not at.exception
    (refusal,) = [e.value for e in at.error]
    assert refusal.startswith("Not sent: You have reached your daily limit of 1 message ")
    assert "The limit resets at 00:00 UTC" in refusal
    assert "second" not in texts(at)
    assert len(fake.calls("chat.completions")) == 1
    assert "Download what you typed" in [b.label for b in at.get("download_button")]


def test_a_limit_of_zero_for_guests_blocks_a_new_browser(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    _limit(GUESTS, "0")
    at = app()
    at.chat_input[0].set_value("hello").run()
    (refusal,) = [e.value for e in at.error]
    assert "Sending is blocked for you across all assistants today" in refusal
    assert fake.calls("chat.completions") == []
    assert [m.name for m in at.chat_message] == []
