"""Through the real page in headless Chromium: the app, configured for OGX, answers
after a text file was uploaded, indexed and searched on the server (no fake
anywhere), and a second turn continues the conversation the server holds. Stop,
function tools and delete are covered through the backend (test_ogx_responses.py):
each turn here costs a forced search and a long prompt on a small CPU."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from browser_support import app_command, free_port, send, serving
from interop.servers import OGX_MODEL, Server, content_text

ENDED = re.compile(r"^(Regenerate|Retry)$")  # an ended answer's own buttons

pytestmark = pytest.mark.browser

NOTE = b"The launch code of the blue rocket is 7731.\n"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    yield context.new_page()
    context.close()


def test_a_file_searched_on_ogx_is_shown_then_answered_and_a_second_turn_follows(
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
    database = f"sqlite:///{tmp_path / 'app.db'}"
    port = free_port()
    with (
        (tmp_path / "app.log").open("wb") as log,
        serving(
            app_command(port), port, cwd=tmp_path, env={"DATABASE_URL": database}, output=log
        ) as (url, _),
    ):
        page.goto(url)
        page.get_by_test_id("stChatInputTextArea").wait_for(timeout=90_000)
        page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
            files=[{"name": "rockets.txt", "mimeType": "text/plain", "buffer": NOTE}]
        )
        send(page, "What is the launch code?")
        stop = page.get_by_role("button", name="Stop")  # there while an answer is written
        answers = page.get_by_role("group", name="Chat message from assistant")
        expect(answers).to_have_count(1, timeout=90_000)
        # An answer has ended once its own actions are drawn (Regenerate, or Retry after a
        # failure) and its Stop is gone: Stop comes with the first words, not before them.
        expect(answers.last.get_by_role("button", name=ENDED)).to_be_visible(timeout=300_000)
        expect(stop).to_have_count(0, timeout=30_000)
        first = answers.last
        # The indexing step and the model's own search, then text after them.
        expect(first.get_by_text("File search", exact=False)).to_have_count(2, timeout=10_000)
        assert "rejected the request" not in page.get_by_role("main").inner_text()
        after = first.inner_text().rsplit("File search", 1)[1]
        assert after.strip(), first.inner_text()  # the answer's text, after the search

        # A second turn: the same conversation on the server holds both questions.
        send(page, "And the red rocket?")
        expect(answers).to_have_count(2, timeout=30_000)
        expect(answers.last.get_by_role("button", name=ENDED)).to_be_visible(timeout=300_000)
        expect(stop).to_have_count(0, timeout=30_000)
        assert "rejected the request" not in page.get_by_role("main").inner_text()
        assert answers.last.inner_text().strip()

    with sa.create_engine(database).connect() as db:
        remotes = db.execute(sa.text("SELECT remote FROM conversations")).scalars().all()
    assert len(remotes) == 1, remotes
    remote = remotes[0] if isinstance(remotes[0], dict) else json.loads(remotes[0])
    server = openai.OpenAI(base_url=ogx_server.url, api_key="none", max_retries=0)
    items = list(server.conversations.items.list(remote["conversation"], order="asc"))
    said = [content_text(i.content) for i in items if i.type == "message" and i.role == "user"]
    # The first carries the app's note that the file was indexed, after the question.
    assert said[0].startswith("What is the launch code?") and said[1:] == ["And the red rocket?"]
    replies = [i for i in items if i.type == "message" and i.role == "assistant"]
    assert len(replies) == 2, [i.type for i in items]
