"""Uploads before login (issue 22, item 5).

The attack: from the login page, with no account, an HTTP client PUTs files to
Streamlit's upload endpoint, `/_stcore/upload_file/<session>/<file id>`, under
its own session's id (sent to it on the websocket) and file ids it makes up.
Streamlit accepted each (204) and kept its bytes in memory for that session,
after the websocket closed too (a session that expires from the reconnect store
is never shut down, so its files stay): six 20 MB uploads grew the process by
about 120 MB. `MAX_UPLOAD_MB` was checked only once the page read the file.

The app runs as `make run` starts it; memory is read from /proc (the process's
resident set) and from Streamlit's own count of the bytes its upload manager
holds (`/_stcore/metrics`).
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from test_session_binding import log_in, start

from fakes.server import FakeOpenAI
from streamlit_client import PageSession, run_isolated

TIMEOUT = 60
MB = 1024 * 1024
XSRF = "_streamlit_xsrf"


@pytest.fixture
def app(
    tmp_path: Path, fake: FakeOpenAI, request: pytest.FixtureRequest
) -> Iterator[tuple[str, int]]:
    """The app with a password login; the test's parameter: {"env": more variables,
    "args": Streamlit options}."""
    wanted = getattr(request, "param", {})
    env = {"ENABLED_FILE_UPLOAD_MESSAGE": "Upload a file", **wanted.get("env", {})}
    yield from start(tmp_path, fake, env, password=True, args=wanted.get("args", []))


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1)) / 1024


def upload_bytes_held(url: str) -> int:
    """What Streamlit's upload manager holds, by its own count (0 when it holds nothing).
    Streamlit computes it at most every 5 s: `held_becomes` waits for a change."""
    with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=10) as answer:
        text = answer.read().decode()
    held = re.findall(r'cache_memory_bytes\{cache_type="UploadedFileManager"[^}]*\} (\d+)', text)
    return sum(int(n) for n in held)


def held_becomes(url: str, wanted: int, *, every: Callable[[], None] = lambda: None) -> None:
    """Until the upload manager holds `wanted` bytes (calling `every` between looks)."""
    deadline = time.monotonic() + 20  # four of Streamlit's 5 s windows
    while (held := upload_bytes_held(url)) != wanted:
        assert time.monotonic() < deadline, f"still {held} bytes held, not {wanted}"
        every()


def xsrf_cookie(url: str) -> str:
    """The XSRF cookie the app gives any visitor (its health check sets it)."""
    with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as answer:
        for header in answer.headers.get_all("Set-Cookie") or []:
            if header.startswith(f"{XSRF}="):
                return header.split(";")[0].split("=", 1)[1]
    raise AssertionError("the page set no XSRF cookie")


def put_file(
    url: str, session_id: str, file_id: str, size: int, xsrf: str, *, expect: bool = False
) -> str:
    """PUT one file of `size` bytes as the page's uploader does (multipart, XSRF header
    and cookie); the HTTP status, or what broke the connection (the server answered
    and closed before the body was sent). `expect`: ask first (`Expect: 100-continue`)
    and send the body only if the server wants it, so that its answer can be read."""
    boundary = "----attack"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + b"A" * size + f"\r\n--{boundary}--\r\n".encode()
    parts = urlsplit(url)
    request = (
        f"PUT /_stcore/upload_file/{session_id}/{file_id} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nContent-Length: {len(body)}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"X-Xsrftoken: {xsrf}\r\nCookie: {XSRF}={xsrf}\r\n"
        + ("Expect: 100-continue\r\n" if expect else "")
        + "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        try:
            sock.sendall(request)
            if expect:
                first = sock.recv(4096).decode(errors="replace")
                if not first.startswith("HTTP/1.1 100"):
                    return first.split(" ", 2)[1]
            sock.sendall(body)
            answer = b""
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except (BrokenPipeError, ConnectionResetError) as exc:
            return type(exc).__name__
    return answer.decode(errors="replace").split(" ", 2)[1]


def test_uploads_from_the_login_page_are_refused_and_hold_no_memory(
    app: tuple[str, int],
) -> None:
    url, pid = app
    xsrf = xsrf_cookie(url)

    async def attack(sizes: list[int]) -> list[str]:
        """Open the login page (a session), upload under its id, close the websocket."""
        page = await PageSession.open(url)
        run = await page.run(timeout=TIMEOUT)
        assert "Log in" in run.text and "Signed in as" not in run.text
        statuses = [
            await asyncio.to_thread(put_file, url, page.session_id, f"made-up-{i}", size, xsrf)
            for i, size in enumerate(sizes)
        ]
        await page.close()
        return statuses

    # A first round of 1 MB, so that what a round costs the process whatever it does
    # (buffers, pools, the page's first run) is in the "before" figure.
    run_isolated(attack([MB]))
    before = rss_mb(pid)
    statuses = run_isolated(attack([20 * MB] * 6))
    after = rss_mb(pid)
    held = upload_bytes_held(url)
    print(f"RSS {before:.1f} MB -> {after:.1f} MB; upload manager holds {held} bytes; {statuses}")
    assert "204" not in statuses, statuses
    assert held == 0
    assert after - before < 20, (before, after)  # one upload would be 20 MB, six 120 MB


def test_an_upload_for_a_session_nobody_signed_in_to_is_answered_403_unread(
    app: tuple[str, int],
) -> None:
    """A client that asks first (`Expect: 100-continue`) hears the refusal before
    sending a byte of the file."""
    url, _ = app
    xsrf = xsrf_cookie(url)

    async def ask() -> str:
        page = await PageSession.open(url)
        await page.run(timeout=TIMEOUT)
        status = await asyncio.to_thread(
            put_file, url, page.session_id, "made-up", 20 * MB, xsrf, expect=True
        )
        await page.close()
        return status

    assert run_isolated(ask()) == "403"


def test_a_signed_in_session_uploads_and_its_files_go_when_it_signs_out(
    app: tuple[str, int],
) -> None:
    url, _ = app
    xsrf = xsrf_cookie(url)

    async def scenario() -> None:
        page = await log_in(url)
        assert await asyncio.to_thread(put_file, url, page.session_id, "mine", MB, xsrf) == "204"
        await asyncio.to_thread(held_becomes, url, MB)
        await page.run([page.click("Log out")], timeout=TIMEOUT)
        await asyncio.to_thread(held_becomes, url, 0)
        refused = await asyncio.to_thread(put_file, url, page.session_id, "again", MB, xsrf)
        assert refused != "204"
        await page.close()

    run_isolated(scenario())


@pytest.mark.parametrize("app", [{"args": ["--server.disconnectedSessionTTL", "1"]}], indirect=True)
def test_the_files_of_a_session_that_can_no_longer_come_back_are_dropped(
    app: tuple[str, int],
) -> None:
    """Streamlit never drops the files of a session that expired from its reconnect store
    (here after 1 s): the gate does, at a later upload."""
    url, _ = app
    xsrf = xsrf_cookie(url)

    async def scenario() -> None:
        gone = await log_in(url)
        assert await asyncio.to_thread(put_file, url, gone.session_id, "f", 5 * MB, xsrf) == "204"
        await gone.close()
        other = await log_in(url)

        def upload() -> None:  # each upload sweeps; the other session's file is replaced
            assert put_file(url, other.session_id, "g", 1024, xsrf) == "204"

        await asyncio.to_thread(held_becomes, url, 1024, every=upload)
        await other.close()

    run_isolated(scenario())


@pytest.mark.parametrize("app", [{"env": {"MAX_UPLOAD_MB": "2"}}], indirect=True)
def test_streamlit_refuses_a_file_over_the_configurations_largest_limit(
    app: tuple[str, int],
) -> None:
    """`assistants-ui run` sets Streamlit's `server.maxUploadSize` from the configuration
    (here MAX_UPLOAD_MB=2): a signed-in session's 3 MB file is refused as it arrives,
    before the page could check it (Streamlit's default let 200 MB through)."""
    url, _ = app
    xsrf = xsrf_cookie(url)

    async def scenario() -> tuple[str, str]:
        page = await log_in(url)
        small = await asyncio.to_thread(put_file, url, page.session_id, "a", MB, xsrf)
        large = await asyncio.to_thread(
            put_file, url, page.session_id, "b", 3 * MB, xsrf, expect=True
        )
        await page.close()
        return small, large

    assert run_isolated(scenario()) == ("204", "413")
