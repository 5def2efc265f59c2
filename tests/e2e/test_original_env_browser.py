"""The original project's documented environment, end to end in Chromium.

Exactly the variables its README told people to set (plus a base URL pointing
at the fake Assistants server): the app starts, titles itself, takes an
upload, streams a code-interpreter run and offers the generated file, whose
downloaded bytes are the server's.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from browser_support import StartApp, send
from fakes.assistants_scripts import add_assistant, code, link, script, text
from fakes.files_routes import add_file
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4  # an OLE2 header: binary
XLSX = b"PK\x03\x04\x14\x00\x06\x00" + bytes(reversed(range(256))) * 16


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 60)).save(out, format="PNG")
    return out.getvalue()


def test_original_environment_chats_with_upload_and_download(
    page: Page, start_app: StartApp, fake: FakeOpenAI, tmp_path: Path
) -> None:
    add_assistant(
        fake, assistant_id="asst_sales", name="Sales analyst", tools=[{"type": "code_interpreter"}]
    )
    chart = add_file(fake, "chart.png", png())
    result = add_file(fake, "/mnt/data/summary.xlsx", XLSX)
    script(
        fake,
        code(
            ("import pandas as pd\n", "pd.read_excel('sales.xls')"),
            logs="4 rows\n",
            images=(chart,),
        ),
        text(
            "Totals are in [summary.xlsx](sandbox:/mnt/data/summary.xlsx).",
            annotations=(link("sandbox:/mnt/data/summary.xlsx", result),),
        ),
    )
    url = start_app(
        {
            "OPENAI_API_KEY": "sk-original",
            "ASSISTANT_ID": "asst_sales",
            "ASSISTANT_TITLE": "Assistants API UI",
            "ENABLED_FILE_UPLOAD_MESSAGE": "Upload a file",
            "AUTHENTICATION_REQUIRED": "False",
            "OPENAI_BASE_URL": fake.base_url,
        }
    )
    page.goto(url)
    expect(page.get_by_role("heading", name="Assistants API UI")).to_be_visible(timeout=30_000)
    page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
        files=[{"name": "sales.xls", "mimeType": "application/vnd.ms-excel", "buffer": XLS}]
    )
    send(page, "Summarise the sales")

    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer).to_contain_text("Totals are in", timeout=30_000)
    expect(answer.get_by_text("pd.read_excel('sales.xls')")).to_be_visible()
    expect(answer.get_by_text("4 rows")).to_be_visible()
    expect(answer.locator("img")).to_have_count(1)
    assert "sandbox:" not in answer.inner_text()

    # The upload reached the server intact and was attached for the code interpreter.
    [upload] = fake.calls("files.create")
    assert upload.body["file"]["data"] == XLS
    [posted] = fake.calls("messages.create")
    attachment = posted.body["attachments"][0]
    assert attachment["tools"] == [{"type": "code_interpreter"}]
    assert fake.calls("runs.create")[0].headers["authorization"] == "Bearer sk-original"

    with page.expect_download() as info:
        answer.get_by_role("button", name="Download summary.xlsx").click()
    saved = tmp_path / "summary.xlsx"
    info.value.save_as(saved)
    assert saved.read_bytes() == XLSX
    # The answer has ended (its Stop is gone) and the input is usable (the original could
    # stay disabled).
    expect(page.get_by_role("button", name="Stop")).to_have_count(0, timeout=30_000)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
