"""Titles in the page (AppTest): the history lists the title the model wrote after the
first answer; until then, and when it cannot write one, the first words."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app import app, texts, use_fake
from test_history_list import titles

from assistants_ui.core.session import ChatSession
from fakes.chat_routes import chat_title
from fakes.server import Error, FakeOpenAI


def written(at: AppTest) -> AppTest:
    """The page's next run once the model's title request has ended (the browser's page
    runs again by itself then, tests/e2e/test_access_browser.py; here the run that
    followed the answer may have seen it end already)."""
    chat = at.session_state["chat"]
    assert isinstance(chat, ChatSession)
    if chat.titling is not None:
        chat.titling.join(30)
    return at.run()


def test_the_history_lists_the_title_the_model_wrote(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    fake.expect("chat.title", chat_title("Packing for Lisbon"))
    at = app().chat_input[0].set_value("What should I pack for a week in Lisbon?").run()
    assert "Fake answer to: What should I pack for a week in Lisbon?" in texts(at)
    at = written(at)
    assert not at.exception
    assert titles(at) == ["Packing for Lisbon"]
    assert len(fake.calls("chat.title")) == 1


def test_a_failed_title_request_leaves_the_first_words(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    fake.expect("chat.title", Error(503, "busy"))
    at = app().chat_input[0].set_value("What should I pack for a week in Lisbon?").run()
    at = written(at)
    assert not at.exception and not at.error  # nothing to tell the reader
    assert titles(at) == ["What should I pack for a week in Lisbon?"]
    assert len(fake.calls("chat.title")) == 1
