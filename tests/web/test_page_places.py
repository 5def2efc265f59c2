"""What the page shows stays at its place from one run to the next (docs/architecture.md,
"Rendering"): the browser keeps an element until a run sends another at its place, and a
message sent to another place is painted anew, after a moment without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from fakes.chat_routes import chat_text
from fakes.server import FakeOpenAI

APP = str(Path(__file__).parents[2] / "streamlit_app.py")


@pytest.fixture
def page(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_MODEL", "m")
    return AppTest.from_file(APP, default_timeout=30).run()


def places(node: Any, path: tuple[int, ...] = ()) -> dict[tuple[int, ...], str]:
    """Every message box on the page, by its place: its text."""
    found: dict[tuple[int, ...], str] = {}
    if getattr(node, "type", "") == "chat_message":
        texts = [m.value for m in node.markdown] + [t.value for t in node.text]
        found[path] = " ".join(texts)
    for index, child in (getattr(node, "children", None) or {}).items():
        found.update(places(child, (*path, index)))
    return found


def test_messages_keep_their_places_on_the_runs_after_an_answer(
    page: AppTest, fake: FakeOpenAI
) -> None:
    """The answer just ended stays in the box it was written in, and the questions and
    answers before it stay in theirs (the list is not made anew), also when the next
    question is sent: each turn keeps its place (the answer before it moved to the
    history, painted anew after the sidebar, a blink of what was just read)."""
    read: dict[tuple[int, ...], str] = {}
    for question, answer in (("Hi", "Hello there."), ("Again", "Hello again.")):
        fake.expect("chat.completions", chat_text([answer[:6], answer[6:]]))
        page.chat_input[0].set_value(question).run()
        assert not page.exception
        written = places(page.main)
        assert [t for t in written.values() if t][-2:] == [question, answer], written
        assert {place: written.get(place) for place in read} == read
        page.run()  # the run after the answer ended (a click anywhere)
        assert places(page.main) == written
        page.run()
        assert places(page.main) == written
        read = {place: text for place, text in written.items() if text}
