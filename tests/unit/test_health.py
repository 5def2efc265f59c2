"""`python -m assistants_ui.health`, the image's HEALTHCHECK, against real HTTP servers."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from assistants_ui.health import check, default_url


class _Server:
    """Answers every GET with (status, body)."""

    def __init__(self) -> None:
        self.reply: tuple[int, bytes] = (200, b"ok")
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = outer.reply
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/_stcore/health"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ok_only_for_200_with_body_ok(server: _Server) -> None:
    assert check(server.url) == (True, f"{server.url}: ok")
    server.reply = (200, b"<html>a proxy page</html>")
    assert not check(server.url)[0]
    server.reply = (503, b"unavailable")
    healthy, seen = check(server.url)
    assert not healthy and "HTTP 503" in seen


def test_refused_connection_is_unhealthy() -> None:
    healthy, seen = check(f"http://127.0.0.1:{closed_port()}/_stcore/health", timeout=2)
    assert not healthy and seen


def test_default_url_follows_port_and_base_path() -> None:
    assert default_url({}) == "http://127.0.0.1:8501/_stcore/health"
    env = {"PORT": "9000", "STREAMLIT_SERVER_BASE_URL_PATH": "/chat/"}
    assert default_url(env) == "http://127.0.0.1:9000/chat/_stcore/health"


def test_the_healthcheck_command_exits_0_then_1(server: _Server) -> None:
    """The exact command of the Dockerfile's HEALTHCHECK (with the PORT it reads)."""
    cmd = [sys.executable, "-m", "assistants_ui.health"]
    env = {"PORT": str(server.port), "PATH": "/usr/bin:/bin"}
    up = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    assert up.returncode == 0, up.stderr
    server.reply = (500, b"")
    down = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
    assert down.returncode == 1 and "HTTP 500" in down.stderr
