"""Helpers for the browser tests (shared by tests/e2e and bench/)."""

from __future__ import annotations

import socket
from collections.abc import Callable

from playwright.sync_api import Page, expect

__all__ = ["StartApp", "free_port", "send"]

StartApp = Callable[..., str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send(page: Page, text: str) -> None:
    """Type into the chat input and send, once attachments finished uploading."""
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=30_000)
    box.fill(text)
    expect(page.get_by_test_id("stChatInputSubmitButton")).to_be_enabled(timeout=30_000)
    box.press("Enter")
