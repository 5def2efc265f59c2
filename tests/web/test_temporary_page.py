"""Temporary chats and retention in the page (AppTest): a temporary chat is answered like
any chat, never in the history nor the address bar, deleted when the page closes it (a new
chat, another conversation opened) or its browser session ends; the switch stays on for
the next chat until turned off. The page's process runs RETENTION_DAYS daily."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from streamlit.testing.v1 import AppTest
from test_app import texts, use_fake

from assistants_ui.runtime import Runtime
from assistants_ui.storage import Repository, open_database
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.models import Conversation, TemporaryChat, UsageRecord, utcnow
from assistants_ui.web import temporary
from fakes.server import FakeOpenAI

APP = str(Path(__file__).parents[2] / "streamlit_app.py")


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=30).run()


def stored() -> tuple[int, int]:
    """(conversations, temporary chats) in the database."""
    repo = Repository(open_database(Runtime.load().config.settings))
    try:
        with repo.db.session() as s:
            return (
                s.scalar(select(func.count()).select_from(Conversation)) or 0,
                s.scalar(select(func.count()).select_from(TemporaryChat)) or 0,
            )
    finally:
        repo.db.dispose()


def sidebar_titles(at: AppTest) -> list[str]:
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")]


def test_a_temporary_chat_is_answered_kept_out_of_history_and_gone_when_closed(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = app()
    at.toggle(key="temporary-switch").set_value(True).run()
    at.chat_input[0].set_value("A secret question").run()
    assert not at.exception
    assert "Fake answer to: A secret question" in texts(at)
    assert sidebar_titles(at) == []  # out of history
    assert "c" not in at.query_params  # and out of the address bar
    assert any("Temporary chat" in c.value for c in at.caption)
    assert stored() == (1, 1)
    at.chat_input[0].set_value("And another").run()  # it goes on like any chat
    assert "Fake answer to: And another" in texts(at)

    at.button(key="new_chat").click().run()  # closed
    assert stored() == (0, 0)
    assert "Fake answer to: A secret question" not in texts(at)
    assert at.toggle(key="temporary-switch").value  # the next chat is temporary too
    at.toggle(key="temporary-switch").set_value(False).run()
    at.chat_input[0].set_value("Kept question").run()
    assert sidebar_titles(at) == ["Kept question"]
    assert stored() == (1, 0)


def test_opening_another_conversation_closes_the_temporary_chat(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = app()
    at.chat_input[0].set_value("Kept question").run()
    at.button(key="new_chat").click().run()
    at.toggle(key="temporary-switch").set_value(True).run()
    at.chat_input[0].set_value("Passing thought").run()
    assert stored() == (2, 1)
    next(b for b in at.sidebar.button if b.label == "Kept question").click().run()
    assert "Fake answer to: Kept question" in texts(at)
    assert stored() == (1, 0)


def test_a_temporary_chat_whose_browser_session_ended_is_deleted(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    """Streamlit drops a session's state some time after its browser went away: the
    temporary chat it showed goes with it (through the housekeeping thread)."""
    use_fake(monkeypatch, fake)
    at = app()
    at.toggle(key="temporary-switch").set_value(True).run()
    at.chat_input[0].set_value("Left open in a closed tab").run()
    keeper = at.session_state["temporary-open"].keeper
    assert stored() == (1, 1)
    del at  # the session and its state are gone
    gc.collect()
    keeper.run_once()  # after the thread's own pass, if it is in one
    assert stored() == (0, 0)


def test_the_page_process_purges_old_conversations_daily_with_retention_days(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    monkeypatch.setenv("RETENTION_DAYS", "30")
    at = app()
    at.chat_input[0].set_value("Old news").run()
    at.button(key="new_chat").click().run()
    at.chat_input[0].set_value("Fresh news").run()
    rt = Runtime.load()
    repo = Repository(open_database(rt.config.settings))
    with repo.db.session() as s:
        s.execute(
            update(Conversation)
            .where(Conversation.title == "Old news")
            .values(updated_at=utcnow() - dt.timedelta(days=40))
        )
    keeper = temporary.housekeeping(rt, repo)  # the one the page started
    assert keeper.retention_days == 30
    keeper.clock = lambda: utcnow() + dt.timedelta(days=1)  # tomorrow's run
    assert keeper.run_once().purged == 1
    assert stored() == (1, 0)
    [entry] = Admin(repo.db).audit()
    assert (entry.actor, entry.action) == ("retention", "retention_purge")
    with repo.db.session() as s:
        assert s.scalar(select(func.count()).select_from(UsageRecord)) == 4  # kept
    assert sidebar_titles(at.run()) == ["Fresh news"]
