"""End to end in headless Chromium: the conversation features of issue 14."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser_support import StartApp, send
from fakes.chat_routes import chat_text
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser


def test_clicking_a_starter_sends_it_and_shows_the_answer(
    page: Page, start_app: StartApp, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"

[[assistants]]
id = "helper"
title = "Helper"
backend = "chat"
connection = "fake"
model = "m"
starters = ["Explain recursion in one line", "Write a haiku"]
""")
    words = ["A function ", "that calls itself", *[" again"] * 30, "."]
    fake.expect("chat.completions", chat_text(words, delay=0.1))
    url = start_app()
    page.goto(url)
    starter = page.get_by_role("button", name="Explain recursion in one line")
    expect(starter).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Write a haiku")).to_be_visible()
    starter.click()
    user = page.get_by_role("group", name="Chat message from user")
    expect(user.first).to_contain_text("Explain recursion in one line", timeout=30_000)
    expect(page.get_by_text("A function that calls itself")).to_be_visible(timeout=30_000)
    # Gone while the answer is written, not left under it, greyed, until it ends.
    expect(page.get_by_role("button", name="Write a haiku")).to_have_count(0, timeout=1_000)
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(page.get_by_text("again again.")).to_be_visible(timeout=30_000)
    sent = fake.calls("chat.completions")[0].body["messages"]
    assert sent[-1] == {"role": "user", "content": "Explain recursion in one line"}


def test_copy_puts_the_answers_markdown_on_the_clipboard(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    markdown = "Steps:\n\n1. **Mix** `flour`\n2. Bake <b>hot</b>\n\n```python\nprint('x')\n```"
    fake.expect("chat.completions", chat_text([markdown[:20], markdown[20:]]))
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page.goto(url)
    send(page, "How?")
    expect(page.get_by_text("Mix", exact=True)).to_be_visible(timeout=30_000)
    copy = page.get_by_role("button", name="Copy")
    expect(copy).to_have_count(1, timeout=10_000)
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == markdown
    # The HTML in the answer stayed text: nothing of it became an element.
    assert page.locator("main b").count() == 0


def test_latex_in_an_answer_is_typeset(page: Page, start_app: StartApp, fake: FakeOpenAI) -> None:
    fake.expect(
        "chat.completions",
        chat_text(["Inline \\( x^2 \\) and display:\n\n", "\\[\n\\frac{a}{b}\n\\]\n\nDone."]),
    )
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.goto(url)
    send(page, "Math?")
    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer).to_contain_text("Done.", timeout=30_000)
    expect(answer.locator(".katex")).to_have_count(2)
    assert "\\(" not in answer.inner_text()
