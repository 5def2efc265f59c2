"""Where things are, in headless Chromium: a phone's width, scrolling while an answer
streams (issue 21, items 8 and 11)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from browser_support import StartApp, send
from fakes.chat_routes import chat_chunks, chat_text
from fakes.server import FakeOpenAI, Stream

pytestmark = pytest.mark.browser
TIMEOUT = 30_000


def top(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not on the page"
    return box["y"] + box["height"] / 2


def in_view(page: Page, locator: Locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return box["y"] >= 0 and box["y"] + min(box["height"], 40) <= size["height"]


def idle(page: Page) -> None:
    """Wait until the page's run has ended (the elements it repainted are settled)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=TIMEOUT
    )


def scroll_to(page: Page, text: str) -> None:
    """Scroll up to the message with `text` with the mouse wheel, as a reader does, once
    it is on the page (a send's run paints the history above the answer after its first
    words). While the page grows, Streamlit's main area follows its end, and takes a
    scroll that comes as the page grew for its own (it goes back to the end 34 ms
    later): a reader turns the wheel again, and so does this, until the message stays
    in view (one scroll by script, CI saw "Latest" never come)."""
    found = page.get_by_test_id("stChatMessage").filter(has_text=text).first
    found.wait_for(timeout=TIMEOUT)
    main = page.get_by_role("main").bounding_box()
    assert main is not None
    page.mouse.move(main["x"] + main["width"] / 2, main["y"] + main["height"] / 2)
    steady, deadline = 0, time.monotonic() + TIMEOUT / 1000
    while steady < 3:  # in view for three looks in a row, 0.1 s apart
        assert time.monotonic() < deadline, f"{text!r} did not stay in view"
        if in_view(page, found):
            steady += 1
        else:
            steady = 0
            page.mouse.wheel(0, -400)
        page.wait_for_timeout(100)


def test_on_a_phone_answer_actions_are_one_row_and_new_chat_is_at_hand(
    browser: Browser, start_app: StartApp, fake: FakeOpenAI
) -> None:
    fake.expect("chat.completions", chat_text(["A short answer."]), chat_text(["Again."]))
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(url)
        send(page, "Hello from a phone")
        regenerate = page.get_by_role("button", name="Regenerate")
        expect(regenerate).to_be_visible(timeout=TIMEOUT)
        copy = page.get_by_role("button", name="Copy")
        thumbs = page.get_by_test_id("stFeedback")
        expect(thumbs).to_be_visible()
        rows = {round(top(x) / 10) for x in (copy, regenerate, thumbs)}
        assert len(rows) == 1, f"answer actions on {len(rows)} rows: {rows}"
        # The sidebar is closed on a phone: a New chat is on the page itself.
        expect(page.get_by_test_id("stSidebar")).not_to_be_in_viewport()
        main_new = page.get_by_role("main").get_by_role("button", name="New chat")
        expect(main_new).to_be_in_viewport()
        # The versions of a regenerated answer read as one control: ‹ 2 / 2 › together.
        regenerate.click()
        expect(page.get_by_text("Again.")).to_be_visible(timeout=TIMEOUT)
        previous = page.get_by_role("button", name="‹").last
        following = page.get_by_role("button", name="›").last
        expect(previous).to_be_visible(timeout=TIMEOUT)
        left, right = previous.bounding_box(), following.bounding_box()
        assert left is not None and right is not None
        assert right["x"] - (left["x"] + left["width"]) < 80, (left, right)
        main_new.click()
        expect(page.get_by_role("main").get_by_text("Hello from a phone")).to_have_count(
            0, timeout=TIMEOUT
        )
    finally:
        context.close()


def test_sending_scrolls_to_the_question_and_latest_brings_back_the_end(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    long = [f"line {i}\n\n" for i in range(60)]
    fake.expect(
        "chat.completions",
        chat_text(long),
        chat_text(long),
        # Long enough (60 s) to be still streaming when the test scrolls up on a busy
        # machine: "Latest" shows only while an answer streams. The test ends before it.
        Stream(chat_chunks([f"word{i} " for i in range(3000)]), delay=0.02),
    )
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.set_viewport_size({"width": 1000, "height": 700})
    page.goto(url)
    for question in ("First question", "Second question"):
        send(page, question)
        expect(page.get_by_text("line 59").last).to_be_visible(timeout=TIMEOUT)
        idle(page)
    scroll_to(page, "First question")  # read the beginning
    send(page, "Third question")
    asked = page.get_by_test_id("stChatMessage").filter(has_text="Third question")
    expect(asked).to_be_visible(timeout=TIMEOUT)
    page.wait_for_function(
        "() => { const m = [...document.querySelectorAll('[data-testid=stChatMessage]')]"
        ".find(e => e.innerText.includes('Third question'));"
        " const r = m && m.getBoundingClientRect();"
        " return r && r.top >= 0 && r.top < window.innerHeight; }",
        timeout=TIMEOUT,
    )
    expect(page.get_by_text("word40", exact=False)).to_be_visible(timeout=TIMEOUT)
    latest = page.get_by_role("button", name="↓ Latest")
    scroll_to(page, "First question")  # up, mid-answer
    expect(latest).to_be_visible(timeout=TIMEOUT)
    latest.click()
    expect(page.get_by_role("button", name="Stop")).to_be_in_viewport(timeout=TIMEOUT)
    expect(latest).to_be_hidden(timeout=TIMEOUT)
