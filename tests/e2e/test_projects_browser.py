"""Projects in Chromium (`assistants-ui run`, password login, two assistants): a project
made in the sidebar changes the answers of its conversations with its instructions and
its text files (the request the fake server receives carries them: the files as the
conversation's documents, before the question), and only theirs; a file that is not text
is refused with one sentence."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from test_isolation_browser import signed_in
from test_login_browser import TIMEOUT

from browser_support import choose, send
from fakes.chat_routes import chat_text
from fakes.server import FakeOpenAI, Recorded, Reply

pytestmark = pytest.mark.browser


def _answer(rec: Recorded) -> Reply:
    """The fake answers as a beekeeper when its instructions say so."""
    messages = rec.body["messages"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    voice = "Buzz! " if "Answer as a beekeeper." in system else ""
    question = messages[-1]["content"].split("\n\n")[-1]  # after the documents, if any
    return chat_text([f"{voice}Fake answer to: {question}"])


def project_menu(page: Page) -> None:
    """Open the sidebar's project menu (it stays open after an action inside it)."""
    body = page.get_by_test_id("stPopoverBody")
    if not body.is_visible():
        page.locator(".st-key-project-menu").get_by_role("button").first.click()
    expect(body).to_be_visible(timeout=TIMEOUT)


@pytest.mark.parametrize("two_users_app", [2], indirect=True, ids=["two-assistants"])
def test_a_projects_instructions_change_the_answer(
    browser: Browser, two_users_app: str, fake: FakeOpenAI
) -> None:
    fake.set_default("chat.completions", _answer)
    anna = browser.new_context().new_page()
    signed_in(anna, two_users_app, "anna", "anna-password-1", "Anna A")
    side = anna.get_by_test_id("stSidebar")
    send(anna, "When do bees swarm?")
    expect(anna.get_by_text("Fake answer to: When do bees swarm?")).to_be_visible(timeout=TIMEOUT)
    expect(anna.get_by_text("Buzz!")).to_have_count(0)

    choose(anna, "Assistant", "🦉 Second")
    project_menu(anna)
    body = anna.get_by_test_id("stPopoverBody")
    body.get_by_role("textbox", name="New project").fill("Bees")
    body.get_by_role("button", name="Create project").click()
    expect(side.get_by_text("No conversation in this project yet")).to_be_visible(timeout=TIMEOUT)
    project_menu(anna)
    body.get_by_role("textbox", name="Instructions").fill("Answer as a beekeeper.")
    body.get_by_role("button", name="Save project").click()
    expect(anna.get_by_text("Project saved")).to_be_visible(timeout=TIMEOUT)
    project_menu(anna)
    body.locator("input[type=file]").set_input_files(
        [
            {
                "name": "hives.md",
                "mimeType": "text/markdown",
                "buffer": b"Hive 7 is the strongest.",
            },
            {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"},
            {"name": "photo.txt", "mimeType": "text/plain", "buffer": bytes(range(256)) * 4},
        ]
    )
    expect(body.get_by_text("plan.pdf: a project takes text files")).to_be_visible(timeout=TIMEOUT)
    expect(
        body.get_by_text("photo.txt is not text (it holds binary data); it is not added.")
    ).to_be_visible(timeout=TIMEOUT)
    expect(body.get_by_text("hives.md · 24 B")).to_be_visible(timeout=TIMEOUT)
    anna.keyboard.press("Escape")

    send(anna, "When do bees swarm now?")
    expect(anna.get_by_text("Buzz! Fake answer to: When do bees swarm now?")).to_be_visible(
        timeout=TIMEOUT
    )
    messages = fake.calls("chat.completions")[-1].body["messages"]
    system, question = messages[0]["content"], messages[-1]["content"]
    assert "This conversation belongs to the project 'Bees'." in system
    assert "Answer as a beekeeper." in system
    # On the chat backend the project's files are documents: whole before the question.
    assert question == (
        "Attached file `hives.md`:\n```\nHive 7 is the strongest.\n```\n\nWhen do bees swarm now?"
    )
    assert "hives.md" not in system and "%PDF" not in question
    expect(side.get_by_role("button", name="When do bees swarm now?")).to_be_visible()
    expect(side.get_by_role("button", name="When do bees swarm?", exact=True)).to_have_count(0)

    side.get_by_role("button", name="New chat").click()  # still in the project
    send(anna, "Honey?")
    expect(anna.get_by_text("Buzz! Fake answer to: Honey?")).to_be_visible(timeout=TIMEOUT)
    choose(anna, "Project", "All conversations")
    side.get_by_role("button", name="When do bees swarm?", exact=True).click()
    expect(anna.get_by_text("Fake answer to: When do bees swarm?")).to_be_visible(timeout=TIMEOUT)
    send(anna, "And outside?")
    expect(anna.get_by_text("Fake answer to: And outside?")).to_be_visible(timeout=TIMEOUT)
    expect(anna.get_by_text("Buzz! Fake answer to: And outside?")).to_have_count(0)
