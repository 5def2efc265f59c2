"""Login in real headless Chromium against `assistants-ui run`:

- passwords: log in, reload without being asked again (the signed cookie),
  log out; repeated wrong passwords lock the account;
- no login required: each browser gets its own anonymous identity that
  survives a reload;
- single sign-on through a real OpenID Provider (panva/oidc-provider on the
  machine's Node.js, installed by `npm ci` from tests/e2e/oidc's lockfile).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browser_support import StartApp, free_port
from fakes.server import FakeOpenAI

pytestmark = pytest.mark.browser

APP_CLI = Path(sys.executable).with_name("assistants-ui")
OIDC_DIR = Path(__file__).with_name("oidc")
COOKIE_KEY = "an-e2e-cookie-key-that-is-long-enough-0123456789"
COOKIE_NAME = "e2e_login"
SECRETS = f"""
[credentials.usernames.jsmith]
name = "John Smith"
email = "jsmith@example.com"
password = "abc-password-1"

[cookie]
name = "{COOKIE_NAME}"
key = "{COOKIE_KEY}"
expiry_days = 30
"""
TIMEOUT = 60_000
# Read at import, before the autouse fixture points HOME at each test's folder:
# node_modules is installed once per lockfile, not once per test.
REAL_HOME = os.environ.get("HOME", str(Path.home()))
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path(REAL_HOME) / ".cache") / "assistants-ui-tests"


def write_secrets(folder: Path, text: str) -> None:
    (folder / ".streamlit").mkdir(exist_ok=True)
    (folder / ".streamlit" / "secrets.toml").write_text(text, encoding="utf-8")


def add_user(folder: Path, username: str, password: str, name: str) -> None:
    """Through the real command, as an operator would."""
    done = subprocess.run(
        [str(APP_CLI), "users", "add", username, "--name", name, "--password-stdin"],
        input=f"{password}\n",
        capture_output=True,
        text=True,
        cwd=folder,
        env={**os.environ, "HOME": str(folder / "home")},
        check=False,
    )
    assert done.returncode == 0, done.stderr


def log_in(page: Page, username: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


@pytest.fixture
def password_app(start_app: StartApp, tmp_path: Path) -> str:
    write_secrets(tmp_path, SECRETS)
    add_user(tmp_path, "alice", "alice-password-1", "Alice Liddell")
    return start_app(
        {
            "AUTHENTICATION_REQUIRED": "true",
            "LOGIN_MAX_FAILURES": "3",
            "LOGIN_LOCKOUT_MINUTES": "15",
            "HOME": str(tmp_path / "home"),
        },
        tmp_path,
    )


def test_password_login_survives_a_reload_and_logout_ends_it(
    page: Page, password_app: str, browser: Browser
) -> None:
    page.goto(password_app)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
    log_in(page, "alice", "alice-password-1")
    side = page.get_by_test_id("stSidebar")
    expect(side.get_by_text("Signed in as Alice Liddell")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_function("() => document.cookie.includes('e2e_login=')", timeout=TIMEOUT)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "e2e_login"]
    assert cookie["expires"] > 0 and cookie["sameSite"] == "Lax"
    assert "alice-password-1" not in cookie["value"]

    page.reload()
    expect(side.get_by_text("Signed in as Alice Liddell")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("textbox", name="Password")).to_have_count(0)

    # The attack: someone copied the login cookie (a shared machine, malware, a
    # proxy log). Logging out must end the login for that copy too.
    [copied] = [c for c in page.context.cookies() if c["name"] == "e2e_login"]
    side.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_function("() => !document.cookie.includes('e2e_login=')", timeout=TIMEOUT)
    page.reload()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    thief = browser.new_context()
    try:
        thief.add_cookies([copied])
        stolen = thief.new_page()
        stolen.goto(password_app)
        expect(stolen.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
        expect(stolen.get_by_text("Signed in as")).to_have_count(0)
        assert [c["value"] for c in thief.cookies() if c["name"] == "e2e_login"] == [
            copied["value"]
        ]  # the cookie was sent, still validly signed, and refused
    finally:
        thief.close()

    # The original secrets.toml user (plain text there, hashed in memory) logs in too.
    log_in(page, "jsmith", "abc-password-1")
    expect(side.get_by_text("Signed in as John Smith")).to_be_visible(timeout=TIMEOUT)


def test_wrong_passwords_lock_the_account(page: Page, password_app: str) -> None:
    page.goto(password_app)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=TIMEOUT)
    # Each message differs, so each attempt is seen to be processed before the next.
    for left in ("2 more attempts ", "1 more attempt "):
        log_in(page, "alice", "not-her-password")
        expect(page.get_by_text(f"Wrong username or password ({left}before")).to_be_visible(
            timeout=TIMEOUT
        )
    log_in(page, "alice", "still-not-it")
    locked = page.get_by_text("this account is locked")
    expect(locked).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Try again in 15 minutes.")).to_be_visible()
    log_in(page, "alice", "alice-password-1")  # even the right one, while locked
    expect(locked).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def anonymous_users(folder: Path) -> list[str]:
    rows = query(folder, "SELECT subject FROM users WHERE auth_provider = 'anonymous'")
    return sorted(r[0] for r in rows)


def query(folder: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(folder / "data" / "assistants-ui.db")) as conn:
        return conn.execute(sql).fetchall()


def browser_token(page: Page) -> str:
    page.wait_for_function(
        "() => document.cookie.includes('assistants_ui_browser=')", timeout=TIMEOUT
    )
    [cookie] = [c for c in page.context.cookies() if c["name"] == "assistants_ui_browser"]
    return cookie["value"]


def send(page: Page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")


def test_anonymous_identity_is_signed_per_browser_and_saved_on_first_message(
    browser: Browser, start_app: StartApp, tmp_path: Path, fake: FakeOpenAI
) -> None:
    url = start_app(
        {"HOME": str(tmp_path / "home"), "OPENAI_BASE_URL": fake.base_url, "OPENAI_MODEL": "m"},
        tmp_path,
    )
    first = browser.new_context()
    try:
        page = first.new_page()
        page.goto(url)
        chat = page.get_by_test_id("stChatInputTextArea")
        expect(chat).to_be_visible(timeout=TIMEOUT)
        value = browser_token(page)
        token, _, signature = value.partition(".")
        assert len(token) == 32 and len(signature) == 32
        assert anonymous_users(tmp_path) == []  # a visit alone saves nothing
        send(page, "my private plans")
        expect(page.get_by_text("Fake answer to: my private plans")).to_be_visible(timeout=TIMEOUT)
        assert anonymous_users(tmp_path) == [token]  # the first save made the row
        page.reload()
        expect(chat).to_be_visible(timeout=TIMEOUT)
        assert browser_token(page) == value
        side = page.get_by_test_id("stSidebar")
        expect(side.get_by_text("my private plans").first).to_be_visible(timeout=TIMEOUT)
        assert anonymous_users(tmp_path) == [token]  # the same user again, not a new one
    finally:
        first.close()

    # The attack: set the guest cookie to someone else's token (seen in a log, over a
    # shoulder, guessed), bare or with a made-up signature. Before, the cookie was
    # the bare token, so it opened that guest's history.
    for forged in (token, f"{token}.{'0' * 32}", f"{token}.{signature[::-1]}"):
        other = browser.new_context()
        try:
            other.add_cookies([{"name": "assistants_ui_browser", "value": forged, "url": url}])
            page = other.new_page()
            page.goto(url)
            side = page.get_by_test_id("stSidebar")
            expect(side.get_by_text("Your conversations appear here.")).to_be_visible(
                timeout=TIMEOUT
            )
            expect(side.get_by_text("my private plans")).to_have_count(0)
            page.wait_for_function(
                f"() => !document.cookie.includes('assistants_ui_browser={forged}')",
                timeout=TIMEOUT,
            )
            fresh = browser_token(page)
            assert fresh.partition(".")[0] != token  # a new guest, never the old one
        finally:
            other.close()
    assert anonymous_users(tmp_path) == [token]  # and visits saved no rows


# -- single sign-on ---------------------------------------------------------------------


def _npm_install() -> Path:
    """oidc-provider from the committed lockfile, installed once per lockfile."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed (`make test` installs nodejs and npm)")
    lock = (OIDC_DIR / "package-lock.json").read_bytes()
    cache = CACHE / f"oidc-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not (cache / "node_modules" / "oidc-provider" / "package.json").exists():
        cache.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(OIDC_DIR / name, cache / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=cache,
            env={**os.environ, "HOME": REAL_HOME},  # npm's own download cache
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    shutil.copy(OIDC_DIR / "provider.mjs", cache / "provider.mjs")
    return cache


@pytest.fixture
def oidc_provider(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A real OpenID Provider on localhost; yields (issuer, the app port it expects)."""
    folder = _npm_install()
    port, app_port = free_port(), free_port()
    log = (tmp_path / "oidc-provider.log").open("w+")
    proc = subprocess.Popen(
        [
            "node",
            "provider.mjs",
            str(port),
            "assistants-ui",
            "e2e-client-secret",
            f"http://localhost:{app_port}/oauth2callback",
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until it listens (or dies)
        if not line.startswith("listening"):
            log.seek(0)
            pytest.fail(f"the OpenID Provider did not start: {line}{log.read()}")
        yield line.split()[1], app_port
    finally:
        proc.terminate()
        proc.wait(10)


def sso_app(start_app: StartApp, tmp_path: Path, oidc_provider: tuple[str, int], allow: str) -> str:
    issuer, app_port = oidc_provider
    write_secrets(
        tmp_path,
        f"""
[auth]
redirect_uri = "http://localhost:{app_port}/oauth2callback"
cookie_secret = "an-e2e-oidc-cookie-secret-long-enough-0123456789"
{allow}

[auth.local-idp]
client_id = "assistants-ui"
client_secret = "e2e-client-secret"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
client_kwargs = {{ prompt = "login" }}
""",
    )
    url = start_app(
        {"AUTHENTICATION_REQUIRED": "true", "HOME": str(tmp_path / "home")}, tmp_path, app_port
    )
    return url.replace("127.0.0.1", "localhost")  # the origin of redirect_uri


def sso_log_in(page: Page, app: str, issuer: str, name: str) -> None:
    page.goto(app)
    page.get_by_role("button", name="Log in with Local Idp").click()
    # The provider's own pages: its development login form, then consent.
    page.wait_for_url(f"{issuer}/**", timeout=TIMEOUT)
    page.locator("input[name=login]").fill(name)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{app}/**", timeout=TIMEOUT)


def test_single_sign_on_through_a_real_openid_provider(
    page: Page,
    browser: Browser,
    start_app: StartApp,
    tmp_path: Path,
    oidc_provider: tuple[str, int],
) -> None:
    issuer = oidc_provider[0]
    app = sso_app(start_app, tmp_path, oidc_provider, 'allowed_domains = ["oidc.example"]')
    sso_log_in(page, app, issuer, "olivia")
    side = page.get_by_test_id("stSidebar")
    expect(side.get_by_text("Signed in as OIDC olivia (olivia@oidc.example)")).to_be_visible(
        timeout=TIMEOUT
    )
    rows = query(tmp_path, "SELECT auth_provider, subject, display_name, email FROM users")
    assert rows == [("oidc", f"{issuer}|olivia", "OIDC olivia", "olivia@oidc.example")]

    page.reload()  # Streamlit's identity cookie keeps the session
    expect(side.get_by_text("Signed in as OIDC olivia")).to_be_visible(timeout=TIMEOUT)

    # The attack: a copy of Streamlit's identity cookie, replayed after "Log out".
    # The cookie is Streamlit's, signed and self-contained; the app now remembers
    # that this login (its ID token) was logged out and refuses it.
    copied = [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
    assert copied
    side.get_by_role("button", name="Log out").click()
    # st.logout() ends the session at the provider too (RP-initiated logout).
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{app}/**", timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Log in with Local Idp")).to_be_visible(timeout=TIMEOUT)
    thief = browser.new_context()
    try:
        thief.add_cookies(copied)
        stolen = thief.new_page()
        stolen.goto(app)
        expect(stolen.get_by_role("button", name="Log in with Local Idp")).to_be_visible(
            timeout=TIMEOUT
        )
        expect(stolen.get_by_text("Signed in as")).to_have_count(0)
    finally:
        thief.close()


def test_single_sign_on_refuses_someone_not_on_the_allow_list(
    page: Page, start_app: StartApp, tmp_path: Path, oidc_provider: tuple[str, int]
) -> None:
    """The attack: with Google's "External" consent screen any Google account can
    sign in; before, every stranger got in. Now only the allow-list does."""
    issuer = oidc_provider[0]
    app = sso_app(start_app, tmp_path, oidc_provider, 'allowed_emails = ["ana@oidc.example"]')
    sso_log_in(page, app, issuer, "mallory")
    expect(
        page.get_by_text(
            "You signed in as mallory@oidc.example, which is not allowed to use this app."
        )
    ).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    expect(page.get_by_test_id("stChatInputTextArea")).to_have_count(0)
    expect(page.get_by_role("button", name="Log in with another account")).to_be_visible()
    assert query(tmp_path, "SELECT subject FROM users") == []
