"""End to end in headless Chromium: the conversation features of issue 14."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser_support import StartApp
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
    fake.expect("chat.completions", chat_text(["A function ", "that calls itself."]))
    url = start_app()
    page.goto(url)
    starter = page.get_by_role("button", name="Explain recursion in one line")
    expect(starter).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Write a haiku")).to_be_visible()
    starter.click()
    user = page.get_by_role("group", name="Chat message from user")
    expect(user.first).to_contain_text("Explain recursion in one line", timeout=30_000)
    expect(page.get_by_text("A function that calls itself.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Write a haiku")).to_have_count(0)
    sent = fake.calls("chat.completions")[0].body["messages"]
    assert sent[-1] == {"role": "user", "content": "Explain recursion in one line"}
