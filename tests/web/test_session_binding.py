"""A session is bound to its login: its id alone gives nobody the page.

The attack (issue 22, item 1): a Streamlit session id is no secret. It is in
every upload URL (`/_stcore/upload_file/<session>/<file>`), which proxies log.
A bare websocket client that opens `/_stcore/stream` with the subprotocol
`streamlit, x, <session id>` and no cookie used to resume a signed-in user's
session: "Signed in as ...", her conversation and her history list.

The app runs as `make run` starts it (a real `assistants-ui run` process) and is
driven over Streamlit's own websocket protocol (`streamlit_client`), as the
attacker would drive it. The legitimate reconnect (the browser's, after a
network blip: the same session id *with* the login's cookie) still resumes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistants_ui.web.login_view import ANONYMOUS_COOKIE
from browser_support import app_command, free_port, serving
from fakes.chat_routes import chat_text
from fakes.server import FakeOpenAI
from login_support import ORIGINAL_SECRETS
from streamlit_client import PageSession, Run, run_isolated

TIMEOUT = 60
COOKIE = "some_cookie_name"  # ORIGINAL_SECRETS' [cookie] name
SECRET = "The launch code is 0451"  # what the victim wrote
ANSWER = "Noted, carefully."


def start(
    tmp_path: Path,
    fake: FakeOpenAI,
    env: dict[str, str],
    *,
    password: bool = False,
    args: list[str] | None = None,
) -> Iterator[tuple[str, int]]:
    """`assistants-ui run` answering from `fake`, with `env` (and `password`: John Smith of
    ORIGINAL_SECRETS, AUTHENTICATION_REQUIRED) and Streamlit's `args`; yields (URL, pid)."""
    port = free_port()
    full = {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_MODEL": "m",
        "OPENAI_MAX_RETRIES": "0",
        "HOME": str(tmp_path / "home"),
        "ENABLED_FILE_UPLOAD_MESSAGE": "",
        **env,
    }
    if password:
        (tmp_path / ".streamlit").mkdir(exist_ok=True)
        (tmp_path / ".streamlit" / "secrets.toml").write_text(ORIGINAL_SECRETS, encoding="utf-8")
        full["AUTHENTICATION_REQUIRED"] = "true"
    command = [*app_command(port), "--", *(args or [])]
    with (
        (tmp_path / "app.log").open("wb") as log,
        serving(command, port, cwd=tmp_path, env=full, output=log) as (url, proc),
    ):
        yield url, proc.pid


@pytest.fixture
def password_app(tmp_path: Path, fake: FakeOpenAI) -> Iterator[str]:
    for url, _ in start(tmp_path, fake, {}, password=True):
        yield url


@pytest.fixture
def guest_app(tmp_path: Path, fake: FakeOpenAI) -> Iterator[str]:
    for url, _ in start(tmp_path, fake, {}):
        yield url


async def log_in(url: str) -> PageSession:
    """The victim: John Smith logs in with his password."""
    page = await PageSession.open(url)
    first = await page.run(timeout=TIMEOUT)
    assert "Log in" in first.text, first.text
    signed = await page.run(
        [
            page.text_value("Username", "jsmith"),
            page.text_value("Password", "abc-password"),
            page.click("Log in"),
        ],
        timeout=TIMEOUT,
    )
    assert "Signed in as" in signed.text, signed.text
    return page


async def write_secret(page: PageSession) -> None:
    await page.run(timeout=TIMEOUT)  # the page with its chat input
    answered = await page.chat(SECRET, timeout=TIMEOUT)
    assert ANSWER in answered.text and SECRET in answered.text


def shows_nothing_of_hers(run: Run) -> None:
    page = run.text + " ".join(run.buttons)
    assert SECRET not in page and ANSWER not in page, page
    assert "Signed in as" not in page, page


@pytest.mark.parametrize("victim_online", [True, False], ids=["tab-open", "tab-closed"])
def test_a_leaked_session_id_without_the_login_cookie_gets_the_login_page(
    password_app: str, fake: FakeOpenAI, victim_online: bool
) -> None:
    fake.expect("chat.completions", chat_text([ANSWER]))

    async def scenario() -> tuple[Run, Run]:
        victim = await log_in(password_app)
        await write_secret(victim)
        if not victim_online:
            victim.abort()
        # The attacker read the session id in a proxy's log of an upload URL.
        async with await PageSession.open(password_app, session_id=victim.session_id) as thief:
            stolen = await thief.run(timeout=TIMEOUT)
            again = await thief.run(timeout=TIMEOUT)  # and tries once more
        if victim_online:
            victim.abort()
        return stolen, again

    stolen, again = run_isolated(scenario())
    for run in (stolen, again):
        shows_nothing_of_hers(run)
        assert "Log in" in run.text and not run.errors


def test_the_browser_reconnecting_with_its_login_cookie_keeps_its_session(
    password_app: str, fake: FakeOpenAI
) -> None:
    """A network blip: the page's websocket comes back with the same session id and the
    browser's cookies; the session, its login and the conversation on the page stay."""
    fake.expect("chat.completions", chat_text([ANSWER]))

    async def scenario() -> Run:
        victim = await log_in(password_app)
        cookie = victim.cookie_writes[COOKIE]
        await write_secret(victim)
        victim.abort()
        async with await PageSession.open(
            password_app, session_id=victim.session_id, cookies={COOKIE: cookie}
        ) as back:
            run = await back.run(timeout=TIMEOUT)
            assert back.session_id in ("", victim.session_id)  # resumed: no new session
            return run

    back = run_isolated(scenario())
    assert "Signed in as" in back.text and SECRET in back.text and ANSWER in back.text


def test_a_leaked_guest_session_id_is_a_new_empty_guest(guest_app: str, fake: FakeOpenAI) -> None:
    """No login required: a guest's session id without the guest's signed cookie is
    a new guest, with nothing of the first one's history."""
    fake.expect("chat.completions", chat_text([ANSWER]))

    async def scenario() -> tuple[Run, Run]:
        victim = await PageSession.open(guest_app)
        await write_secret(victim)
        guest_cookie = victim.cookie_writes[ANONYMOUS_COOKIE]
        victim.abort()
        async with await PageSession.open(guest_app, session_id=victim.session_id) as thief:
            stolen = await thief.run(timeout=TIMEOUT)
        async with await PageSession.open(
            guest_app, session_id=victim.session_id, cookies={ANONYMOUS_COOKIE: guest_cookie}
        ) as owner:
            mine = await owner.run(timeout=TIMEOUT)
        return stolen, mine

    stolen, mine = run_isolated(scenario())
    shows_nothing_of_hers(stolen)
    assert not stolen.errors
    # Her own browser (its signed cookie) still finds her conversation in the history.
    assert SECRET in " ".join(mine.buttons) or SECRET in mine.text
