"""Edit and Regenerate on the page (Streamlit's AppTest): bad edits are refused with one
message and lose nothing; a good one branches and shows "2 / 2"."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fakes.chat_routes import chat_text
from fakes.server import FakeOpenAI

APP = str(Path(__file__).parents[2] / "streamlit_app.py")


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [t.value for t in at.text]  # user text: st.text


def button(at: AppTest, label: str) -> object:
    found = [b for b in at.button if b.label == label]
    assert found, f"no {label!r} button among {[b.label for b in at.button]}"
    return found[0]


def started(monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI, **env: str) -> AppTest:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "fake-model")
    monkeypatch.setenv("OPENAI_MAX_RETRIES", "0")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    fake.expect("chat.completions", chat_text(["First answer."]))
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.chat_input[0].set_value("First question").run()
    assert "First answer." in texts(at)
    return at


def test_an_empty_or_oversized_edit_is_refused_and_nothing_is_lost(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    at = started(monkeypatch, fake, MAX_MESSAGE_CHARS="40")
    button(at, "Edit").click().run()  # type: ignore[attr-defined]
    key = f"edit-text-{at.session_state['chat'].messages[0].id}"
    assert at.text_area(key=key).value == "First question"

    at.text_area(key=key).set_value("   ")
    button(at, "Send edited message").click().run()  # type: ignore[attr-defined]
    assert any("empty message cannot be sent" in w.value for w in at.warning)
    at.text_area(key=key).set_value("x" * 41)
    button(at, "Send edited message").click().run()  # type: ignore[attr-defined]
    assert any("Not sent" in e.value and "MAX_MESSAGE_CHARS" in e.value for e in at.error)
    # Nothing was sent or saved; the form still holds what was typed.
    assert len(fake.calls("chat.completions")) == 1
    chat = at.session_state["chat"]
    assert [m.text for m in chat.messages] == ["First question", "First answer."]
    assert chat.children == {}
    assert at.text_area(key=key).value == "x" * 41


def test_edit_then_regenerate_branch_and_show_the_versions(
    monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI
) -> None:
    at = started(monkeypatch, fake)
    first = at.session_state["chat"].messages[0]
    button(at, "Edit").click().run()  # type: ignore[attr-defined]
    at.text_area(key=f"edit-text-{first.id}").set_value("Second question")
    fake.expect("chat.completions", chat_text(["Second answer."]))
    button(at, "Send edited message").click().run()  # type: ignore[attr-defined]
    assert not at.exception
    assert "Second answer." in texts(at) and "First answer." not in texts(at)
    assert "1 / 2" not in [c.value for c in at.caption]
    assert "2 / 2" in [c.value for c in at.caption]
    sent = fake.calls("chat.completions")[-1].body["messages"]
    assert sent == [{"role": "user", "content": "Second question"}]

    fake.expect("chat.completions", chat_text(["Third answer."]))
    button(at, "Regenerate").click().run()  # type: ignore[attr-defined]
    assert "Third answer." in texts(at) and "Second answer." not in texts(at)
    assert [c.value for c in at.caption].count("2 / 2") == 2  # the question's, the answer's

    button(at, "‹").click().run()  # type: ignore[attr-defined]
    assert "First question" in texts(at) and "First answer." in texts(at)
    assert "1 / 2" in [c.value for c in at.caption]
