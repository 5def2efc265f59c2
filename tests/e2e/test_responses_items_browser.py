"""End to end in Chromium: the Responses items of issue 13 on the page.

A generated image shows its partial image while it is made, then the final one
(downloadable, byte for byte); file-search passages sit behind an expander; a
hosted MCP server's call is shown with its server; an output item the app does
not know is one line naming it; and a call waiting for approval gets Approve /
Deny buttons, whose click sends the approval and lets the answer go on.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from browser_support import StartApp, send
from fakes.responses_routes import ResponseScript, computer_call
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

TIMEOUT = 60_000


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="PNG")
    return out.getvalue()


def config(tmp_path: Path, fake: FakeOpenAI) -> None:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"
api_key = "sk-test"

[[assistants]]
id = "maker"
title = "Maker"
backend = "responses"
connection = "fake"
model = "gpt-test"
tools = ["file_search", "image_generation"]
vector_store_ids = ["vs_docs"]

[[assistants.hosted_mcp]]
server_label = "docs"
server_url = "https://mcp.example.com/mcp"
headers_env = {{ Authorization = "DOCS_MCP_AUTH" }}
require_approval = "always"
""")


def test_partial_then_final_image_passages_mcp_unknown_item_and_approve(
    page: Page, start_app: StartApp, fake: FakeOpenAI, tmp_path: Path
) -> None:
    final = png("navy")
    first = (
        ResponseScript()
        .file_search(
            ["lighthouse"],
            [{"file_id": "file-a", "filename": "guide.pdf", "score": 0.8, "text": "Keep it red."}],
        )
        .mcp_list_tools("docs", [("search_docs", "Search the docs")])
        .mcp_call("docs", "search_docs", '{"query": "lighthouse"}', output="2 pages")
        .item(computer_call())
        .image_generation([png("gray"), png("silver")], final)
        .text(["Here is your lighthouse."])
    )
    paused = first.stream(
        pause_after=first.index_of("response.image_generation_call.partial_image", 1) + 1
    )
    fake.expect("responses.create", paused)
    config(tmp_path, fake)
    url = start_app({"DOCS_MCP_AUTH": "Bearer docs-token"})
    page.goto(url)
    send(page, "Draw a lighthouse")
    answer = page.get_by_role("group", name="Chat message from assistant").last

    # While the image is made: its partial image, not yet the final one.
    expect(answer.get_by_text("Generating… (a partial image)")).to_be_visible(timeout=TIMEOUT)
    expect(answer.locator("img")).to_have_count(1)
    expect(answer.get_by_role("button", name="Download image-1.png")).to_have_count(0)
    paused.resume.set()

    expect(answer).to_contain_text("Here is your lighthouse.", timeout=TIMEOUT)
    expect(answer.get_by_text("Generating… (a partial image)")).to_have_count(0)
    expect(answer.locator("img")).to_have_count(1)
    with page.expect_download() as info:
        answer.get_by_role("button", name="Download image-1.png").click()
    saved = tmp_path / "image.png"
    info.value.save_as(saved)
    assert saved.read_bytes() == final

    # The MCP call with its server, the unknown item as one line, passages behind an expander.
    expect(answer.get_by_text("MCP tool search_docs · docs")).to_be_visible()
    expect(
        answer.get_by_text("The server sent an output item computer_call, which this app")
    ).to_be_visible()
    expect(answer.get_by_text("Keep it red.")).not_to_be_visible()
    answer.get_by_text("Passages found (1)").click()
    expect(answer.get_by_text("Keep it red.")).to_be_visible()
    tools = {t["type"]: t for t in fake.calls("responses.create")[0].body["tools"]}
    assert tools["mcp"]["headers"] == {"Authorization": "Bearer docs-token"}
    assert tools["image_generation"] == {"type": "image_generation", "partial_images": 2}

    # A call that needs approval: Approve sends it, and the answer goes on.
    fake.expect(
        "responses.create",
        ResponseScript()
        .mcp_approval_request("docs", "delete_page", '{"page": 7}', request_id="mcpr_e2e")
        .stream(),
        ResponseScript()
        .mcp_call("docs", "delete_page", '{"page": 7}', output="deleted", approval_request_id="x")
        .text(["Page 7 is gone."])
        .stream(),
    )
    send(page, "Delete page 7")
    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer.get_by_text("Approval needed:")).to_be_visible(timeout=TIMEOUT)
    approve = page.get_by_role("button", name="Approve")
    expect(approve).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("or just write your next message")).to_be_visible()
    approve.click()
    expect(page.get_by_text("Page 7 is gone.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    user = page.get_by_role("group", name="Chat message from user").last
    expect(user).to_contain_text("Approved: delete_page on the MCP server docs")
    sent = fake.calls("responses.create")[-1].body
    assert sent["input"] == [
        {"type": "mcp_approval_response", "approval_request_id": "mcpr_e2e", "approve": True}
    ]

    # From storage after a reload: the decision and the image are still there.
    page.reload()
    # (The page may rerun after it opens: every check waits for its state.)
    expect(page.get_by_text("Page 7 is gone.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("✅ Approved.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Download image-1.png")).to_be_visible(timeout=TIMEOUT)
