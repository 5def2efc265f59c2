"""In Chromium: a question shows as typed (Shift+Enter lines, spaces, tabs), an answer's
poem keeps its lines while it streams and once it is finished, and a list stays a list."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from browser_support import StartApp
from fakes.chat_routes import chat_chunks
from fakes.server import FakeOpenAI, Stream

pytestmark = pytest.mark.browser

# Typed line by line, Shift+Enter between lines; "\t" is inserted (Tab would move focus).
TYPED_LINES = [
    "Shopping list:",
    "milk",
    "  eggs  (a  dozen)",
    "",
    "\tbread",
    "**not bold** <b>x</b>",
]
TYPED = "\n".join(TYPED_LINES)

# The poem opens with one-word lines (a piece can only be cut at a line break there),
# then long lines.
STANZA = [f"echo{i}" for i in range(36)]
POEM_LINES = STANZA + [
    f"Line {i} of the poem walks along the river, and the {word} answers back"
    for i, word in enumerate(["stream", "render", "answer", "token", "model", "browser"] * 2)
]
POEM = "\n".join(POEM_LINES)
LIST = "- milk from the farm\ncold, lazy line\n- eggs\n- bread\n\n1. one\n2. two"
ANSWER = f"{POEM}\n\n{LIST}"


def _words(text: str) -> list[str]:
    """The answer as a model streams it: a word (with the space or line break after it)
    at a time."""
    out: list[str] = []
    word = ""
    for char in text:
        word += char
        if char in " \n":
            out.append(word)
            word = ""
    return [*out, word] if word else out


def _type_question(page: Page) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=30_000)
    box.click()
    for number, line in enumerate(TYPED_LINES):
        if number:
            page.keyboard.press("Shift+Enter")
        for index, part in enumerate(line.split("\t")):
            if index:
                page.keyboard.insert_text("\t")
            if part:
                page.keyboard.type(part)
    expect(box).to_have_value(TYPED)  # Shift+Enter made new lines and did not send
    expect(page.get_by_test_id("stChatInputSubmitButton")).to_be_enabled(timeout=30_000)
    box.press("Enter")


def _layout(box: Locator) -> list[tuple[str, float, float]]:
    """Each piece of text in `box`, with where it is drawn relative to the first one."""
    found: list[list[Any]] = box.evaluate(
        """box => {
            const out = [], walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
            for (let node; (node = walk.nextNode()); ) {
                if (!node.textContent.trim()) continue;
                const range = document.createRange();
                range.selectNodeContents(node);
                const rect = range.getBoundingClientRect();
                out.push([node.textContent.trim(), rect.top, rect.left]);
            }
            return out;
        }"""
    )
    top, left = found[0][1], found[0][2]
    return [(str(text), y - top, x - left) for text, y, x in found]


def test_question_as_typed_poem_keeps_its_lines_list_stays_a_list(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    words = _words(ANSWER)
    # Paused 30 lines into the stanza (~200 characters, more than two pieces' worth):
    # by then its pieces are on the page, one of them cut at a line break.
    answer_stream = Stream(chat_chunks(words), delay=0.005, pause_after=1 + 30)
    fake.expect("chat.completions", answer_stream)
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.goto(url)
    _type_question(page)

    # The question shows as typed: lines, blank line, runs of spaces, tab, Markdown and
    # HTML as the characters they are.
    question = page.get_by_role("group", name="Chat message from user").last
    expect(question).to_be_visible(timeout=30_000)
    expect(question.get_by_test_id("stText")).to_have_count(1)
    assert question.get_by_test_id("stText").inner_text() == TYPED
    assert question.locator("strong, b, ul, li, code").count() == 0

    # While the poem streams, its pieces already show its lines, and a piece cut at a
    # line break starts on a new line.
    answer = page.get_by_role("group", name="Chat message from assistant").last
    pieces = answer.locator("[class*='st-key-pc-paragraph']")
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[class*='st-key-pc-paragraph'] p\")]"
        ".some(p => p.firstChild && p.firstChild.nodeName === 'BR')",
        timeout=30_000,
    )
    expect(pieces).to_contain_text("echo29")  # all that arrived before the pause
    streaming = _layout(pieces)
    # One line each, evenly spaced: no line joined or blank line added at a seam.
    assert [text for text, _, _ in streaming] == STANZA[:30]
    assert len({round(top) for _, top, _ in streaming}) == 30
    steps = [b[1] - a[1] for a, b in itertools.pairwise(streaming)]
    assert max(steps) - min(steps) < 1 and {round(left) for _, _, left in streaming} == {0}
    answer_stream.resume.set()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0, timeout=60_000)
    expect(answer.locator("[class*='st-key-pc-']")).to_have_count(0)
    # The finished block shows those lines where the pieces showed them: nothing jumps.
    finished = _layout(answer.locator("p", has_text="echo0"))[:30]
    assert [(t, round(y), round(x)) for t, y, x in finished] == [
        (t, round(y), round(x)) for t, y, x in streaming
    ]
    # The model was sent the question as typed, too.
    assert fake.calls("chat.completions")[-1].body["messages"][-1]["content"] == TYPED

    _check(answer, question)
    page.reload()  # painted again from storage
    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer.get_by_text("Line 0 of the poem", exact=False)).to_be_visible(timeout=30_000)
    _check(answer, page.get_by_role("group", name="Chat message from user").last)


def _check(answer: Locator, question: Locator) -> None:
    """The finished answer: the poem one paragraph with every line on its own line, the
    lists still lists; the question as typed."""
    poem = answer.locator("p", has_text="Line 0 of the poem")
    expect(poem).to_have_count(1)
    assert poem.inner_text() == POEM
    bullets = answer.locator("ul > li")
    expect(bullets).to_have_count(3)
    assert bullets.first.inner_text() == "milk from the farm\ncold, lazy line"
    expect(answer.locator("ol > li")).to_have_count(2)
    assert question.get_by_test_id("stText").inner_text() == TYPED
