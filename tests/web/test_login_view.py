"""The login page through AppTest: right and wrong passwords, lockout, problems,
SSO buttons, anonymous browsers, logging out."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistants_ui.auth import passwords
from assistants_ui.auth.passwords import CredentialsFile
from assistants_ui.auth.sessions import LoginSessions
from assistants_ui.settings import load_settings
from assistants_ui.storage import open_database
from assistants_ui.web import cookie_jar, login_view
from login_support import GOOD_KEY, ORIGINAL_SECRETS, write_secrets

PAGE = str(Path(__file__).with_name("login_app.py"))


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHENTICATION_REQUIRED", "true")


def page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30).run()


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def signed_in(at: AppTest) -> str:
    found = [m.value for m in at.markdown if m.value.startswith("Signed in:")]
    return found[0] if found else ""


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_right_password_signs_in_and_wrong_one_does_not(required: None) -> None:
    write_secrets(ORIGINAL_SECRETS)
    at = page()
    assert not at.exception
    assert [h.value for h in at.header] == ["Log in"] and signed_in(at) == ""
    at = log_in(at, "jsmith", "not-it")
    assert errors(at) == ["Wrong username or password (4 more attempts before a 15-minute lock)."]
    assert signed_in(at) == ""
    at = log_in(at, "JSmith", "abc-password")
    assert not at.exception and errors(at) == []
    assert signed_in(at) == (
        "Signed in: provider=password subject=jsmith name=John Smith email=jsmith@gmail.com"
    )
    assert not at.header  # the form is gone
    at.run()  # the next run keeps the session
    assert signed_in(at).startswith("Signed in: provider=password subject=jsmith")


def test_the_run_after_a_login_keeps_every_element_in_its_place(required: None) -> None:
    """Signed in, the page is laid out as on every later run: the next run replaces each
    element in place. Drawn below the emptied form, every element was one place lower
    than in the next run, which painted the whole page anew (a blink of everything)."""
    write_secrets(ORIGINAL_SECRETS)
    at = log_in(page(), "JSmith", "abc-password")
    assert signed_in(at).startswith("Signed in: provider=password subject=jsmith")
    places = [child.type for child in at.main.children.values()]
    at.run()
    assert [child.type for child in at.main.children.values()] == places


def test_the_form_has_no_counter_and_checks_lengths_itself(required: None) -> None:
    """max_chars made Streamlit write "9/128" under the box, in English: the lengths are
    checked on the server instead, with one sentence, before any password is checked."""
    write_secrets(ORIGINAL_SECRETS)
    at = page()
    assert [box.max_chars for box in at.text_input] == [0, 0]  # no counter
    for name, password in (("jsmith", "p" * 129), ("j" * 65, "abc-password")):
        at = log_in(at, name, password)
        assert errors(at) == [
            "That username or password is too long: a username has at most 64 characters, "
            "a password at most 128."
        ]
        assert signed_in(at) == ""
    at = log_in(at, "jsmith", "abc-password")  # no failure was counted: no lock, no wait
    assert errors(at) == [] and signed_in(at).startswith("Signed in: provider=password")


def test_unknown_user_gets_the_same_message(required: None) -> None:
    write_secrets(ORIGINAL_SECRETS)
    at = log_in(page(), "nobody", "abc-password")
    assert errors(at) == ["Wrong username or password (4 more attempts before a 15-minute lock)."]


def test_lockout_after_repeated_failures_even_for_the_right_password(
    required: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("LOGIN_LOCKOUT_MINUTES", "10")
    write_secrets(ORIGINAL_SECRETS)
    at = page()
    for left in ("2 more attempts ", "1 more attempt "):
        at = log_in(at, "jsmith", "wrong-password")
        assert errors(at) == [f"Wrong username or password ({left}before a 10-minute lock)."]
    at = log_in(at, "jsmith", "wrong-password")
    [message] = errors(at)
    assert "locked" in message and "Try again in 10 minutes." in message
    at = log_in(at, "jsmith", "abc-password")
    assert "locked" in errors(at)[0] and signed_in(at) == ""
    # A fresh browser session is locked out too: the count is in the database.
    fresh = log_in(page(), "jsmith", "abc-password")
    assert "locked" in errors(fresh)[0] and signed_in(fresh) == ""


def test_logout_returns_to_the_form(required: None) -> None:
    write_secrets(ORIGINAL_SECRETS)
    at = log_in(page(), "jsmith", "abc-password")
    assert at.sidebar.button[0].label == "Log out"
    at.sidebar.button[0].click().run()
    assert signed_in(at) == "" and [h.value for h in at.header] == ["Log in"]
    assert "You are logged out." in [i.value for i in at.info]


def test_nothing_configured_refuses_everyone(required: None) -> None:
    at = page()
    assert not at.exception and signed_in(at) == "" and not at.text_input
    [message] = errors(at)
    assert "AUTHENTICATION_REQUIRED" in message and "no login method" in message


def test_sample_cookie_key_refuses_login(required: None) -> None:
    write_secrets(ORIGINAL_SECRETS.replace(GOOD_KEY, "some_signature_key"))
    at = page()
    assert not at.text_input and signed_in(at) == ""
    [message] = errors(at)
    assert "[cookie] key" in message and "sample" in message


def test_sso_buttons_per_provider_next_to_the_password_form(required: None) -> None:
    write_secrets(
        ORIGINAL_SECRETS
        + """
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "an-oidc-cookie-secret-long-enough-0123456789"
[auth.google]
client_id = "id"
client_secret = "s"
server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"
[auth.okta]
client_id = "id"
client_secret = "s"
server_metadata_url = "https://example.okta.com/.well-known/openid-configuration"
"""
    )
    at = page()
    labels = [b.label for b in at.button]
    assert labels == ["Log in with Google", "Log in with Okta", "Log in"]
    assert len(at.text_input) == 2


def test_authentication_off_gives_an_anonymous_identity() -> None:
    at = page()
    text = signed_in(at)
    assert text.startswith("Signed in: provider=anonymous subject=") and "name=Guest" in text
    token = text.split("subject=")[1].split()[0]
    assert len(token) == 32
    assert not at.sidebar.button  # nothing to log out of
    at.run()
    assert signed_in(at) == text  # same identity for the whole session
    assert signed_in(page()) != text  # another browser (no cookie): another identity


def test_a_changed_password_ends_the_open_session(required: None) -> None:
    write_secrets(f'[cookie]\nkey = "{GOOD_KEY}"\n')
    file = CredentialsFile(Path("data/credentials.yaml"))
    file.add("alice", "alice-password", name="Alice")
    at = log_in(page(), "alice", "alice-password")
    assert "subject=alice" in signed_in(at)
    file.set_password("alice", "changed-password")
    at.run()
    assert signed_in(at) == ""
    assert "Your account changed: please log in again." in [i.value for i in at.info]


def test_nothing_secret_is_logged(
    required: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    caplog.set_level(logging.DEBUG)
    write_secrets(ORIGINAL_SECRETS)
    at = log_in(page(), "jsmith", "a-wrong-guess")
    at = log_in(at, "jsmith", "abc-password")
    assert "subject=jsmith" in signed_in(at)
    # People type their password into the name box: a failed login never logs the
    # name typed, neither for a wrong password nor when it locks the name.
    at.sidebar.button[0].click().run()
    at = log_in(at, "my-Secret-passw0rd", "x")
    at = log_in(at, "my-Secret-passw0rd", "y")
    assert "locked" in errors(at)[0]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "login: wrong username or password" in logged
    assert "login: a login name is locked for 900 s" in logged
    assert "jsmith signed in with a password" in logged
    assert "plain-text passwords for jsmith" in logged
    for secret in ("abc-password", "a-wrong-guess", GOOD_KEY, "$2b$", "my-secret-passw0rd"):
        assert secret not in logged.lower()


def test_a_login_ended_on_the_server_ends_the_open_session(required: None) -> None:
    """Logging out in another tab (or a revoked session) is noticed on the next run
    of this one: the session's id is checked against the database every run."""
    write_secrets(ORIGINAL_SECRETS)
    at = log_in(page(), "jsmith", "abc-password")
    assert "subject=jsmith" in signed_in(at)
    sid = at.session_state[login_view._SID_KEY]
    assert isinstance(sid, str) and len(sid) >= 40
    db = open_database(load_settings()[0])
    try:
        sessions = LoginSessions(db)
        assert sessions.active(sid, auth_provider="password", subject="jsmith")
        sessions.revoke(sid, auth_provider="password", subject="jsmith")
    finally:
        db.dispose()
    at.run()
    assert signed_in(at) == ""
    assert "This login was ended (logged out): please log in again." in [i.value for i in at.info]


def test_logout_revokes_the_login_on_the_server(required: None) -> None:
    write_secrets(ORIGINAL_SECRETS)
    at = log_in(page(), "jsmith", "abc-password")
    sid = at.session_state[login_view._SID_KEY]
    at.sidebar.button[0].click().run()
    db = open_database(load_settings()[0])
    try:
        assert not LoginSessions(db).active(sid, auth_provider="password", subject="jsmith")
    finally:
        db.dispose()


def _cookie_writes(at: AppTest) -> str:
    """What this run asks the browser to store: the cookie jar's data, if it is drawn."""
    return " ".join(jar.proto.json for jar in at.get("bidi_component"))


def test_a_cookie_write_is_rendered_for_a_while_then_no_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The websocket is compressed: a secret sent beside text an attacker can choose
    # (a web page the model quotes) is what length-probing attacks (CRIME, BREACH)
    # read. So the signed guest token goes with the runs of its first seconds, to
    # survive a rerun or a reconnect, not with every answer after.
    monkeypatch.setattr(cookie_jar, "WRITE_SECONDS", 1.0)
    at = page()
    token = signed_in(at).split("subject=")[1].split()[0]
    assert token in _cookie_writes(at) and login_view.ANONYMOUS_COOKIE in _cookie_writes(at)
    at.run()
    assert token in _cookie_writes(at)  # still within its seconds: drawn again
    places = [child.type for child in at.main.children.values()]
    time.sleep(1.2)
    at.run()
    assert _cookie_writes(at) == ""
    assert signed_in(at).split("subject=")[1].split()[0] == token  # the same person
    # Its place is kept (an empty element): the elements after it keep theirs (when
    # they moved, the next run sent every earlier answer again, not by reference).
    after = [child.type for child in at.main.children.values()]
    assert len(after) == len(places) and after[1:] == places[1:], (places, after)


def test_the_lock_is_said_in_minutes_or_seconds() -> None:
    """The page words how long a lock holds (auth gives the time left, not a sentence)."""
    from assistants_ui.auth.lockout import LockState
    from assistants_ui.web.login_view import _remaining

    def said(seconds: float) -> str:
        return _remaining(LockState(True, dt.timedelta(seconds=seconds)))

    assert said(900) == "15 minutes"
    assert said(60) == "1 minute"
    assert said(30) == "30 seconds"
    assert said(0.2) == "1 second"
