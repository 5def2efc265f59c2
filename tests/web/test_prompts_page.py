"""The prompt library in the page (AppTest): prompts saved on the settings page with
{{variables}} (a malformed one refused in one sentence), a "/" sent alone opens the picker
and is not sent, a variable left blank is named, a filled prompt goes into the chat input
for the reader to send; "/name" picks one at once; a path is sent as typed."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from test_app import app, texts, use_fake
from test_personal_page import open_page

from fakes.server import FakeOpenAI


def save_prompt(at: AppTest, name: str, body: str) -> AppTest:
    at.text_input(key="prompt-new-name").input(name)
    at.text_area(key="prompt-new-body").input(body)
    return at.button(key="prompt-new-save").click().run()


def in_the_input(at: AppTest) -> str:
    """What the page put in the chat input (a value set through Session State)."""
    proto = at.chat_input[0].proto
    return str(proto.value) if proto.set_value else ""


def test_a_prompt_with_a_variable_is_inserted_with_a_slash(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = open_page(app(), "settings")
    at = save_prompt(at, "fix", "Translate {{text into French")
    (error,) = [e.value for e in at.error]
    assert error.startswith("Not saved: “{{text into French” is not a variable;")
    assert at.text_area(key="prompt-new-body").value == "Translate {{text into French"  # kept
    at = save_prompt(at, "translate", "Translate {{text}} into {{language}}.")
    assert not at.error
    assert "/translate" in [e.label for e in at.expander]

    at = open_page(at, "chat")
    at.chat_input[0].set_value("/").run()
    assert not at.exception
    assert fake.calls("chat.completions") == []  # "/" is not sent
    assert [m.name for m in at.chat_message] == []
    at.button(key=next(b.key for b in at.button if b.label == "/translate")).click().run()
    at.text_input(key=next(t.key for t in at.text_input if t.label == "text")).input("good night")
    at.button[next(i for i, b in enumerate(at.button) if b.label == "Insert")].click().run()
    assert [w.value for w in at.warning] == ["Fill in “language” to insert this prompt."]
    assert in_the_input(at) == ""
    at.text_input(key=next(t.key for t in at.text_input if t.label == "language")).input("Japanese")
    at.button[next(i for i, b in enumerate(at.button) if b.label == "Insert")].click().run()
    assert in_the_input(at) == "Translate good night into Japanese."
    assert not [b for b in at.button if b.label == "Insert"]  # the picker closed
    at.chat_input[0].set_value("Translate good night into Japanese.").run()  # the reader sends
    assert "Fake answer to: Translate good night into Japanese." in texts(at)


def test_slash_name_picks_a_prompt_and_a_path_is_sent_as_typed(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    use_fake(monkeypatch, fake)
    at = save_prompt(open_page(app(), "settings"), "hello", "Say hello politely.")
    at = open_page(at, "chat")
    at.chat_input[0].set_value("/hello").run()  # no variables: straight into the input
    assert in_the_input(at) == "Say hello politely."
    at.chat_input[0].set_value("/nope").run()
    (note,) = [w.value for w in at.warning]
    assert note.startswith("No prompt is named `/nope`")
    assert in_the_input(at) == "/nope"  # given back
    assert fake.calls("chat.completions") == []
    at.chat_input[0].set_value("/etc/hosts is empty").run()
    assert "Fake answer to: /etc/hosts is empty" in texts(at)
