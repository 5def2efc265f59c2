"""Helpers for the browser tests and the benchmarks: the app as a process, Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Frame,
    Page,
    Playwright,
    Request,
    WebSocket,
    expect,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout

__all__ = [
    "APP_CLI",
    "CHROMIUM",
    "TWO_ASSISTANTS",
    "StartApp",
    "app_command",
    "choose",
    "chromium",
    "free_port",
    "launch_chromium",
    "page_text",
    "seen_by",
    "send",
    "serving",
    "wait_healthy",
    "watched",
]

StartApp = Callable[..., str]
APP_CLI = Path(sys.executable).with_name("assistants-ui")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Debian's Chromium, headless; without the networking flags it keeps trying to
# reach Google's services, which this machine's closed network refuses.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """What `make run` runs, on a given port."""
    return [str(APP_CLI), "run", "--port", str(port), "--address", address]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], *, timeout: float = 60) -> None:
    """Until Streamlit answers its health check; fails if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy within {timeout:g} s")


@contextmanager
def serving(
    command: Sequence[str],
    port: int,
    *,
    cwd: Path | str,
    env: dict[str, str] | None = None,
    output: IO[bytes] | int = subprocess.DEVNULL,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run a Streamlit server command on `port`; yields (URL, process), stops it after."""
    proc = subprocess.Popen(
        list(command),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch_chromium(pw: Playwright) -> Browser:
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium for a test fixture; a missing binary fails the test, naming the fix."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/ensure-system-deps)")
    with sync_playwright() as pw:
        browser = watched(launch_chromium(pw))
        try:
            yield browser
        finally:
            browser.close()


# What each browser context saw that a failure message should name: page errors,
# console errors, failed requests, HTTP errors, websockets opened and closed.
_JOURNALS: dict[int, list[str]] = {}


def _journal(context: BrowserContext) -> list[str]:
    return _JOURNALS.setdefault(id(context), [])


def _watch_page(page: Page, journal: list[str]) -> None:
    start = time.monotonic()

    def note(text: str) -> None:
        journal.append(f"+{time.monotonic() - start:6.2f}s {text}"[:300])

    page.on("pageerror", lambda error: note(f"page error: {error}"))
    page.on(
        "console",
        lambda msg: (
            note(f"console {msg.type}: {msg.text}") if msg.type in ("error", "warning") else None
        ),
    )
    # Podman adds and removes network interfaces as containers start and stop; Chromium
    # then fails the requests in flight with ERR_NETWORK_CHANGED. A Streamlit page that
    # lost one of its scripts that way stays blank forever (seen in CI: a new container's
    # first page, no text for 180 s). Such a page is reloaded, as a person would, once
    # it has loaded, at most three times; the journal says so.
    state = {"loaded": False, "due": False, "reloads": 0}

    def reload() -> None:
        state["due"] = False
        state["reloads"] += 1
        note("reloading: a script of the page was lost to a network change")
        try:
            page.reload()
        except Exception as exc:  # closed meanwhile, or another navigation won
            note(f"the reload failed: {exc}")

    def failed(request: Request) -> None:
        note(f"failed: {request.url} ({request.failure})")
        lost = "ERR_NETWORK_CHANGED" in (request.failure or "") and "/static/" in request.url
        if not lost or state["due"] or state["reloads"] >= 3:
            return
        if state["loaded"]:
            reload()
        else:
            state["due"] = True

    def loaded(_: Page) -> None:
        state["loaded"] = True
        note(f"loaded {page.url}")
        if state["due"]:
            reload()

    def navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            state["loaded"] = False

    page.on("requestfailed", failed)
    page.on("framenavigated", navigated)
    page.on(
        "response",
        lambda res: note(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None,
    )

    def websocket(ws: WebSocket) -> None:
        received = [0]
        note(f"websocket opened: {ws.url}")

        def frame(_: object) -> None:
            received[0] += 1
            if received[0] in (1, 10, 100, 1000):
                note(f"websocket {ws.url}: {received[0]} frames received")

        ws.on("framereceived", frame)
        ws.on("socketerror", lambda error: note(f"websocket error: {error}"))
        ws.on("close", lambda _: note(f"websocket closed after {received[0]} frames"))

    page.on("websocket", websocket)
    page.on("load", loaded)


def watched(browser: Browser) -> Browser:
    """Every context `browser` opens from now on keeps a journal for `page_text`."""
    plain = browser.new_context

    def new_context(*args: Any, **kwargs: Any) -> BrowserContext:
        context = plain(*args, **kwargs)
        journal = _journal(context)
        context.on("page", lambda page: _watch_page(page, journal))

        def forget(_: BrowserContext) -> None:
            _JOURNALS.pop(id(context), None)

        context.on("close", forget)
        return context

    browser.new_context = new_context  # type: ignore[method-assign]
    return browser


def seen_by(browser: Browser) -> str:
    """Every open page of `browser`: its address, text and journal (a failed test's report)."""
    found = []
    for context in browser.contexts:
        for page in context.pages:
            try:
                found.append(f"=== {page.url}\n{page_text(page)}")
            except Exception as exc:  # the browser itself may be what failed
                found.append(f"=== (a page that cannot be read: {exc})")
    return "\n".join(found) or "(no open page)"


def page_text(page: Page) -> str:
    """What the page shows (its text, cut) and what its browser context saw, for a
    failure message."""
    try:
        shown = page.locator("body").inner_text(timeout=5_000)[:3000]
    except PlaywrightTimeout:
        shown = "(the page did not answer)"
    seen = _JOURNALS.get(id(page.context), [])
    return f"{shown}\n--- what the browser saw ({len(seen)} events, last 40):\n" + "\n".join(
        seen[-40:]
    )


def send(page: Page, text: str) -> None:
    """Type into the chat input and send, once attachments finished uploading."""
    box = page.get_by_test_id("stChatInputTextArea")
    try:
        box.wait_for(state="visible", timeout=30_000)
    except PlaywrightTimeout as exc:  # say what the page shows instead of the input
        raise AssertionError(
            f"no chat input after 30 s; the page shows:\n{page_text(page)}"
        ) from exc
    box.fill(text)
    submit = page.get_by_test_id("stChatInputSubmitButton")
    for _attempt in range(3):
        expect(submit).to_be_enabled(timeout=30_000)
        box.press("Enter")
        if not text:
            return
        # Taken, the box empties at once. An Enter can go unheard: pressed as a file's
        # upload starts, before the button shows it waits (CI saw the message stay).
        try:
            expect(box).not_to_have_value(text, timeout=10_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the message was not sent; the page shows:\n{page_text(page)}")


def choose(page: Page, label: str, option: str, *, timeout: float = 60_000) -> None:
    """Choose `option` in the selectbox `label`; a rerun still finishing may close the
    list as it opens, or cover the option as it is clicked, so both are tried again."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    wanted = page.get_by_role("option", name=option)
    for attempt in range(6):
        box.click()
        try:
            wanted.wait_for(state="visible", timeout=5_000)
            wanted.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            if attempt == 5:
                raise
            page.keyboard.press("Escape")
    expect(page.get_by_role("combobox", name=label)).to_have_value(option, timeout=timeout)


# Two assistants on the fake server (`base_url`), the original project's OPENAI_ASSISTANTS
# case: every way of opening a conversation must also pick its assistant.
TWO_ASSISTANTS = """
[connections.fake]
type = "openai"
base_url = "{base_url}"

[[assistants]]
id = "first"
title = "First"
backend = "chat"
connection = "fake"
model = "m"

[[assistants]]
id = "second"
title = "Second"
icon = "🦉"
backend = "chat"
connection = "fake"
model = "m"
"""
