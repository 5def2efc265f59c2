"""Through the real page in headless Chromium: the app, configured for OGX, answers
after a text file was uploaded, indexed and searched on the server (no fake
anywhere). Several turns are covered through the backend (test_ogx_responses.py):
each turn here costs a forced search and a long prompt on a small CPU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browser_support import app_command, free_port, send, serving
from interop.servers import OGX_MODEL, Server

pytestmark = pytest.mark.browser

NOTE = b"The launch code of the blue rocket is 7731.\n"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


def test_a_file_searched_on_ogx_is_shown_then_answered(
    page: Page, ogx_server: Server, tmp_path: Path
) -> None:
    (tmp_path / "assistants.toml").write_text(
        f"""
[connections.ogx]
type = "openai"
base_url = "{ogx_server.url}"
max_retries = 0
timeout = 120

[[assistants]]
id = "ogx"
title = "OGX"
backend = "responses"
connection = "ogx"
model = "{OGX_MODEL}"
tools = ["file_search"]
tool_choice = "file_search"
upload_types = ["txt"]
max_output_tokens = 16
temperature = 0
"""
    )
    port = free_port()
    with (
        (tmp_path / "app.log").open("wb") as log,
        serving(app_command(port), port, cwd=tmp_path, output=log) as (url, _),
    ):
        page.goto(url)
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=90_000)
        page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
            files=[{"name": "rockets.txt", "mimeType": "text/plain", "buffer": NOTE}]
        )
        send(page, "What is the launch code?")
        box = page.get_by_test_id("stChatInputTextArea")
        expect(box).to_be_enabled(timeout=300_000)
        answers = page.get_by_role("group", name="Chat message from assistant")
        first = answers.last
        # The indexing step and the model's own search, then text after them.
        expect(first.get_by_text("File search", exact=False)).to_have_count(2, timeout=10_000)
        assert "rejected the request" not in page.get_by_role("main").inner_text()
        after = first.inner_text().rsplit("File search", 1)[1]
        assert after.strip(), first.inner_text()  # the answer's text, after the search
