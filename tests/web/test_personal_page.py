"""Personal instructions and memory in the page (AppTest): written on the settings page,
sent with every answer, refused with one sentence over the limit (what was typed stays),
and what the memory tool kept listed and deleted."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app import app, texts, use_fake

from fakes.chat_routes import chat_text, chat_tool_calls
from fakes.server import FakeOpenAI


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Switch to a page `st.navigation` registered under `url_path` (a callable page,
    which `AppTest.switch_page` cannot name by file; the chat is the default, "")."""
    wanted = "" if url_path == "chat" else url_path
    pages = at._registered_pages.items()
    [page] = [h for h, info in pages if info.get("url_pathname") == wanted]
    at._page_hash = page
    return at.run()


def save(at: AppTest, about: str, how: str, *, memory: bool = False) -> AppTest:
    at.text_area(key="personal-about").input(about)
    at.text_area(key="personal-how").input(how)
    at.toggle(key="personal-memory").set_value(memory)
    [button] = [b for b in at.button if b.label == "Save"]
    return button.click().run()


def system_of(fake: FakeOpenAI, index: int = -1) -> str:
    messages = fake.calls("chat.completions")[index].body["messages"]
    return str(messages[0]["content"]) if messages[0]["role"] == "system" else ""


def test_personal_instructions_reach_every_answer(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = open_page(app(), "settings")
    assert not at.exception
    at = save(at, "I keep bees in Kyoto.", "Answer in two sentences.")
    assert not at.error
    at = open_page(at, "chat")
    at.chat_input[0].set_value("What should I plant?").run()
    assert "Fake answer to: What should I plant?" in texts(at)
    system = system_of(fake)
    assert "I keep bees in Kyoto." in system
    assert "Answer in two sentences." in system
    assert "remember" not in system  # memory is off

    at = open_page(at, "settings")  # what is kept is shown, and deleted
    assert at.text_area(key="personal-about").value == "I keep bees in Kyoto."
    [delete] = [b for b in at.button if b.label == "Delete my personal instructions"]
    at = delete.click().run()
    assert at.text_area(key="personal-about").value == ""
    at = open_page(at, "chat")
    at.chat_input[0].set_value("And now?").run()
    assert "I keep bees" not in system_of(fake)


def test_instructions_over_the_limit_are_one_sentence_and_stay_in_the_field(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    monkeypatch.setenv("PERSONAL_INSTRUCTIONS_MAX_CHARS", "20")
    at = save(open_page(app(), "settings"), "short", "x" * 25)
    (error,) = [e.value for e in at.error]
    assert error == (
        "Not saved: “How to answer” is 25 characters long, over the limit of 20 "
        "(PERSONAL_INSTRUCTIONS_MAX_CHARS); shorten it and save again."
    )
    assert at.text_area(key="personal-how").value == "x" * 25  # nothing typed is lost
    at = open_page(at, "chat")
    at.chat_input[0].set_value("Hi").run()
    assert "short" not in system_of(fake)  # nothing was saved


def test_the_memory_tool_keeps_what_the_user_asked_and_they_delete_it(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = save(open_page(app(), "settings"), "", "", memory=True)
    assert "Memory is off" not in [c.value for c in at.caption]
    fake.expect(
        "chat.completions",
        chat_tool_calls(("c1", "remember", '{"fact": "Prefers metric units"}')),
        chat_text(["I will remember that."]),
        chat_text(["Metres, then."]),
    )
    at = open_page(at, "chat")
    at.chat_input[0].set_value("Remember that I prefer metric units").run()
    assert "I will remember that." in texts(at)
    first = fake.calls("chat.completions")[0].body
    assert [t["function"]["name"] for t in first["tools"]] == ["remember"]
    at.chat_input[0].set_value("How tall is Fuji?").run()
    assert "- Prefers metric units" in system_of(fake)  # given to later answers

    at = open_page(at, "settings")
    assert "Prefers metric units" in [t.value for t in at.text]
    [forget] = [
        b for b in at.button if b.key and b.key.startswith("forget-") and b.key[7:].isdigit()
    ]
    at = forget.click().run()
    assert "Prefers metric units" not in [t.value for t in at.text]
    assert "Nothing is kept." in [c.value for c in at.caption]
