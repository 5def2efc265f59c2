"""History in the page (AppTest): saved as it happens, listed, searched, renamed,
exported, deleted; deep links for the owner only; older messages on demand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistants_ui.core.transcript import FilePart, ImagePart, Message, TextPart
from assistants_ui.runtime import Runtime
from assistants_ui.storage import Repository, open_database
from assistants_ui.web import login_view
from fakes.server import FakeOpenAI

APP = str(Path(__file__).parents[2] / "streamlit_app.py")


@pytest.fixture(autouse=True)
def fake_chat(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "m")


def app(link: str | None = None, *, same_browser_as: AppTest | None = None) -> AppTest:
    """A new browser session; `same_browser_as` carries the anonymous identity over
    (what the browser's cookie does for real; see tests/e2e for that)."""
    at = AppTest.from_file(APP, default_timeout=30)
    if link:
        at.query_params["c"] = link
    if same_browser_as is not None:
        for key in (login_view._IDENTITY_KEY, login_view._METHOD_KEY):
            at.session_state[key] = same_browser_as.session_state[key]
    return at.run()


def sidebar_titles(at: AppTest) -> list[str]:
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("conv-")]


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.main.markdown] + [t.value for t in at.main.text]


def chat(at: AppTest, text: str) -> AppTest:
    return at.chat_input[0].set_value(text).run()


def repo() -> Repository:
    return Repository(open_database(Runtime.load().config.settings))


def test_a_conversation_is_saved_listed_and_reopened_by_link() -> None:
    at = chat(app(), "Plan a trip to Lisbon")
    assert not at.exception
    link = str(at.query_params["c"])
    assert sidebar_titles(at) == ["Plan a trip to Lisbon"]
    at = chat(at, "And Porto?")
    # The same user in a fresh session (same browser in real life) opens the link.
    again = app(link, same_browser_as=at)
    assert "Plan a trip to Lisbon" in texts(again)
    assert "Fake answer to: And Porto?" in texts(again)


def test_someone_elses_or_a_malformed_link_is_not_found() -> None:
    owner = chat(app(), "Private plans")
    link = str(owner.query_params["c"])
    for wanted in (link, "not-an-id", "A" * 16):
        stranger = app(wanted)  # another anonymous browser
        assert not stranger.exception
        assert [e.value for e in stranger.error] == [
            "Conversation not found. It may have been deleted, or the link is wrong."
        ]
        assert "Private plans" not in texts(stranger)
        assert sidebar_titles(stranger) == []


def test_search_rename_export_and_delete() -> None:
    at = chat(app(), "Recipe for bread")
    at = chat(at.button(key="new_chat").click().run(), "Fix my bicycle")
    assert sidebar_titles(at) == ["Fix my bicycle", "Recipe for bread"]
    at.sidebar.text_input(key="history_query").input("answer to: recipe").run()
    assert sidebar_titles(at) == ["Recipe for bread"]  # message text is searched too
    at.sidebar.text_input(key="history_query").input("").run()

    cid = str(at.query_params["c"])
    at.text_input(key=f"rename-{cid}").input("Bike repair").run()
    assert "Bike repair" in sidebar_titles(at)

    store = repo()
    [user] = [at.session_state["user"][1]]
    info = store.get_conversation(user_id=user.id, conversation_id=cid)
    assert info.title == "Bike repair"
    from assistants_ui.web.conversation_menu import _export

    exported = json.loads(_export(store, user, cid, "json").read())
    assert "Fix my bicycle" in json.dumps(exported)
    assert "# Bike repair" in _export(store, user, cid, "md").read().decode()

    at.button(key="delete").click().run()
    assert "Delete this conversation" in at.warning[0].value
    at.button(key="delete-no").click().run()
    assert "Bike repair" in sidebar_titles(at)
    at.button(key="delete").click().run()
    at.button(key="delete-yes").click().run()
    assert sidebar_titles(at) == ["Recipe for bread"]
    assert "c" not in at.query_params
    assert app(cid).error  # gone for good


def open_bread(at: AppTest) -> None:
    next(b for b in at.sidebar.button if b.label == "Recipe for bread").click().run()


def test_a_pinned_conversation_stays_on_top_of_the_history_until_unpinned() -> None:
    at = chat(app(), "Recipe for bread")
    at = chat(at.button(key="new_chat").click().run(), "Fix my bicycle")
    assert sidebar_titles(at) == ["Fix my bicycle", "Recipe for bread"]
    open_bread(at)
    assert "Recipe for bread" in texts(at)
    assert at.button(key="pin").label == "Pin to the top"
    at.button(key="pin").click().run()
    assert not at.exception
    assert sidebar_titles(at) == ["Recipe for bread", "Fix my bicycle"]
    assert [b.icon for b in at.sidebar.button if b.key and b.key.startswith("conv-")] == [
        ":material/keep:",
        "",
    ]
    assert at.button(key="pin").label == "Unpin"
    # Newer activity elsewhere does not move it down.
    at = chat(at.button(key="new_chat").click().run(), "Plan a picnic")
    assert sidebar_titles(at) == ["Recipe for bread", "Plan a picnic", "Fix my bicycle"]
    # Kept in the database: another session of the same browser sees the same order.
    assert sidebar_titles(app(same_browser_as=at)) == sidebar_titles(at)
    open_bread(at)
    at.button(key="pin").click().run()
    assert at.button(key="pin").label == "Pin to the top"
    # Unpinned, it goes back to its place by last activity.
    assert sidebar_titles(at) == ["Plan a picnic", "Fix my bicycle", "Recipe for bread"]


def test_thumbs_and_a_comment_are_saved_on_the_answer_and_exported() -> None:
    from assistants_ui.web.conversation_menu import _export

    at = chat(app(), "Recipe for bread")
    assert not at.exception
    [thumbs] = at.feedback
    assert thumbs.value is None
    assert not [t for t in at.text_input if t.key and t.key.startswith("feedback-comment-")]
    thumbs.set_value(0).run()  # thumbs down
    assert not at.exception
    [comment] = [t for t in at.text_input if t.key and t.key.startswith("feedback-comment-")]
    comment.input("It forgot the salt.").run()
    assert not at.exception

    store = repo()
    user = at.session_state["user"][1]
    cid = str(at.query_params["c"])
    stored = store.load_messages(user_id=user.id, conversation_id=cid).messages
    assert [(m.role, m.feedback, m.feedback_comment) for m in stored] == [
        ("user", None, ""),
        ("assistant", "down", "It forgot the salt."),
    ]
    exported = json.loads(_export(store, user, cid, "json").read())
    assert exported["messages"][1]["feedback"] == "down"
    assert exported["messages"][1]["feedback_comment"] == "It forgot the salt."
    # Opened again in a new session, the answer shows what was given.
    again = app(cid, same_browser_as=at)
    assert again.feedback[0].value == 0
    [comment] = [t for t in again.text_input if t.key and t.key.startswith("feedback-comment-")]
    assert comment.value == "It forgot the salt."
    again.feedback[0].set_value(1).run()
    stored = store.load_messages(user_id=user.id, conversation_id=cid).messages
    assert stored[1].feedback == "up"


def test_a_long_conversation_opens_with_its_newest_messages_and_loads_older() -> None:
    at = chat(app(), "first question")
    user = at.session_state["user"][1]
    store = repo()
    cid = str(at.query_params["c"])
    for i in range(120):
        store.save_message(user_id=user.id, conversation_id=cid, message=Message.user(f"q{i}"))
        store.save_message(
            user_id=user.id,
            conversation_id=cid,
            message=Message(role="assistant", parts=[TextPart(f"a{i}")]),
        )
    at = app(cid, same_browser_as=at)
    assert len(at.chat_message) == 50
    assert "a119" in texts(at) and "q95" in texts(at) and "a94" not in texts(at)
    at.button(key="load_older").click().run()
    assert len(at.chat_message) == 100
    assert "a70" in texts(at) and "a69" not in texts(at)


def test_a_file_whose_bytes_were_not_kept_says_so_and_the_menu_still_renders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MAX_STORED_FILE_MB=0: an image and a file are stored without their bytes.
    Before, painting the empty image crashed the page and the conversation's
    menu (drawn after the messages) never appeared."""
    monkeypatch.setenv("MAX_STORED_FILE_MB", "0")
    at = chat(app(), "Draw me a chart")
    user = at.session_state["user"][1]
    cid = str(at.query_params["c"])
    result = repo().save_message(
        user_id=user.id,
        conversation_id=cid,
        message=Message(
            role="assistant",
            parts=[
                TextPart("Here it is."),
                ImagePart("chart.png", "image/png", b"\x89PNG not kept"),
                FilePart("table.csv", "text/csv", b"a,b\n1,2\n"),
            ],
        ),
    )
    assert [s.name for s in result.skipped] == ["chart.png", "table.csv"]
    again = app(cid, same_browser_as=at)
    assert not again.exception and not again.error
    captions = [c.value.replace("\\", "") for c in again.main.caption]  # Markdown escapes
    assert any("chart.png" in c and "this file was not kept" in c for c in captions)
    assert any("table.csv" in c and "this file was not kept" in c for c in captions)
    assert "Here it is." in texts(again)
    # The menu: rename, both exports, delete.
    assert again.text_input(key=f"rename-{cid}").value == "Draw me a chart"
    assert again.button(key="delete").label == "Delete…"
    assert {b.label for b in again.get("download_button")} >= {"Markdown", "JSON"}


def test_more_lists_past_the_repository_page_of_500() -> None:
    """600 conversations: "More" asked for 510 and the repository refused over 500."""
    at = chat(app(), "conversation zero")
    user = at.session_state["user"][1]
    store = repo()
    for i in range(599):
        store.create_conversation(user_id=user.id, profile_id="p", backend="chat", title=f"c{i}")
    at = app(same_browser_as=at)
    at.session_state["history_limit"] = 480
    at.run()
    assert len(sidebar_titles(at)) == 480
    for expected in (510, 540, 570, 600):
        at.sidebar.button(key="history_more").click().run()
        assert not at.exception and not at.error
        assert len(sidebar_titles(at)) == expected
    assert "conversation zero" in sidebar_titles(at)
    assert not at.sidebar.get("button") or all(b.key != "history_more" for b in at.sidebar.button)


def test_a_too_long_message_or_search_is_refused_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    """The attack: a megabyte message (or search) to fill memory, the database and
    the model's bill, sent by a client that ignores the browser's max_chars."""
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "1000")
    monkeypatch.setenv("MAX_SEARCH_CHARS", "50")
    at = app()
    requests_before = len(fake.requests)
    at = chat(at, "x" * 5000)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Not sent: it is 5,000 characters long, over the limit of 1,000 (MAX_MESSAGE_CHARS)."
    ]
    assert [b.label for b in at.get("download_button")] == ["Download what you typed"]
    assert len(fake.requests) == requests_before  # nothing reached the server
    assert (
        "c" not in at.query_params
        and repo().find_user(
            auth_provider="anonymous", subject=at.session_state[login_view._IDENTITY_KEY].subject
        )
        is None
    )  # nothing saved: not even the guest's users row
    # A crafted client sends a 300-character search (`set_value` skips the browser's
    # max_chars): the server cuts it to 50, so it finds the 50-character title.
    at = chat(at, "y" * 50)
    at.sidebar.text_input(key="history_query").set_value("y" * 300).run()
    assert not at.exception
    assert sidebar_titles(at) == ["y" * 50]


def test_too_many_files_on_one_message_are_refused_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    """The attack: one message carrying hundreds of files (each under the size
    limit) to fill memory, the database and the provider's file store."""
    monkeypatch.setenv("MAX_FILES_PER_MESSAGE", "3")
    at = app()
    requests_before = len(fake.requests)
    box = at.chat_input[0].set_value("read these")
    for i in range(5):
        box.upload(f"notes{i}.txt", b"some notes", "text/plain")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Not sent: it has 5 files attached, over the limit of 3 per message "
        "(MAX_FILES_PER_MESSAGE)."
    ]
    assert len(fake.requests) == requests_before and "c" not in at.query_params
