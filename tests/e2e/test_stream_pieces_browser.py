"""End to end in Chromium: a long growing block streams in pieces, ends as one exact block."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from browser_support import StartApp, send
from fakes.chat_routes import chat_chunks
from fakes.server import FakeOpenAI, Stream

pytestmark = pytest.mark.browser

CODE = "\n".join(f"def step_{i}(x):\n    return x * {i}  # | not | a table |" for i in range(80))
PARAGRAPH = " ".join(
    f"Sentence {i} has **bold {i}** and `code {i}` and *an emphasis {i}*." for i in range(40)
)
ANSWER = f"{PARAGRAPH}\n\n```python\n{CODE}\n```\n\nThe end."

PIECES = "[class*='st-key-pc-']"


def lines(text: str) -> list[str]:
    return [line + "\n" for line in text.split("\n")]


def test_a_long_block_streams_in_pieces_and_ends_as_one_exact_block(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    words = [w + " " for w in PARAGRAPH.split(" ")]
    pieces = [*words, "\n\n```python\n", *lines(CODE), "```\n\nThe end."]
    fake.expect("chat.completions", Stream(chat_chunks(pieces), delay=0.03))
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.goto(url)
    send(page, "Code, please.")
    answer = page.get_by_role("group", name="Chat message from assistant").last
    # While the code grows it is shown as several stacked pieces...
    page.wait_for_function(
        f'() => [...document.querySelectorAll("{PIECES}")]'
        ".some(box => box.querySelectorAll('pre').length > 1)",
        timeout=60_000,
    )
    expect(answer.get_by_text("The end.")).to_be_visible(timeout=60_000)
    # The answer has ended: its Stop is gone.
    expect(page.get_by_role("button", name="Stop")).to_have_count(0, timeout=60_000)
    # ... and ends as one code block holding exactly the code, pieces gone.
    expect(answer.locator(PIECES)).to_have_count(0)
    expect(answer.locator("pre")).to_have_count(1)
    assert answer.locator("pre").inner_text().rstrip("\n") == CODE
    # The paragraph painted whole: every sentence once, no seam, no Markdown left raw.
    paragraph = answer.locator("p", has_text="Sentence 0 has").inner_text()
    expected = PARAGRAPH.replace("**", "").replace("`", "").replace("*", "")
    assert " ".join(paragraph.split()) == expected
    assert answer.inner_text().count("Sentence 7 has") == 1
