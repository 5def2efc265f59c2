"""Ask your documents, in Chromium, with nothing configured: the bundled model reads a
30-page PDF through the app's own search, and the answer cites the page the fact is on."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from browser_support import StartApp, send
from documents_support import FACT_PAGE, FACT_QUESTION, report_pdf, scanned_pdf

pytestmark = pytest.mark.browser


def attach(page: Page, name: str, data: bytes, mime: str) -> None:
    page.locator("[data-testid='stChatInputTextArea']").wait_for(timeout=30_000)
    page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


@pytest.mark.local_model
def test_a_30_page_pdf_question_cites_page_17_and_shows_the_passage(
    page: Page, start_app: StartApp
) -> None:
    url = start_app({"LOCAL_MAX_TOKENS": "60"})
    page.goto(url)
    attach(page, "annual-report.pdf", report_pdf(30), "application/pdf")
    send(page, FACT_QUESTION)

    answer = page.get_by_role("group", name="Chat message from assistant").last
    # The answer ends (Regenerate appears under it) with its sources as footnotes.
    expect(page.get_by_role("button", name="Regenerate")).to_be_visible(timeout=120_000)
    expect(answer.get_by_text("Sources")).to_be_visible()
    expect(answer).to_contain_text(f"annual-report.pdf, page {FACT_PAGE}")
    # The passage the model was given is shown behind the search's expander.
    answer.get_by_text("Passages found").click()
    expect(answer.get_by_text("4,812 herons", exact=False).first).to_be_visible()
    expect(answer.get_by_text(f"annual-report.pdf, page {FACT_PAGE}").first).to_be_visible()


@pytest.mark.local_model
def test_a_scanned_pdf_gets_one_sentence_and_the_chat_goes_on(
    page: Page, start_app: StartApp
) -> None:
    url = start_app({"LOCAL_MAX_TOKENS": "20"})
    page.goto(url)
    attach(page, "scan.pdf", scanned_pdf(), "application/pdf")
    send(page, "What does the scan say?")
    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer).to_contain_text("scan.pdf has no text layer", timeout=60_000)
    user = page.get_by_role("group", name="Chat message from user")
    expect(user.last).to_contain_text("scan.pdf")  # the question and its file are kept
    send(page, "Hello")
    expect(user).to_have_count(2, timeout=30_000)
    expect(page.get_by_role("button", name="Regenerate")).to_be_visible(timeout=120_000)
