"""A day of use in headless Chromium, without seams (issue 21's "done when").

Two assistants and password login, as a team would run it. Anna picks the
second assistant, attaches her notes and gets a list and a poem; regenerates
the answer and edits her question; closes the tab while a long answer is
written and finds it whole when she opens the conversation again; the app is
killed (`kill -9`) mid-answer and restarted, and what she was reading is kept,
marked cut off, with Retry; she switches the page to Japanese and back; she
reopens the conversation from the history list and from its link.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from test_isolation_browser import signed_in
from test_languages_browser import choose_language
from test_login_browser import SECRETS, TIMEOUT, add_user, log_in, write_secrets

from browser_support import TWO_ASSISTANTS, app_command, choose, free_port, send, serving
from fakes.chat_routes import chat_text
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

LIST_AND_POEM = (
    "Your notes, as a list:\n\n1. milk\n2. eggs\n3. bread\n\n"
    "And as a poem:\n\nMilk in the morning,\neggs on the side,\nbread for the journey,\n"
    "nothing to hide."
)
STORY = [f"s{i} " for i in range(240)]  # 240 words, ~7 s
SAGA = [f"g{i} " for i in range(400)]  # 400 words, ~20 s: killed in the middle
NOTES = b"milk\neggs\nbread\n"


class App:
    """`assistants-ui run` on a fixed port and data folder, killed and started again."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env, self.port = folder, env, free_port()
        self.stack = ExitStack()
        self.url = ""
        self.runs = 0

    def start(self) -> str:
        self.runs += 1
        log = self.stack.enter_context((self.folder / f"app-{self.runs}.log").open("wb"))
        self.url, self.proc = self.stack.enter_context(
            serving(app_command(self.port), self.port, cwd=self.folder, env=self.env, output=log)
        )
        return self.url

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no shutdown hook, no last save
        self.proc.wait(timeout=30)


@pytest.fixture
def app(tmp_path: Path, fake: FakeOpenAI) -> Iterator[App]:
    write_secrets(tmp_path, SECRETS)
    add_user(tmp_path, "anna", "anna-password-1", "Anna A")
    (tmp_path / "assistants.toml").write_text(TWO_ASSISTANTS.format(base_url=fake.base_url))
    env = {"AUTHENTICATION_REQUIRED": "true", "HOME": str(tmp_path / "home")}
    running = App(tmp_path, env)
    with running.stack:
        yield running


def answers(page: Page) -> list[str]:
    """The text of every answer on the page, in order."""
    box = page.locator('[data-testid="stChatMessage"]').filter(
        has_not=page.get_by_test_id("stChatMessageAvatarUser")
    )
    return [text.strip() for text in box.all_inner_texts()]


def sagas(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\bg(\d+)\b", text)]


def test_a_day_of_use_without_seams(browser: Browser, app: App, fake: FakeOpenAI) -> None:
    url = app.start()
    context: BrowserContext = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    signed_in(page, url, "anna", "anna-password-1", "Anna A")
    side = page.get_by_test_id("stSidebar")

    # Morning: the second assistant, a file, a list and a poem.
    choose(page, "Assistant", "🦉 Second")
    fake.expect("chat.completions", chat_text([LIST_AND_POEM[:40], LIST_AND_POEM[40:]]))
    page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES}]
    )
    expect(page.get_by_test_id("stChatInput").get_by_text("notes.txt")).to_be_visible(
        timeout=TIMEOUT
    )
    send(page, "Summarise my notes")
    expect(page.get_by_role("listitem").filter(has_text="eggs")).to_be_visible(timeout=TIMEOUT)
    assert "notes.txt" in str(fake.calls("chat.completions")[-1].body)
    # The answer's list, then the document it drew on under its Sources.
    expect(page.locator("ol > li")).to_have_text(["milk", "eggs", "bread", "notes.txt"])
    poem = page.get_by_text("Milk in the morning,")
    expect(poem).to_be_visible()
    lines = poem.inner_text().splitlines()
    assert lines[:4] == [
        "Milk in the morning,",
        "eggs on the side,",
        "bread for the journey,",
        "nothing to hide. [1]",  # the answer's footnote: the document it drew on
    ], lines

    # Regenerate, then edit the question: both keep their versions.
    fake.expect("chat.completions", chat_text(["A second take."]))
    page.get_by_role("button", name="Regenerate").click()
    expect(page.get_by_text("A second take.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("2 / 2")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Edit").first.click()
    edit = page.get_by_role("textbox", name="Edit your message")
    expect(edit).to_be_focused(timeout=TIMEOUT)  # the edit box takes the cursor
    edit.fill("Summarise my notes, briefly")
    fake.expect("chat.completions", chat_text(["Milk, eggs, bread."]))
    page.get_by_role("button", name="Send edited message").click()
    expect(page.get_by_text("Milk, eggs, bread.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("2 / 2").first).to_be_visible(timeout=TIMEOUT)
    link = page.url
    assert "?c=" in link

    # Noon: a long answer; the tab is closed while it is written.
    fake.expect("chat.completions", chat_text(STORY, delay=0.03))
    send(page, "Tell me a long story")
    expect(page.get_by_text(re.compile(r"\bs20\b"))).to_be_visible(timeout=TIMEOUT)
    context.close()  # nobody pressed Stop
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(link)
    log_in(page, "anna", "anna-password-1")
    side = page.get_by_test_id("stSidebar")
    expect(page.get_by_text(re.compile(r"\bs239\b"))).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Stopped")).to_have_count(0)
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    assert "s0 s1 s2" in answers(page)[-1]  # no blink as the followed answer ends (below)

    # Afternoon: the app is killed mid-answer and started again.
    fake.expect("chat.completions", chat_text(SAGA, delay=0.05))
    send(page, "And a longer one")
    expect(page.get_by_text(re.compile(r"\bg120\b"))).to_be_visible(timeout=TIMEOUT)
    shown = max(sagas(answers(page)[-1]))  # what was visible a second before the kill
    time.sleep(1.0)  # the reader reads on for a second: the kill comes then
    app.kill()
    app.start()
    page.reload()
    expect(page.get_by_text("cut off", exact=False)).to_be_visible(timeout=TIMEOUT)
    kept = sagas(answers(page)[-1])
    assert kept == list(range(len(kept))) and len(kept) >= 0.9 * (shown + 1), (len(kept), shown)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    expect(side.get_by_role("button", name="Summarise my notes", exact=True)).to_be_visible()

    # The page in Japanese, then back: the conversation stays.
    choose_language(page, "Language", "日本語")
    expect(side.get_by_role("button", name="新しいチャット")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(re.compile(r"\bs239\b"))).to_be_visible(timeout=TIMEOUT)
    choose_language(page, "言語", "English")
    expect(side.get_by_role("button", name="New chat")).to_be_visible(timeout=TIMEOUT)

    # Evening: another chat, then the conversation again from the list and from its link.
    side.get_by_role("button", name="New chat").click()
    expect(page.get_by_text(re.compile(r"\bs239\b"))).to_have_count(0, timeout=TIMEOUT)
    side.get_by_role("button", name="Summarise my notes", exact=True).click()
    expect(page.get_by_text(re.compile(r"\bs239\b"))).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("combobox", name="Assistant")).to_have_value("🦉 Second")
    other = browser.new_context().new_page()
    other.goto(link)
    log_in(other, "anna", "anna-password-1")
    expect(other.get_by_text(re.compile(r"\bs239\b"))).to_be_visible(timeout=TIMEOUT)
    expect(other.get_by_text("Milk, eggs, bread.")).to_be_visible()
    for shown_page in (page, other):
        expect(shown_page.get_by_text("Something went wrong")).to_have_count(0)
    context.close()


# Every frame the browser paints, whether the page's messages show each of `markers`,
# and the second of each of `pairs` wherever they show its first: a frame without one is
# a blink (`__blinks`, from `performance.now()`). Called again, the same watch goes on.
WATCH = """([markers, pairs]) => {
  window.__blinks = []; window.__frames = 0; window.__watch = [markers, pairs];
  if (window.__watching) return;
  window.__watching = true;
  const tick = () => {
    const boxes = document.querySelectorAll('[data-testid="stChatMessage"]');
    const text = Array.from(boxes).map((box) => box.innerText).join("\\n");
    const [shown, together] = window.__watch;
    if (!shown.every((marker) => text.includes(marker))
        || together.some(([first, second]) => text.includes(first) && !text.includes(second))) {
      window.__blinks.push(performance.now());
    }
    window.__frames += 1;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def watched(page: Page, *markers: str, pairs: tuple[tuple[str, str], ...] = ()) -> None:
    """Watch, from now on, that the page's messages show `markers` (each shown now), and
    each pair's second wherever they show its first."""
    for marker in markers:
        expect(page.get_by_text(marker, exact=False).first).to_be_visible(timeout=TIMEOUT)
    page.evaluate(WATCH, [list(markers), [list(pair) for pair in pairs]])


def blinks(page: Page, settle: float = 2.0) -> list[float]:
    """The frames that lost the marker, once the page has had `settle` seconds."""
    time.sleep(settle)
    frames = page.evaluate("window.__frames")
    assert frames > 20, frames  # the watch ran, frame after frame
    found: list[float] = page.evaluate("window.__blinks")
    return found


def test_nothing_read_blinks_when_the_page_runs_again(
    browser: Browser, app: App, fake: FakeOpenAI
) -> None:
    """What is read stays on the page, frame after frame, whenever the page runs again
    (two assistants and password login, as a team runs it). Each case blinked once:
    - an answer whose sources came at its end (its text was painted anew), and the
      first click after an answer ended (it moved from its place to the history);
    - the first click after a password login (every element of the page moved one
      place: the whole page was painted anew);
    - a page that followed another page's answer to its end (then reloads it);
    - the next question sent (the answer before it moved to the history, and the new
      answer's first words came before the question they answer)."""
    url = app.start()
    writer = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    signed_in(writer, url, "anna", "anna-password-1", "Anna A")
    choose(writer, "Assistant", "🦉 Second")
    pieces = [LIST_AND_POEM[i : i + 12] for i in range(0, len(LIST_AND_POEM), 12)]
    fake.expect("chat.completions", chat_text(pieces, delay=0.1))
    writer.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": NOTES}]
    )
    expect(writer.get_by_test_id("stChatInput").get_by_text("notes.txt")).to_be_visible(
        timeout=TIMEOUT
    )
    send(writer, "Summarise my notes")
    watched(writer, "Summarise my notes", "Your notes")
    expect(writer.get_by_role("button", name="Regenerate")).to_be_visible(timeout=TIMEOUT)
    expect(writer.get_by_text("nothing to hide. [1]")).to_be_visible()  # painted anew
    writer.get_by_text("thumb_up").first.click()  # the first click after the end
    assert blinks(writer) == []
    link = writer.url
    assert "?c=" in link

    reader = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    reader.goto(link)
    log_in(reader, "anna", "anna-password-1")
    watched(reader, "Summarise my notes", "Your notes")
    reader.get_by_text("thumb_down").first.click()  # the first click after the login
    assert blinks(reader) == []

    # The writer asks for a story: what was read stays, and the story's first words come
    # with the question; a page signed in meanwhile follows it to its end.
    watched(writer, "Summarise my notes", "Your notes", pairs=(("s0 s1", "Tell me a long"),))
    fake.expect("chat.completions", chat_text(STORY, delay=0.03))
    send(writer, "Tell me a long story")
    expect(writer.get_by_text(re.compile(r"\bs10\b"))).to_be_visible(timeout=TIMEOUT)
    follower = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    follower.goto(link)
    log_in(follower, "anna", "anna-password-1")
    watched(follower, "Your notes", "Tell me a long story", "s0 s1 s2")
    expect(follower.get_by_role("button", name="Stop")).to_have_count(0, timeout=TIMEOUT)
    assert blinks(follower) == []
    assert blinks(writer, settle=0) == []
    expect(follower.get_by_text(re.compile(r"\bs239\b"))).to_be_visible()
