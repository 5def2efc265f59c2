"""End to end in headless Chromium: streaming appears, model HTML stays inert."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from browser_support import StartApp, send
from fakes.chat_routes import chat_chunks, chat_text
from fakes.server import FakeOpenAI, Stream

pytestmark = pytest.mark.browser


def user_messages(page: Page) -> Locator:
    return page.get_by_role("group", name="Chat message from user")


def answers(page: Page) -> Locator:
    """The assistant's messages after the first question (not the welcome text)."""
    return user_messages(page).first.locator(
        "xpath=following-sibling::*//*[@aria-label='Chat message from assistant']"
        " | following::*[@aria-label='Chat message from assistant']"
    )


def assistant_text(page: Page) -> str:
    found = answers(page)
    return found.last.inner_text().strip() if found.count() else ""


@pytest.mark.local_model
def test_hello_gets_a_streamed_reply_from_the_local_model(page: Page, start_app: StartApp) -> None:
    url = start_app({"LOCAL_MAX_TOKENS": "80"})
    page.goto(url)
    # Long enough to be seen streaming: a bare "Hello" was answered in 22 tokens, a
    # quarter of a second, over before the test had looked three times.
    send(page, "Hello! Tell me a long story about a lighthouse.")
    expect(user_messages(page).first).to_contain_text("Hello", timeout=30_000)
    stop = page.get_by_role("button", name="Stop")
    seen: list[str] = []
    stopped = False  # Stop comes right after the first words, and goes with the answer
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = assistant_text(page)
        if text and (not seen or text != seen[-1]):
            seen.append(text)
        stopped = stopped or stop.count() > 0
        if seen and stopped and stop.count() == 0:  # the answer ended: its Stop is gone
            break
        time.sleep(0.03)
    seen.append(assistant_text(page))
    assert seen and seen[-1], "no reply appeared"
    assert len({t for t in seen if t}) >= 3, f"the reply did not stream (saw {seen!r})"
    expect(page.get_by_role("button", name="Regenerate")).to_be_visible(timeout=10_000)


def test_html_in_model_output_stays_inert(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    payload = (
        '<img src="x" onerror="window.__pwned=1"> <script>window.__pwned=2</script> '
        '<a href="javascript:window.__pwned=3">click</a> **bold**'
    )
    fake.expect("chat.completions", chat_text([payload]))
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.goto(url)
    send(page, "Show HTML")
    expect(user_messages(page).first).to_contain_text("Show HTML", timeout=30_000)
    answer = answers(page).last
    expect(answer).to_contain_text("bold", timeout=30_000)
    assert answer.locator("img, script, iframe").count() == 0
    assert answer.locator("strong").count() == 1  # Markdown still renders
    for link in answer.locator("a").all():
        assert not (link.get_attribute("href") or "").startswith("javascript:")
    assert page.evaluate("window.__pwned") is None


def test_stop_keeps_the_partial_answer_and_the_next_message_works(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    words = [f"word{i} " for i in range(400)]
    fake.expect(
        "chat.completions",
        Stream(chat_chunks(words), delay=0.02),  # ~8 s if nobody stops it
        chat_text(["Second answer."]),
    )
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.goto(url)
    send(page, "Write a lot")
    expect(page.get_by_text("word20", exact=False)).to_be_visible(timeout=30_000)
    # The conversation is in the URL while it answers: a reload now comes back to it.
    assert "c=" in page.url, f"no conversation in the URL mid-answer: {page.url}"
    # Typing goes on while it streams: what is sent waits under the answer.
    send(page, "Next question")
    expect(page.get_by_text("Sent when the answer above ends.")).to_be_visible(timeout=10_000)
    assert "Second answer." not in page.get_by_role("main").inner_text()
    page.keyboard.press("Escape")  # Stop, from the keyboard
    expect(page.get_by_text("Second answer.")).to_be_visible(timeout=30_000)
    kept = page.get_by_role("main").inner_text()
    assert "word20" in kept and "word399" not in kept
    # The stopped answer is still there, marked as stopped by the reader.
    expect(page.get_by_text("Stopped: the answer above is what arrived")).to_be_visible()
    expect(page.get_by_text("Sent when the answer above ends.")).to_have_count(0)
    # The second request re-sent the stopped answer as history, then the waiting question.
    history = fake.calls("chat.completions")[-1].body["messages"]
    assert history[-2]["role"] == "assistant" and "word20" in history[-2]["content"]
    assert history[-1] == {"role": "user", "content": "Next question"}


def test_an_answer_slow_to_its_first_words_says_thinking_and_can_be_stopped(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    """Stop is painted after the first words (one message less to write before them),
    but while a model's first words are late the answer says "Thinking…" and has its
    Stop; the caption goes once words come, Stop with the answer."""
    slow = Stream(chat_chunks(["Finally ", "here."]), pause_after=0)
    fake.expect("chat.completions", slow)
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.goto(url)
    send(page, "Think hard")
    expect(page.get_by_text("Thinking…")).to_be_visible(timeout=30_000)
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    slow.resume.set()
    expect(answers(page).last).to_contain_text("Finally here.", timeout=30_000)
    expect(page.get_by_text("Thinking…")).to_have_count(0)
    expect(stop).to_have_count(0, timeout=30_000)


def test_the_stop_button_stops_it_and_leaving_the_page_does_not(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    words = [f"word{i} " for i in range(300)]
    fake.expect(
        "chat.completions",
        Stream(chat_chunks(words), delay=0.02),
        Stream(chat_chunks(words), delay=0.02),
    )
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.goto(url)
    send(page, "Write a lot")
    expect(page.get_by_text("word20", exact=False)).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="New chat").first.click()  # leave it: it goes on
    expect(page.get_by_text("word20", exact=False)).to_have_count(0, timeout=10_000)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Write a lot").click()
    expect(page.get_by_text("word299", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Stopped")).to_have_count(0)

    send(page, "Again")
    expect(page.get_by_text("word20", exact=False).last).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Stopped: the answer above is what arrived")).to_be_visible(
        timeout=10_000
    )
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)


def test_two_tabs_on_one_conversation_follow_the_same_answer(
    browser: Browser, start_app: StartApp, fake: FakeOpenAI
) -> None:
    """A second tab opened on the link while the answer is written follows it live;
    what it sends meanwhile waits for that answer, then is answered."""
    words = [f"word{i} " for i in range(300)]
    fake.expect(
        "chat.completions", Stream(chat_chunks(words), delay=0.03), chat_text(["Both done."])
    )
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    context = browser.new_context()  # one browser: the same guest in both tabs
    try:
        first = context.new_page()
        first.goto(url)
        send(first, "Write a lot")
        expect(first.get_by_text("word20", exact=False)).to_be_visible(timeout=30_000)
        second = context.new_page()
        second.goto(first.url)
        expect(second.get_by_text("word60", exact=False)).to_be_visible(timeout=30_000)
        expect(second.get_by_role("button", name="Stop")).to_be_visible()
        send(second, "And then?")
        expect(second.get_by_text("Sent when the answer above ends.")).to_be_visible(timeout=10_000)
        expect(second.get_by_text("Both done.")).to_be_visible(timeout=60_000)
        expect(second.get_by_text("word299", exact=False)).to_be_visible()
        assert len(fake.calls("chat.completions")) == 2  # one answer each, none twice
        first.reload()
        expect(first.get_by_text("Both done.")).to_be_visible(timeout=30_000)
        expect(first.get_by_text("Something went wrong")).to_have_count(0)
    finally:
        context.close()
