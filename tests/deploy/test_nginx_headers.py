"""The nginx template's security headers, with the app behind Debian's nginx in Chromium.

- nginx and the app server (web/headers.py) send the same headers.
- Content-Security-Policy: the page works under it, through nginx and from the app
  directly (no violation while a message with a file goes out and an answer with a
  chart comes back), and it is enforced: an image from another host, planted in the
  page by script, is refused and reported.
- frame-ancestors 'self' / X-Frame-Options: another origin cannot frame the page.
- New websockets (each one a Streamlit session) are rate-limited per address.
"""

from __future__ import annotations

import base64
import shutil
import socket
import tempfile
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy_stack import TEMPLATE, AppProcess, Nginx
from playwright.sync_api import Browser, Page, expect

from assistants_ui.web.headers import HEADERS, POLICY
from browser_support import send
from fakes.responses_routes import ResponseScript
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

# A 1x1 PNG: the code interpreter's chart, served back by the app under /media/.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

# Collects every violation the page reports, from before its first script runs.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
    window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@dataclass
class Proxied:
    nginx: Nginx
    app: AppProcess
    fake: FakeOpenAI


@pytest.fixture(scope="module")
def proxied() -> Iterator[Proxied]:
    base = Path(tempfile.mkdtemp(prefix="assistants-ui-headers-"))
    fake = FakeOpenAI().start()
    app: AppProcess | None = None
    nginx: Nginx | None = None
    try:
        env = {
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_API": "responses",
            "OPENAI_MODEL": "gpt-test",
        }
        app = AppProcess(base / "app", env).launch().wait_healthy()
        nginx = Nginx(base / "nginx", [f"127.0.0.1:{app.port}"]).start()
        yield Proxied(nginx, app, fake)
    finally:
        if nginx is not None:
            nginx.cleanup()
        if app is not None:
            app.stop()
        fake.stop()
        shutil.rmtree(base, ignore_errors=True)
    assert not fake.violations, "\n".join(fake.violations)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.add_init_script(WATCH_CSP)
    yield context.new_page()
    context.close()


def test_nginx_and_the_app_server_send_the_same_headers(proxied: Proxied) -> None:
    template = TEMPLATE.read_text()
    assert f'default "{POLICY}";' in template
    for url in (proxied.nginx.url, proxied.app.url):
        for path in ("/", "/_stcore/health"):
            with urllib.request.urlopen(url + path, timeout=10) as answer:
                for name, value in HEADERS.items():
                    assert answer.headers.get_all(name) == [value], (url, path, name)


@pytest.mark.parametrize("through", ["nginx", "app"])
def test_the_page_works_under_the_policy_and_the_policy_is_enforced(
    proxied: Proxied, page: Page, through: str
) -> None:
    script = (
        ResponseScript()
        .code_interpreter(
            ["plot()"], images=["data:image/png;base64," + base64.b64encode(PNG).decode()]
        )
        .text(["Here is the chart."])
    )
    proxied.fake.expect("responses.create", script.stream())
    response = page.goto(proxied.nginx.url if through == "nginx" else proxied.app.url)
    assert response is not None
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "img-src 'self' data: blob:" in policy
    assert "frame-ancestors 'self'" in policy
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["x-content-type-options"] == "nosniff"

    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=30_000)
    page.locator("[data-testid='stChatInput'] input[type='file']").set_input_files(
        files=[{"name": "data.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"}]
    )
    send(page, "Chart it")
    answer = page.get_by_role("group", name="Chat message from assistant").last
    expect(answer).to_contain_text("Here is the chart.", timeout=30_000)
    chart = answer.locator("img")
    expect(chart).to_have_count(1)
    # It loads (the element is painted before its bytes arrive: wait, then check the size).
    chart.element_handle().wait_for_element_state("visible")
    page.wait_for_function("img => img.complete", arg=chart.element_handle(), timeout=30_000)
    assert chart.evaluate("img => img.naturalWidth") == 1
    assert proxied.fake.calls("files.create"), "the upload did not reach the server"
    assert page.evaluate("window.__csp") == []

    # Enforced: an image from elsewhere, planted by script, is refused and reported.
    page.evaluate(
        "() => { const i = new Image(); i.src = 'http://collector.example/x.png';"
        " document.body.appendChild(i); }"
    )
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__csp") == ["img-src http://collector.example/x.png"]


def test_another_origin_cannot_frame_the_page(proxied: Proxied, page: Page) -> None:
    # Attack: a page elsewhere frames the app (clickjacking). Chromium refuses to render
    # it and puts its error page in the frame instead.
    with page.expect_response(f"{proxied.nginx.url}/") as framed:
        page.set_content(f'<iframe id="f" src="{proxied.nginx.url}/"></iframe>')
    assert framed.value.status == 200  # nginx answered; the browser refused to show it
    page.frames[1].wait_for_url("chrome-error://chromewebdata/", timeout=30_000)
    assert page.frame_locator("#f").get_by_test_id("stApp").count() == 0


def _handshake(port: int, headers: str = "") -> str:
    """One websocket handshake to Streamlit's stream path; the response's head."""
    request = (
        "GET /_stcore/stream HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: streamlit\r\n{headers}\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        return sock.recv(1024).decode(errors="replace")


def _open_websocket(port: int) -> int:
    """One websocket handshake; the HTTP status nginx answers."""
    return int(_handshake(port).split(" ", 2)[1])


@pytest.mark.parametrize("through", ["app", "nginx"])
def test_the_websocket_is_compressed_when_the_browser_offers_it(
    proxied: Proxied, through: str
) -> None:
    # What Chromium offers. Answers then cross the network deflated: about a third of
    # their bytes (docs/benchmarks.md, "Streaming an answer into the page"). nginx
    # passes the offer and the answer through untouched.
    port = proxied.app.port if through == "app" else proxied.nginx.port
    offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    head = _handshake(port, offer)
    assert head.startswith("HTTP/1.1 101"), head
    accepted = [
        line for line in head.split("\r\n") if line.lower().startswith("sec-websocket-extensions:")
    ]
    assert accepted and "permessage-deflate" in accepted[0], head


def test_new_sessions_are_rate_limited_per_address(proxied: Proxied, tmp_path: Path) -> None:
    # Attack: one address opening sessions as fast as it can (each is memory on the
    # server). The first 60 (the burst) are let through, then nginx answers 429.
    # Its own nginx: a fresh count, that the other tests' page loads do not share.
    nginx = Nginx(tmp_path / "nginx", [f"127.0.0.1:{proxied.app.port}"]).start()
    try:
        statuses = [_open_websocket(nginx.port) for _ in range(100)]
    finally:
        nginx.cleanup()
    assert statuses[:50] == [101] * 50, statuses
    assert 429 in statuses[60:], statuses
    assert set(statuses) <= {101, 429}


def _put(port: int, path: str, size: int) -> int:
    """A PUT of `size` bytes that asks first (`Expect: 100-continue`): the status that
    answers it, the body sent only if the server wants it."""
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {size}\r\n"
        "Content-Type: application/octet-stream\r\nExpect: 100-continue\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(4096).decode(errors="replace")
        if answer.startswith("HTTP/1.1 100"):
            sock.sendall(b"x" * size)
            answer = sock.recv(4096).decode(errors="replace")
    return int(answer.split(" ", 2)[1])


def test_uploads_are_size_and_rate_limited_per_address(proxied: Proxied, tmp_path: Path) -> None:
    # Attack: one address sending files to the upload path, large or many (each one is
    # held in an app process's memory). nginx answers 413 to a file over 26 MB before
    # reading it, and 429 beyond 30 uploads in a burst; the rest reach the app (which
    # refuses a session nobody is signed in to: 403, or 400 for no such session).
    nginx = Nginx(tmp_path / "nginx", [f"127.0.0.1:{proxied.app.port}"]).start()
    try:
        path = "/_stcore/upload_file/made-up-session/made-up-file"
        too_large = _put(nginx.port, path, 27 * 1024 * 1024)
        statuses = [_put(nginx.port, path, 1000) for _ in range(45)]
    finally:
        nginx.cleanup()
    assert too_large == 413
    assert 429 not in statuses[:25], statuses
    assert 429 in statuses[30:], statuses
    assert set(statuses) <= {400, 403, 429}, statuses
