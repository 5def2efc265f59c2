"""End to end in Chromium: upload a CSV, see code, chart and a download; bytes exact."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from browser_support import StartApp, send
from fakes.responses_routes import ResponseScript, add_container_file, container_file_citation
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

CSV = b"region,sales\nnorth,10\nsouth,32\neast,7\n"
# An XLSX is a zip: binary bytes that a text round trip would corrupt.
XLSX = b"PK\x03\x04\x14\x00\x06\x00" + bytes(reversed(range(256))) * 16 + b"\r\n\x00\x1a"


def chart_png() -> bytes:
    image = Image.new("RGB", (120, 80), "white")
    for x in range(10, 110):
        for y in range(80 - (x // 2), 80):
            image.putpixel((x, y), (31, 119, 180))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def attach(page: Page, name: str, data: bytes, mime: str) -> None:
    page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    # Its chip in the box: sent before it shows, a message went without the file.
    chip = page.get_by_test_id("stChatInput").get_by_text(name.rsplit(" ", 1)[-1])
    expect(chip.first).to_be_visible(timeout=30_000)


def test_csv_upload_code_chart_and_exact_download(
    page: Page, start_app: StartApp, fake: FakeOpenAI, tmp_path: Path
) -> None:
    png = chart_png()
    xlsx_id = add_container_file(fake, "cntr_e2e", "summary.xlsx", XLSX)
    link = "[summary.xlsx](sandbox:/mnt/data/summary.xlsx)"
    script = (
        ResponseScript()
        .code_interpreter(
            ["import pandas as pd\n", "df = pd.read_csv('sales.csv')\n", "df.plot.bar()"],
            logs="region  sales\nnorth 10\n",
            images=["data:image/png;base64," + base64.b64encode(png).decode()],
            container_id="cntr_e2e",
        )
        .text(
            ["South sold most. Download ", link, "."],
            annotations=[
                container_file_citation("cntr_e2e", xlsx_id, "summary.xlsx", 26, 26 + len(link))
            ],
        )
    )
    fake.expect("responses.create", script.stream())
    url = start_app(
        {
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_API": "responses",
            "OPENAI_MODEL": "gpt-test",
        }
    )
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=30_000)
    attach(page, "sales.csv", CSV, "text/csv")
    send(page, "Chart the sales by region")

    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer).to_contain_text("South sold most", timeout=30_000)
    expect(answer.get_by_text("df = pd.read_csv('sales.csv')")).to_be_visible()
    expect(answer.get_by_text("north 10")).to_be_visible()
    expect(answer.locator("img")).to_have_count(1)
    assert "sandbox:" not in answer.inner_text()

    # The CSV reached the server byte for byte and went to the code interpreter.
    [upload] = fake.calls("files.create")
    assert upload.body["file"]["data"] == CSV
    tools = fake.calls("responses.create")[0].body["tools"]
    ci = next(t for t in tools if t["type"] == "code_interpreter")
    assert ci["container"]["file_ids"]

    button = answer.get_by_role("button", name="Download summary.xlsx")
    with page.expect_download() as info:
        button.click()
    saved = tmp_path / "downloaded.xlsx"
    info.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(XLSX).hexdigest()

    # A reload brings the conversation back from storage, downloads included.
    page.reload()
    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer).to_contain_text("South sold most", timeout=30_000)
    with page.expect_download() as again:
        answer.get_by_role("button", name="Download summary.xlsx").click()
    saved2 = tmp_path / "again.xlsx"
    again.value.save_as(saved2)
    assert saved2.read_bytes() == XLSX


def test_a_refused_files_name_is_shown_as_text_not_as_a_link(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    """A file's name is its sender's to choose (a file name cannot hold `/`, but
    `https:host` is read as `https://host`): refused (over MAX_UPLOAD_MB, which the
    browser's own check rounds up to 1 MB), it is named in the error, as text."""
    url = start_app({"OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m", "MAX_UPLOAD_MB": "0.5"})
    name = "[Re-login here](https:collector.example) notes.txt"
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=30_000)
    attach(page, name, b"x" * 700_000, "text/plain")
    send(page, "Read this")
    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer).to_contain_text("over this assistant's", timeout=30_000)
    expect(answer).to_contain_text(name)
    assert page.locator("a[href*='collector.example']").count() == 0
