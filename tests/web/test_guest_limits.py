"""A guest that deletes its cookie to escape the guests' daily limit (issue 22, bad input).

A guest is its browser's cookie: without it, the next page load is a new guest
with nothing used today, so per-browser limits hold only against people who
keep their cookies. With GUEST_LIMITS_PER_ADDRESS the guests' limits count
every guest of one client address together; behind the nginx template
(TRUSTED_PROXIES=1) that address is the last X-Forwarded-For entry, the one
nginx appended, whatever the browser wrote before it.

The app runs as `make run` starts it; each guest is a websocket client without
cookies (a browser that deleted its cookie), sending the X-Forwarded-For that
nginx would pass on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_session_binding import start

from assistants_ui.core.limits import GUESTS
from assistants_ui.storage import open_url
from assistants_ui.storage.admin import Admin
from fakes.server import FakeOpenAI
from streamlit_client import PageSession, Run, run_isolated

TIMEOUT = 60
REFUSED = "Not sent: You have reached your daily limit of 1 message"


@pytest.fixture
def app(tmp_path: Path, fake: FakeOpenAI) -> Iterator[str]:
    env = {"GUEST_LIMITS_PER_ADDRESS": "true", "TRUSTED_PROXIES": "1"}
    for url, _ in start(tmp_path, fake, env):
        db = open_url(f"sqlite:///{tmp_path / 'data' / 'assistants-ui.db'}")
        try:
            Admin(db).set_limit(actor="ops", target=GUESTS, messages="1")
        finally:
            db.dispose()
        yield url


def sent(run: Run, text: str) -> bool:
    """Whether `text` was answered (the fake answers every question it gets)."""
    return f"Fake answer to: {text}" in run.text and not any(REFUSED in e for e in run.errors)


def test_a_guest_without_its_cookie_still_counts_for_its_address(app: str) -> None:
    async def guest(forwarded: str, *texts: str) -> list[bool]:
        page = await PageSession.open(app, headers={"X-Forwarded-For": forwarded})
        await page.run(timeout=TIMEOUT)
        answers = [sent(await page.chat(text, timeout=TIMEOUT), text) for text in texts]
        page.abort()
        return answers

    async def scenario() -> dict[str, list[bool]]:
        return {
            # The limit holds for one browser: its second message is refused.
            "browser": await guest("198.51.100.7", "first", "second"),
            # The attack: the same person, cookie deleted (a new guest), twice more.
            "cookie deleted": await guest("198.51.100.7", "third"),
            "and again, with a forged X-Forwarded-For": await guest(
                "203.0.113.50, 198.51.100.7", "fourth"
            ),
            # Someone at another address has a count of their own.
            "another address": await guest("203.0.113.9", "elsewhere"),
        }

    assert run_isolated(scenario()) == {
        "browser": [True, False],
        "cookie deleted": [False],
        "and again, with a forged X-Forwarded-For": [False],
        "another address": [True],
    }
