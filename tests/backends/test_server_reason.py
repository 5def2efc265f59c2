"""The server's own words: whatever the shape of a refusal's body, the sentence the
page and the log show carries the server's reason, trimmed, with no key in it.

A real loopback HTTP server answers each request with the status, content type
and body the test queued; the official SDK talks to it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest

from assistants_ui import i18n
from assistants_ui.backends.clients import REASON_LIMIT, describe_error, server_reason
from assistants_ui.profiles import Connection

KEY = "sk-live-0123456789abcdefghij"


class Refuser(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reply: tuple[int, str, bytes] = (500, "text/plain", b"")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: Refuser

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        status, content_type, body = self.server.reply
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def refuser() -> Iterator[Refuser]:
    server = Refuser()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def refusal(refuser: Refuser, status: int, body: object, content_type: str = "") -> openai.APIError:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    refuser.reply = (status, content_type or "application/json", data)
    client = openai.OpenAI(base_url=refuser.base_url, api_key=KEY, max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model="m", input="hi")
    return caught.value


def connection(refuser: Refuser) -> Connection:
    return Connection(id="srv", type="openai", base_url=refuser.base_url, api_key=KEY)


BACKGROUND = "OGX does not yet support 'stream' and 'background' together."


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (
            400,
            {"error": {"message": "Unsupported parameter: 'background'.", "type": "x"}},
            "",
            "Unsupported parameter: 'background'.",
        ),
        (400, {"detail": BACKGROUND}, "", BACKGROUND),
        (
            422,
            {"detail": [{"loc": ["body", "background"], "msg": "Extra inputs are not permitted"}]},
            "",
            "body.background: Extra inputs are not permitted",
        ),
        (400, {"error": "background is not supported"}, "", "background is not supported"),
        (400, {"message": "Model not loaded"}, "", "Model not loaded"),
        (400, b"  plain words\n from a proxy  ", "text/plain", "plain words from a proxy"),
    ],
    ids=["openai", "fastapi-detail", "fastapi-validation", "error-string", "message", "text"],
)
def test_the_reason_is_found_in_every_body_shape(
    refuser: Refuser, status: int, body: object, content_type: str, expected: str
) -> None:
    exc = refusal(refuser, status, body, content_type)
    assert isinstance(exc, openai.APIStatusError)
    conn = connection(refuser)
    assert server_reason(exc, conn) == expected
    failed = describe_error(exc, conn)
    assert expected.rstrip(".") in failed.reason
    assert refuser.base_url in failed.reason


def test_no_sentence_names_the_base_urls_user_and_password(refuser: Refuser) -> None:
    from assistants_ui.backends.assistants.backend import AssistantsBackend
    from assistants_ui.backends.clients import stream_broke
    from assistants_ui.profiles import McpServerSettings, Profile

    with_user = refuser.base_url.replace("http://", "http://user:s3cret-pw@")
    conn = Connection(id="srv", type="openai", base_url=with_user, api_key=KEY)
    exc = refusal(refuser, 401, {"error": {"message": "bad key"}})
    sentences = [
        describe_error(exc, conn).reason,
        describe_error(openai.APIConnectionError(request=exc.request), conn).reason,
        stream_broke(conn, " (RemoteProtocolError: peer closed)").reason,
        conn.describe(),
        McpServerSettings(name="docs", url="https://bob:pw-mcp@mcp.example/mcp").describe(),
        AssistantsBackend(
            Profile(
                id="a", title="A", backend="assistants", connection="srv", assistant_id="asst_1"
            ),
            conn,
        ).where,
    ]
    for sentence in sentences:
        assert "s3cret-pw" not in sentence and "user:" not in sentence, sentence
        assert "pw-mcp" not in sentence and "bob" not in sentence, sentence
    assert all(refuser.base_url in s for s in sentences[:3]), sentences
    assert sentences[3] == f"openai {refuser.base_url}"
    assert sentences[4] == "MCP server 'docs' (https://mcp.example/mcp)"
    assert sentences[5] == refuser.base_url
    azure = Connection(id="az", type="azure", base_url="https://u:pw-az@x.openai.azure.com")
    assert azure.describe() == "azure https://x.openai.azure.com"


def test_a_server_error_says_what_the_server_said(refuser: Refuser) -> None:
    exc = refusal(refuser, 500, {"detail": "Internal error: content must be a string"})
    failed = describe_error(exc, connection(refuser))
    assert "(500)" in failed.reason and "content must be a string" in failed.reason
    assert failed.retryable


def test_a_long_reason_is_trimmed_to_one_line(refuser: Refuser) -> None:
    words = "\n".join(f"line {i} of a traceback" for i in range(200))
    exc = refusal(refuser, 400, words.encode(), "text/plain")
    assert isinstance(exc, openai.APIStatusError)
    reason = server_reason(exc, connection(refuser))
    assert len(reason) == REASON_LIMIT and reason.endswith("…")
    assert "\n" not in reason and reason.startswith("line 0 of a traceback line 1")


def test_no_key_or_token_reaches_the_reason(refuser: Refuser) -> None:
    body = {
        "detail": f"key {KEY} refused; upstream said Bearer abcdefghijklmnop; "
        "other sk-proj-ZYXWVUTSRQ9876543210 too"
    }
    exc = refusal(refuser, 403, body)
    failed = describe_error(exc, connection(refuser))
    assert KEY not in failed.reason and "abcdefghijklmnop" not in failed.reason
    assert "ZYXWVUTSRQ9876543210" not in failed.reason
    assert "refused; upstream said Bearer ***" in failed.reason


def test_an_empty_body_gives_the_status_alone(refuser: Refuser) -> None:
    exc = refusal(refuser, 400, b"", "text/plain")
    failed = describe_error(exc, connection(refuser))
    assert failed.reason == f"The server at {refuser.base_url} rejected the request (400)."


def test_failures_are_worded_in_the_pages_language_quoting_the_server(refuser: Refuser) -> None:
    """The app's sentence is translated; the endpoint, the setting and the server's words
    are quoted as they are."""
    refused = refusal(refuser, 401, {"error": {"message": "Incorrect API key provided."}})
    with i18n.use("ja"):
        ja = describe_error(refused, connection(refuser)).reason
    with i18n.use("zh"):
        zh = describe_error(refused, connection(refuser)).reason
    en = describe_error(refused, connection(refuser)).reason
    where = refuser.base_url
    assert en == (
        f"The server at {where} refused the API key (401): Incorrect API key provided. "
        "Check OPENAI_API_KEY."
    )
    assert ja == (
        f"サーバー（{where}）が API キーを拒否しました（401）：Incorrect API key provided。"
        "OPENAI_API_KEY を確認してください。"
    )
    assert zh == (
        f"服务器（{where}）拒绝了 API 密钥（401）：Incorrect API key provided。"
        "请检查 OPENAI_API_KEY。"
    )
