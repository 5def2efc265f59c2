"""Every kind of answer part, painted by the page from the Responses fake (AppTest)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from assistants_ui.web import login_view
from fakes.responses_routes import (
    ResponseScript,
    add_container_file,
    container_file_citation,
    url_citation,
)
from fakes.server import FakeOpenAI

APP = str(Path(__file__).parents[2] / "streamlit_app.py")
XLSX = b"PK\x03\x04" + bytes(range(256)) * 2


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (0, 90, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def page(fake: FakeOpenAI, tmp_path: Path) -> AppTest:
    (tmp_path / "assistants.toml").write_text(f"""
[connections.fake]
type = "openai"
base_url = "{fake.base_url}"
api_key_env = "FAKE_KEY"

[[assistants]]
id = "analyst"
title = "Analyst"
backend = "responses"
connection = "fake"
model = "gpt-test"
tools = ["code_interpreter", "web_search"]

[assistants.reasoning]
summary = "auto"
""")
    return AppTest.from_file(APP, default_timeout=30).run()


def test_code_chart_download_citations_and_reasoning(page: AppTest, fake: FakeOpenAI) -> None:
    xlsx_id = add_container_file(fake, "cntr_p", "out.xlsx", XLSX)
    link = "[out.xlsx](sandbox:/mnt/data/out.xlsx)"
    script = (
        ResponseScript()
        .reasoning([["Thinking about ", "sales."]])
        .web_search("sales 2026", ["https://example.com/sales"])
        .code_interpreter(
            ["x = 1\n", "print(x)"],
            logs="1\n",
            images=["data:image/png;base64," + base64.b64encode(png()).decode()],
            container_id="cntr_p",
        )
        .text(
            ["Sales rose (see the docs). Get ", link, "."],
            annotations=[
                url_citation("https://example.com/sales", "Sales report", 16, 24),
                container_file_citation("cntr_p", xlsx_id, "out.xlsx", 31, 31 + len(link)),
            ],
        )
    )
    fake.expect("responses.create", script.stream())
    page.chat_input[0].set_value("How did sales do?").run()
    assert not page.exception
    assert not page.error
    answer = page.chat_message[-1]
    shown = [m.value for m in answer.markdown]
    # Painted through core.safe_markdown.inert: the marker's brackets come escaped.
    assert any("Sales rose (see the docs \\[1\\]). Get **out.xlsx**." in v for v in shown), shown
    assert any("[Sales report](<https://example.com/sales>)" in c.value for c in answer.caption)
    assert [c.value.strip() for c in answer.code] == ["x = 1\nprint(x)", "1"]

    def kinds(node):
        out = [getattr(node, "type", "")]
        for child in getattr(node, "children", {}).values():
            out += kinds(child)
        return out

    assert kinds(answer).count("image") == 1, kinds(answer)
    downloads = [b.proto.label for b in answer.get("download_button")]
    assert any(label.startswith("Download out\\.xlsx") for label in downloads), downloads
    expanders = [e.label for e in answer.expander]
    assert "Reasoning" in expanders
    # The ended tool calls (web search, code) are expanders too: a status only runs.
    assert not answer.status
    assert any("Web search" in s for s in expanders) and any(
        "Code interpreter" in s for s in expanders
    )
    reasoning = answer.expander[expanders.index("Reasoning")]
    assert "Thinking about sales." in [m.value for m in reasoning.markdown]


HOSTILE = "![x](https://collector.example/x.png) <img src=https://collector.example/y.png>"


def test_names_arguments_labels_and_passages_from_the_server_stay_text(
    page: AppTest, fake: FakeOpenAI
) -> None:
    """What a server or an MCP server writes in the new items is shown, never rendered."""
    from markdown_it import MarkdownIt

    hostile_label = "[docs](https://collector.example/l)"
    script = (
        ResponseScript()
        .file_search(["q"], [{"file_id": "f", "filename": HOSTILE, "score": 0.5, "text": HOSTILE}])
        .mcp_list_tools(hostile_label, [(HOSTILE, HOSTILE)])
        .mcp_call(hostile_label, HOSTILE, HOSTILE, output=HOSTILE)
        .custom_tool_call(HOSTILE, HOSTILE)
        .item(
            {
                "type": "mcp_approval_request",
                "id": "mcpr_h",
                "server_label": hostile_label,
                "name": HOSTILE,
                "arguments": HOSTILE,
            }
        )
    )
    fake.expect("responses.create", script.stream())
    page.chat_input[0].set_value("Go").run()
    assert not page.exception
    answer = page.chat_message[-1]
    painted = [
        *(m.value for m in answer.markdown),
        *(c.value for c in answer.caption),
        *(s.label for s in answer.status),
        *(e.label for e in answer.expander),
        *(b.label for b in page.button),
    ]
    assert any("collector" in text for text in painted), painted
    markdown = MarkdownIt("commonmark")
    for text in painted:
        html = markdown.render(text)
        assert "<img" not in html and "<a " not in html, (text, html)
    # Tool output, arguments and passages go out as code or plain text, as written.
    literal = [c.value for c in answer.code] + [t.value for t in answer.text]
    assert literal.count(HOSTILE) >= 4, literal
    assert [b.label for b in page.button if b.label in ("Approve", "Deny")] == ["Approve", "Deny"]


NOT_A_PNG = b"\x89PNG\r\n\x1a\n" + b"this is not an image at all" * 10


def test_an_image_pillow_cannot_read_is_a_download_live_from_history_and_shared(
    page: AppTest, fake: FakeOpenAI
) -> None:
    """The attack: a server sends bytes that start as a PNG does and are not one (a code
    interpreter's chart here; image generation and the Assistants API the same way).
    Painting it raised in Pillow and broke the conversation, and every share of it,
    each time they opened. Now it is kept as a file, offered as a download."""
    url = "data:image/png;base64," + base64.b64encode(NOT_A_PNG).decode()
    script = ResponseScript().code_interpreter(["plot()"], images=[url]).text(["Done."])
    fake.expect("responses.create", script.stream())
    page.chat_input[0].set_value("Chart it").run()

    def offered(at: AppTest) -> None:
        assert not at.exception, at.exception
        assert not [e.value for e in at.error if "Something went wrong" in e.value]
        assert "Done." in [m.value for m in at.chat_message[-1].markdown]
        downloads = [d for d in at.get("download_button") if "Download" in d.label]
        assert len(downloads) == 1 and "could not be shown" in " ".join(
            c.value for c in at.chat_message[-1].caption
        )

    offered(page)  # live
    page.run()  # the next click repaints it from what the page holds
    offered(page)
    reopened = AppTest.from_file(APP, default_timeout=30)  # the same browser, from history
    reopened.query_params["c"] = str(page.query_params["c"])
    for key in (login_view._IDENTITY_KEY, login_view._METHOD_KEY):
        reopened.session_state[key] = page.session_state[key]
    offered(reopened.run())
    page.button(key="share").click().run()
    (link,) = [c.value for c in page.main.code if "?share=" in c.value]
    shared = AppTest.from_file(APP, default_timeout=30)  # another browser, through the link
    shared.query_params["share"] = link.rsplit("?share=", 1)[1]
    offered(shared.run())


def test_which_images_the_page_paints() -> None:
    from assistants_ui.web.render import readable_image

    whole = png()
    huge = io.BytesIO()
    Image.new("1", (5000, 4000)).save(huge, format="PNG")  # 20 MP, ~3 kB on the wire
    assert readable_image(whole)
    assert not readable_image(NOT_A_PNG)
    assert not readable_image(whole[: len(whole) // 2])  # cut off
    assert not readable_image(huge.getvalue())  # over MAX_IMAGE_PIXELS: a file
    assert not readable_image(b"")


# -- streams that bend the spec (a gateway bridging Responses onto Chat Completions) ----


def test_a_bridged_stream_shows_its_text_once(page: AppTest, fake: FakeOpenAI) -> None:
    """Deltas and three done events, each with an item id of its own, all at output_index 0."""
    script = ResponseScript().bridged(
        ["The answer ", "is ", "42."], final="The answer is 42, truly."
    )
    fake.expect("responses.create", script.stream())
    page.chat_input[0].set_value("Well?").run()
    assert not page.exception
    shown = [m.value for m in page.chat_message[-1].markdown]
    assert shown == ["The answer is 42, truly."], shown


def _paint_then_replace(first: str, final: str, kind: str = "text") -> None:
    import streamlit as st

    from assistants_ui.core.transcript import Message, RefusalPart, TextPart
    from assistants_ui.web.render import MessageView

    part = RefusalPart if kind == "refusal" else TextPart
    message = Message("assistant", [part(first)], status="streaming")
    view = MessageView(st.container(), key="answer")
    view.update(message, version=1)
    message.parts[0] = part(final)  # what `ev.Replace` leaves
    message.status = "complete"
    view.update(message, version=2, final=True)


@pytest.mark.parametrize(
    "first",
    [
        "Helo wrld.\n\nA second block, still grow",  # changed inside a finished block
        "Hello, world.\n\nA second block.\n\nHello, world.\n\nA second block.",  # shrinks
    ],
    ids=["changed", "shorter"],
)
def test_text_replaced_after_it_was_painted_is_painted_anew(first: str) -> None:
    final = "Hello, world.\n\nA second block."
    at = AppTest.from_function(_paint_then_replace, args=(first, final)).run()
    assert not at.exception
    shown = [m.value for m in at.markdown]
    assert shown == [final], shown


def _sources_at_the_end() -> None:
    import streamlit as st

    from assistants_ui.core import events as ev
    from assistants_ui.core.transcript import Message, TextPart
    from assistants_ui.web.render import MessageView

    text = "Milk.\n\nEggs and bread, as the notes say"
    message = Message("assistant", [TextPart(text)], status="streaming")
    view = MessageView(st.container(), key="answer")
    view.update(message, version=1)
    done = text + "."
    message.parts[0] = TextPart(done, [ev.Citation("file", "notes.txt", start=0, end=len(done))])
    message.status = "complete"
    view.update(message, version=2, final=True)


def test_a_text_painted_anew_for_its_sources_replaces_what_showed_it_in_place() -> None:
    """The sources of a text came with its end: the text is painted anew with their
    markers, into the elements that showed it. Emptied first and painted after them,
    the answer was gone from the browser for a moment (a blink at its end)."""
    at = AppTest.from_function(_sources_at_the_end).run()
    assert not at.exception
    blocks = at.main.children[0].children[0].children[0]  # view, text part, its blocks
    first = blocks.children[0]
    assert first.type == "markdown", [child.type for child in blocks.children.values()]
    assert first.value.startswith("Milk.\n\nEggs and bread, as the notes say. \\[1\\]")
    # The second element showed the growing block: it shows nothing now.
    assert [m.value for m in at.markdown] == [first.value]
    assert [c.value for c in at.caption] == ["Sources\n\n1. notes.txt"]


def test_a_refusal_replaced_by_one_as_long_is_painted_anew() -> None:
    args = ("No, I won't.", "No. I can't.", "refusal")
    at = AppTest.from_function(_paint_then_replace, args=args).run()
    assert [w.value for w in at.warning] == ["The assistant declined to answer: No. I can't."]


def _attachments() -> None:
    from assistants_ui.core.transcript import Attachment, Message
    from assistants_ui.web.render import render_user_message

    files = [
        Attachment("report.pdf", "application/pdf", b"%" * 2_100_000, route="file_search"),
        Attachment("notes.txt", "text/plain", b"n" * 300, route="inline"),
        Attachment("chart.png", "image/png", b"p" * 10, route="image+code_interpreter"),
        Attachment("paper.pdf", "application/pdf", b"p" * 10, route="file"),
    ]
    render_user_message(Message.user("See these", files))


def test_attachments_say_in_plain_words_where_they_went() -> None:
    at = AppTest.from_function(_attachments).run()
    assert not at.exception
    assert [c.value for c in at.caption] == [
        "📎 report\\.pdf (2.0 MB) · searchable by the assistant",
        "📎 notes\\.txt (300 B) · sent with the message",
        "📎 chart\\.png (10 B) · sent as an image · the assistant can analyse it with code",
        "📎 paper\\.pdf (10 B) · sent with the message",
    ]


def _failed_answer(hidden: bool) -> None:
    import streamlit as st

    from assistants_ui.core.failures import failure
    from assistants_ui.core.transcript import ErrorPart, Message
    from assistants_ui.web import render

    render.hide_servers(["http://u:pw@llm.example/v1", "http://llm.example/v1"] if hidden else [])
    sentences = [
        failure("connection", at=" at http://llm.example/v1", cause=" (ConnectError: refused)"),
        failure("stream_cut", why="the connection to http://u:pw@llm.example/v1 broke"),
    ]
    parts = [ErrorPart(f.reason, f.retryable, f.code) for f in sentences]
    render.MessageView(st.container(), key="a").update(
        Message("assistant", parts, status="failed"), final=True
    )


def test_a_reader_who_is_not_an_admin_is_not_told_the_servers_address() -> None:
    hidden = AppTest.from_function(_failed_answer, args=(True,)).run()
    assert not hidden.exception
    said = [e.value for e in hidden.error]
    assert said[0].startswith("Cannot reach the server (ConnectError: refused)."), said
    assert "the connection to the server broke" in said[1], said
    assert not any("llm.example" in s for s in said), said
    shown = AppTest.from_function(_failed_answer, args=(False,)).run()
    assert "Cannot reach the server at http://llm.example/v1 (" in shown.error[0].value
    # A sentence saved before URLs lost their user and password: an admin reads it without.
    assert "the connection to http://llm.example/v1 broke" in shown.error[1].value
