"""Every fragment run and every callback passes the sign-in check (issue 22, item 2).

The attack: Streamlit runs a widget's callback before the page script, and a
fragment's rerun runs only that fragment with the arguments of the run that
drew it; neither went through `current_identity`. After a logout (in another
tab, which ends the login for every copy of its cookie) and after an admin
disabled the user, a tab already open kept searching that user's messages
(including a conversation written after the logout), and its clicks kept
saving feedback, stepping between versions (a database write) and, on the admin
page, disabling users. Admin actions also ran before the page asked again
whether the clicker was still an admin.

The app runs as `make run` starts it and each tab is a websocket client
(`streamlit_client`) sending what the browser sends for that click.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from test_session_binding import COOKIE, log_in, start

from assistants_ui.storage import Repository, open_url
from assistants_ui.storage.admin import Admin
from fakes.server import FakeOpenAI
from streamlit_client import PageSession, Run, run_isolated

TIMEOUT = 60
ALPHA = "alpha: the plan before the logout"
BRAVO = "bravo: written after the logout"
ADMIN_ENV = "ADMIN_USERS=jsmith\n"


@dataclass
class App:
    url: str
    folder: Path

    @property
    def db(self) -> Path:
        return self.folder / "data" / "assistants-ui.db"

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.db) as con:
            return con.execute(sql).fetchall()


@pytest.fixture
def app(tmp_path: Path, fake: FakeOpenAI) -> Iterator[App]:
    (tmp_path / ".env").write_text(ADMIN_ENV, encoding="utf-8")  # edited by a test
    for url, _ in start(tmp_path, fake, {}, password=True):
        yield App(url, tmp_path)


async def tab(url: str, cookie: str, *, page: str = "", query: str = "") -> PageSession:
    """Another tab of the same browser: the login's cookie signs it in."""
    opened = await PageSession.open(url, cookies={COOKIE: cookie})
    opened.go(page)
    opened.query_string = query
    run = await opened.run(timeout=TIMEOUT)
    assert "Signed in as" in run.text, run.text
    return opened


def disable(app: App, subject: str) -> None:
    """Another admin disables the user (the admin page's own call)."""
    db = open_url(f"sqlite:///{app.db}")
    try:
        user = Repository(db).find_user(auth_provider="password", subject=subject)
        assert user is not None
        Admin(db).set_disabled(actor="another admin", user_id=user.id, disabled=True)
    finally:
        db.dispose()


def add_user(app: App, subject: str, name: str) -> None:
    """Someone else signs in: the newest active user, the one the admin page picks first."""
    db = open_url(f"sqlite:///{app.db}")
    try:
        Repository(db).ensure_user(auth_provider="password", subject=subject, display_name=name)
    finally:
        db.dispose()


def jsmith_acted(app: App) -> list[tuple[object, ...]]:
    """What jsmith did as an admin (the audit log)."""
    return app.query("SELECT action, target FROM admin_audit WHERE actor LIKE '%password:jsmith%'")


@pytest.mark.parametrize("ended_by", ["logout", "disabling"])
def test_after_the_login_ended_an_open_tab_can_neither_search_nor_click(
    app: App, ended_by: str
) -> None:
    """Four tabs of one login, each drawn while it held; then the login ends (logged out
    in a fifth tab, which then signs in again and writes a new conversation, or the
    user is disabled), and each tab tries what it shows: the history's search (a
    fragment), thumbs up (a callback that saves), "‹" to the earlier version (a callback
    that writes the active branch) and the admin page's Disable (a callback)."""

    async def scenario() -> list[str]:
        searcher = await log_in(app.url)
        cookie = searcher.cookie_writes[COOKIE]
        await searcher.run(timeout=TIMEOUT)
        await searcher.chat(ALPHA, timeout=TIMEOUT)
        ((alpha_id,),) = app.query("SELECT id FROM conversations")
        feedback = await tab(app.url, cookie, query=f"c={alpha_id}")
        brancher = await tab(app.url, cookie)
        await brancher.chat("Which version?", timeout=TIMEOUT)
        await brancher.run([brancher.click("Regenerate")], timeout=TIMEOUT)
        add_user(app, "alice", "Alice Liddell")
        admin = await tab(app.url, cookie, page="admin")
        picked = WidgetState(id=admin.widget("admin_user"), string_value="Alice Liddell (password)")
        shown = await admin.run([picked], timeout=TIMEOUT)
        assert "Alice Liddell can use the app." in shown.text and "Disable" in shown.buttons

        if ended_by == "logout":
            other = await tab(app.url, cookie)
            await other.run([other.click("Log out")], timeout=TIMEOUT)
            again = await log_in(app.url)  # a new login, and a new conversation
            await again.run(timeout=TIMEOUT)
            await again.chat(BRAVO, timeout=TIMEOUT)
            wanted = "bravo"
        else:
            disable(app, "jsmith")
            wanted = "alpha"
        leaves = app.query("SELECT id, active_leaf FROM conversations ORDER BY id")

        thumb = feedback.widget("feedback-")
        runs = {
            "search": await searcher.run(
                [searcher.text_value("Search conversations", wanted)], timeout=TIMEOUT
            ),
            "feedback": await feedback.run(
                [WidgetState(id=thumb, string_value="1")],
                timeout=TIMEOUT,  # thumbs up
            ),
            "branch": await brancher.run(
                [brancher.press(brancher.widget("version-prev-"))], timeout=TIMEOUT
            ),
            "admin": await admin.run([admin.click("Disable")], timeout=TIMEOUT),
        }
        for page in (searcher, feedback, brancher, admin):
            page.abort()
        leaks = [f"{name} showed: {leaked(run)}" for name, run in runs.items() if leaked(run)]
        if app.query("SELECT id, active_leaf FROM conversations ORDER BY id") != leaves:
            leaks.append("branch: the version shown was changed")
        if app.query("SELECT feedback FROM messages WHERE feedback IS NOT NULL"):
            leaks.append("feedback: saved")
        if jsmith_acted(app) or app.query(
            "SELECT 1 FROM users WHERE subject = 'alice' AND disabled_at IS NOT NULL"
        ):
            leaks.append(f"admin: {jsmith_acted(app)}")
        return leaks

    assert run_isolated(scenario()) == []


def leaked(run: Run) -> str:
    """What a refused run showed of the user's (nothing: it shows the login page)."""
    page = run.text + " ".join(run.buttons)
    if ALPHA in page or BRAVO in page or "Signed in as" in page or "Log in" not in run.text:
        return page
    return ""


def test_an_admin_whose_rights_were_taken_away_changes_nothing(app: App) -> None:
    """The operator removes jsmith from ADMIN_USERS while his admin page is open; his
    next click on Disable (a callback, run before the page asks again) does nothing."""

    async def scenario() -> Run:
        page = await log_in(app.url)
        page.go("admin")
        drawn = await page.run(timeout=TIMEOUT)
        assert "Disable" in drawn.buttons
        (app.folder / ".env").write_text("ADMIN_USERS=someone-else\n", encoding="utf-8")
        clicked = await page.run([page.click("Disable")], timeout=TIMEOUT)
        page.abort()
        return clicked

    clicked = run_isolated(scenario())
    assert jsmith_acted(app) == []
    assert app.query("SELECT COUNT(*) FROM users WHERE disabled_at IS NOT NULL") == [(0,)]
    assert "Disable" not in clicked.buttons
