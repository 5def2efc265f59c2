"""The sidebar's history list through AppTest, with two assistants: each entry's own
menu, date groups, search as one types with the words around the match, the tab
named after the open conversation, the connection's details for admins only, and
no interface string left in English (placeholders included)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import streamlit
from babel.messages.pofile import read_po
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from assistants_ui import i18n
from assistants_ui.runtime import Runtime
from assistants_ui.storage import ConversationInfo, Repository, open_database
from assistants_ui.storage.models import Conversation
from assistants_ui.web import picker
from fakes.server import FakeOpenAI

APP = str(Path(__file__).parents[2] / "streamlit_app.py")


@pytest.fixture(autouse=True)
def two_assistants(fake: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url.replace("http://", "http://proxyuser:proxy-secret-9@")}"

[[assistants]]
id = "helper"
title = "Helper"
backend = "chat"
connection = "fake"
model = "m"

[[assistants]]
id = "writer"
title = "Writer"
backend = "chat"
connection = "fake"
model = "m"
""")


def app(**state: Any) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def chat(at: AppTest, text: str) -> AppTest:
    at = at.chat_input[0].set_value(text).run()
    assert not at.exception
    return at


def new_chat(at: AppTest, assistant: str) -> AppTest:
    at = at.button(key="new_chat").click().run()
    return at.sidebar.selectbox(key=picker.PROFILE_KEY).select(assistant).run()


def titles(at: AppTest) -> list[str]:
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")]


def headings(at: AppTest) -> list[str]:
    return [c.value.strip("*") for c in at.sidebar.caption if c.value.startswith("**")]


def open_menu(at: AppTest, cid: str) -> AppTest:
    """Open a history entry's menu (a popover drawn only while open)."""
    at.session_state[f"menu-{cid}"] = True
    return at.run()


def ids_by_title(at: AppTest) -> dict[str, str]:
    return {
        b.label: str(b.key).removeprefix("conv-")
        for b in at.sidebar.button
        if b.key and b.key.startswith("conv-")
    }


def repo() -> Repository:
    return Repository(open_database(Runtime.load().config.settings))


def test_each_entry_renames_pins_and_deletes_its_conversation_without_opening_it() -> None:
    at = chat(app(), "Plan a trip to Lisbon")
    at = chat(new_chat(at, "writer"), "Write a poem about rain")
    ids = ids_by_title(at)
    lisbon, poem = ids["Plan a trip to Lisbon"], ids["Write a poem about rain"]
    assert at.query_params["c"] == poem

    at = open_menu(at, lisbon)
    at.text_input(key=f"entry-{lisbon}-rename-{lisbon}").input("Lisbon in May").run()
    assert not at.exception
    assert titles(at) == ["Write a poem about rain", "Lisbon in May"]
    assert at.query_params["c"] == poem  # the open conversation stays on the page
    assert "Fake answer to: Write a poem about rain" in [m.value for m in at.main.markdown]

    at.button(key=f"entry-{lisbon}-pin").click().run()
    assert titles(at) == ["Lisbon in May", "Write a poem about rain"]
    assert headings(at) == ["Pinned", "Today"]
    assert at.button(key="pin").label == "Pin to the top"  # the open one is not pinned

    at.button(key=f"entry-{lisbon}-delete").click().run()
    assert "Delete this conversation" in at.sidebar.warning[0].value  # asked once more
    at.button(key=f"entry-{lisbon}-delete-no").click().run()
    assert "Lisbon in May" in titles(at)
    at.button(key=f"entry-{lisbon}-delete").click().run()
    at.button(key=f"entry-{lisbon}-delete-yes").click().run()
    assert titles(at) == ["Write a poem about rain"]
    assert at.query_params["c"] == poem

    # The open conversation, deleted from its entry: a new chat takes its place.
    at = open_menu(at, poem)
    at.button(key=f"entry-{poem}-delete").click().run()
    at.button(key=f"entry-{poem}-delete-yes").click().run()
    assert not at.exception
    assert titles(at) == [] and "c" not in at.query_params
    assert not at.chat_message


def test_the_list_is_grouped_by_the_day_of_last_activity() -> None:
    at = chat(app(), "Today's talk")
    user = at.session_state["user"][1]
    store = repo()
    now = dt.datetime.now(dt.UTC)
    ages = {"Yesterday's": 1, "A week ago": 7, "Last month's": 30, "Last year's": 300}
    for title, days in ages.items():
        info = store.create_conversation(
            user_id=user.id, profile_id="writer", backend="chat", title=title
        )
        with store.db.engine.begin() as conn:
            conn.execute(
                update(Conversation)
                .where(Conversation.id == info.id)
                .values(updated_at=now - dt.timedelta(days=days))
            )
    at.run()
    assert titles(at) == ["Today's talk", *ages]
    assert headings(at) == ["Today", "Yesterday", "Previous 7 days", "Previous 30 days", "Older"]


def info(updated_at: dt.datetime, pinned: bool = False) -> ConversationInfo:
    return ConversationInfo("i", "p", "chat", "t", {}, updated_at, updated_at, pinned)


def test_days_are_the_readers_own() -> None:
    """23:30 UTC on the 9th is the 10th in Tokyo and still the 9th in New York."""
    from assistants_ui.web.sidebar import date_groups

    late = info(dt.datetime(2026, 3, 9, 23, 30, tzinfo=dt.UTC))
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    assert date_groups([late], now, ZoneInfo("Asia/Tokyo"))[0][0] == "Today"
    assert date_groups([late], now, dt.UTC)[0][0] == "Yesterday"
    assert date_groups([late], now, ZoneInfo("America/New_York"))[0][0] == "Yesterday"
    assert date_groups([info(now, pinned=True)], now, dt.UTC)[0][0] == "Pinned"
    ahead = info(now + dt.timedelta(hours=3))  # a clock ahead of this one: still today
    assert date_groups([ahead], now, dt.UTC)[0][0] == "Today"


def test_search_filters_as_one_types_and_shows_the_words_around_the_match_as_text() -> None:
    at = chat(app(), "Bread recipe")
    at = chat(new_chat(at, "writer"), "Paella notes: compare **bold** with <b>x</b> here")
    box = at.sidebar.text_input(key="history_query")
    # Committed after a pause in typing (no Enter); no counter under the box.
    assert box.proto.live_debounce_ms == 300 and box.max_chars == 0
    box.input("PAELLA").run()
    assert not at.exception
    assert titles(at) == ["Paella notes\\: compare \\*\\*bold\\*\\* with \\<b\\>x\\</b\\> here"]
    snippets = [c.value for c in at.sidebar.caption if not c.value.startswith("**")]
    assert snippets == [
        "`paella` notes\\: compare \\*\\*bold\\*\\* with \\<b\\>x\\</b\\> here"  # all literal
    ]
    at.sidebar.text_input(key="history_query").input("fake answer bread").run()
    assert titles(at) == ["Bread recipe"]
    [snippet] = [c.value for c in at.sidebar.caption if not c.value.startswith("**")]
    assert snippet == "`fake` `answer` to\\: `bread` recipe"


def test_a_long_snippet_is_cut_at_words_and_says_where_it_was_cut() -> None:
    from assistants_ui.storage.conversations import SNIPPET_BEFORE, SNIPPET_CHARS
    from assistants_ui.web.sidebar import marked_snippet

    # As the database cuts it: SNIPPET_BEFORE characters before the word, then more.
    before = ("words " * 20)[-SNIPPET_BEFORE:]
    window = (before + "paella with `ticks` and [a](http://x) " + "more " * 40)[:SNIPPET_CHARS]
    shown = marked_snippet(window, "paella ticks")
    assert shown.startswith("…words words") and shown.endswith("more…"), shown
    assert "`paella` with \\``ticks`\\` and \\[a\\]\\(http\\:\u2060//x\\)" in shown, shown
    assert marked_snippet("nothing here", "paella") == ""  # no match in it: nothing shown


def test_the_tab_is_titled_after_the_open_conversation(monkeypatch: pytest.MonkeyPatch) -> None:
    titled: list[str] = []
    real = streamlit.set_page_config

    def recorded(*args: Any, **kwargs: Any) -> None:
        if kwargs.get("page_title"):
            titled.append(kwargs["page_title"])
        real(*args, **kwargs)

    monkeypatch.setattr(streamlit, "set_page_config", recorded)
    at = app()
    assert titled[-1] == "Helper"  # a new chat: the assistant's name
    at = chat(at, "Plan a trip to\nLisbon <b>now</b>")
    assert titled[-1] == "Plan a trip to Lisbon <b>now</b>"  # plain text, one line
    at = new_chat(at, "writer")
    assert titled[-1] == "Writer"


def test_a_guest_sees_no_connection_details_and_no_servers_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://someone:pw-9@127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_MODEL", "m")
    monkeypatch.setenv("ASSISTANTS_FILE", "none.toml")
    at = app()
    assert not at.exception
    shown = " ".join(c.value for c in at.caption) + " ".join(w.value for w in at.warning)
    assert "127.0.0.1" not in shown and "chat ·" not in shown, shown
    [warning] = at.warning
    assert warning.value.startswith("Cannot reach the server (ConnectError"), warning.value

    monkeypatch.setenv("SHOW_CONNECTION_DETAILS", "true")
    at = app()
    [details] = [c.value for c in at.sidebar.caption if "chat ·" in c.value]
    assert details == "`chat · openai http://127.0.0.1:9/v1 · m`"  # no user, no password
    assert "Cannot reach the server at http://127.0.0.1:9/v1 (" in at.warning[0].value


def test_an_admin_sees_the_connection_a_user_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistants_ui.auth import passwords
    from login_support import ORIGINAL_SECRETS, write_secrets

    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    write_secrets(
        ORIGINAL_SECRETS.replace(
            "usernames = {",
            'usernames = { ann = { name = "Ann", password = "ann-password" }, ',
        )
    )
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")
    monkeypatch.setenv("ADMIN_USERS", "jsmith")

    def signed_in(name: str, password: str) -> AppTest:
        at = app()
        at.text_input[0].input(name)
        at.text_input[1].input(password)
        at = at.button[0].click().run()
        assert not at.exception and not at.error
        return at

    def details(at: AppTest) -> list[str]:
        return [c.value for c in at.sidebar.caption if "chat ·" in c.value]

    admin = signed_in("jsmith", "abc-password")
    assert len(details(admin)) == 1 and "proxy-secret-9" not in details(admin)[0]
    assert "proxyuser" not in details(admin)[0]
    chat(admin, "hello")  # an admin's conversation opens with the details still there
    assert len(details(admin)) == 1
    assert details(signed_in("ann", "ann-password")) == []


def _english_ids_translated_in(code: str) -> set[str]:
    with (i18n.LOCALES_DIR / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as f:
        catalog = read_po(f, locale=code)
    return {m.id for m in catalog if isinstance(m.id, str) and m.id and m.string != m.id}


@pytest.mark.parametrize("code", ["ja", "zh"])
def test_no_label_or_placeholder_is_left_in_english(code: str) -> None:
    """A shown string that is an English msgid with a translation was not translated
    where it is shown; a widget without a placeholder of ours shows Streamlit's, in
    English ("Choose an option", "Search")."""
    at = chat(app(language=code), "Plan a trip to Lisbon")
    english = _english_ids_translated_in(code)
    shown: list[tuple[str, str]] = []
    missing = []
    for kind in ("text_input", "selectbox", "chat_input", "text_area", "button", "caption"):
        for element in at.get(kind):
            proto = element.proto  # type: ignore[attr-defined]
            texts = ("label", "help", "body", "placeholder")
            shown += [(kind, getattr(proto, name, "")) for name in texts]
            # Where Streamlit writes its own placeholder when none is given: a
            # selectbox ("Choose an option"), the chat input, a search box ("Search").
            own = kind in ("selectbox", "chat_input") or (
                kind == "text_input" and proto.type not in (proto.DEFAULT, proto.PASSWORD)
            )
            if own and not proto.placeholder:
                missing.append((kind, getattr(proto, "label", "")))
    left = [(kind, text) for kind, text in shown if text.strip("*") in english]
    assert not left, left
    assert not missing, missing
