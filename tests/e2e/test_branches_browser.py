"""End to end in headless Chromium: regenerate an answer, edit a question, step between
the versions ("‹ 2 / 3 ›"), and find the branch shown again after a reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from browser_support import StartApp, send
from fakes.chat_routes import chat_text
from fakes.responses_routes import text_reply
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

TIMEOUT = 60_000


def messages(page: Page, role: str) -> Locator:
    return page.get_by_role("group", name=f"Chat message from {role}")


def test_regenerate_keeps_both_answers_and_survives_a_reload(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    fake.expect("chat.completions", chat_text(["First ", "answer."]))
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"})
    page.goto(url)
    send(page, "Name a colour")
    answer = messages(page, "assistant").last
    expect(answer).to_contain_text("First answer.", timeout=TIMEOUT)

    fake.expect("chat.completions", chat_text(["Second ", "answer."]))
    answer.get_by_role("button", name="Regenerate").click()
    answer = messages(page, "assistant").last
    expect(answer).to_contain_text("Second answer.", timeout=TIMEOUT)
    expect(answer).to_contain_text("2 / 2", timeout=TIMEOUT)
    expect(messages(page, "assistant")).to_have_count(1)
    # The model was asked the question alone, not shown the first answer.
    sent = fake.calls("chat.completions")[-1].body["messages"]
    assert sent == [{"role": "user", "content": "Name a colour"}]

    answer.get_by_role("button", name="‹").click()
    answer = messages(page, "assistant").last
    expect(answer).to_contain_text("First answer.", timeout=TIMEOUT)
    expect(answer).to_contain_text("1 / 2")

    # A reload shows the branch last shown, with its versions.
    page.reload()
    answer = messages(page, "assistant").last
    expect(answer).to_contain_text("First answer.", timeout=TIMEOUT)
    expect(answer).to_contain_text("1 / 2")
    answer.get_by_role("button", name="›").click()
    expect(messages(page, "assistant").last).to_contain_text("Second answer.", timeout=TIMEOUT)
    assert len(fake.calls("chat.completions")) == 2


def test_edit_a_question_on_the_responses_backend_and_navigate_branches(
    page: Page, start_app: StartApp, fake: FakeOpenAI, tmp_path: Path
) -> None:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"
api_key = "sk-test"

[[assistants]]
id = "helper"
title = "Helper"
backend = "responses"
connection = "fake"
model = "gpt-test"
""")
    fake.expect(
        "responses.create",
        text_reply(["Paris is the capital."]),
        text_reply(["It has 2 million people."]),
    )
    url = start_app()
    page.goto(url)
    send(page, "Capital of France?")
    expect(messages(page, "assistant").last).to_contain_text("Paris", timeout=TIMEOUT)
    send(page, "How many people live there?")
    expect(messages(page, "assistant").last).to_contain_text("2 million", timeout=TIMEOUT)
    first_conversation = fake.calls("responses.create")[-1].body["conversation"]

    fake.expect("responses.create", text_reply(["About 12 million in the region."]))
    question = messages(page, "user").last
    question.get_by_role("button", name="Edit").click()
    box = page.get_by_label("Edit your message")
    expect(box).to_have_value("How many people live there?", timeout=TIMEOUT)
    box.fill("How many people live in the Paris region?")
    page.get_by_role("button", name="Send edited message").click()

    expect(messages(page, "assistant").last).to_contain_text("12 million", timeout=TIMEOUT)
    question = messages(page, "user").last
    expect(question).to_contain_text("Paris region", timeout=TIMEOUT)
    expect(question).to_contain_text("2 / 2", timeout=TIMEOUT)
    expect(messages(page, "user")).to_have_count(2)

    # The branch has its own remote conversation, seeded with the messages before it.
    sent = fake.calls("responses.create")[-1].body
    assert sent["conversation"] != first_conversation
    assert sent["input"] == [
        {"role": "user", "content": "How many people live in the Paris region?"}
    ]
    seeded = fake.calls("conversations.create")[-1].body["items"]
    assert seeded == [
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris is the capital."},
    ]

    # Back to the first version: its answer comes with it.
    question.get_by_role("button", name="‹").click()
    expect(messages(page, "assistant").last).to_contain_text("2 million", timeout=TIMEOUT)
    expect(messages(page, "user").last).to_contain_text("1 / 2")
    page.reload()
    expect(messages(page, "user").last).to_contain_text(
        "How many people live there?", timeout=TIMEOUT
    )
    expect(messages(page, "assistant").last).to_contain_text("2 million")

    # Going on in the first branch uses the first remote conversation.
    fake.expect("responses.create", text_reply(["The Seine."]))
    send(page, "Which river?")
    expect(messages(page, "assistant").last).to_contain_text("The Seine.", timeout=TIMEOUT)
    assert fake.calls("responses.create")[-1].body["conversation"] == first_conversation
