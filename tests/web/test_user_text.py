"""The user's message is painted exactly as typed: plain text, white space kept (AppTest)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

TYPED = {
    "lines": "Shopping list:\nmilk\neggs\nbread",
    "spaces, tabs, blank lines": "a  b   c\n\n\n  indented\n\tTabbed\tcell\n    four spaces",
    "indented first line": "    def f():\n        return 1\n\n    print(f())",
    "blank first line": "\n\nafter two blank lines",
    "markdown": "**bold** _em_ `code` # not a heading\n- not\n- a list\n\n```\nfence\n```\n"
    "[link](https://x.example) ![img](https://collector.example/i.png) $x$ :red[y]",
    "html": '<b>bold</b> <img src=x onerror="alert(1)"> &amp; <script>x()</script>',
}


def _paint(text: str) -> None:
    from assistants_ui.core.transcript import Message
    from assistants_ui.web.render import render_user_message

    render_user_message(Message.user(text))


@pytest.mark.parametrize("name", list(TYPED))
def test_the_user_text_is_shown_as_typed_and_inert(name: str) -> None:
    typed = TYPED[name]
    page = AppTest.from_function(_paint, args=(typed,)).run()
    assert not page.exception
    assert page.markdown.len == 0  # nothing read as Markdown (or HTML)
    (shown,) = page.text
    # Plain text, every character as typed; a text that starts with white space is
    # shown after a zero-width space, so that `st.text` strips none of it.
    assert shown.value.removeprefix("\u200b") == typed
    assert shown.value == typed or (typed[0].isspace() and shown.value[0] == "\u200b")
