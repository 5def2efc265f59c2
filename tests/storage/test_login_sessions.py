"""Logins that end on the server (`login_sessions`) and the app's own keys
(`app_keys`), on SQLite and PostgreSQL, shared between two app processes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from assistants_ui.auth.cookies import new_guest_token, read_guest, sign_guest
from assistants_ui.auth.sessions import LoginSessions, oidc_session_id, server_key
from assistants_ui.storage import Database, open_url

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def second_db(db_url: str) -> Iterator[Database]:
    other = open_url(db_url)
    try:
        yield other
    finally:
        other.dispose()


def test_a_logged_out_password_login_is_dead_in_every_process(
    db: Database, second_db: Database
) -> None:
    """The attack: copy the login cookie, wait for the owner to log out, replay it.
    The cookie's signature stays valid; its session id no longer is."""
    here, there = LoginSessions(db), LoginSessions(second_db)
    sid = here.start(auth_provider="password", subject="alice", lifetime=dt.timedelta(days=30))
    other = here.start(auth_provider="password", subject="alice", lifetime=dt.timedelta(days=30))
    assert sid != other and len(sid) >= 40
    assert there.active(sid, auth_provider="password", subject="alice")
    # A session id names one person: it is no good for another name.
    assert not there.active(sid, auth_provider="password", subject="bob")
    here.revoke(sid, auth_provider="password", subject="alice")
    assert not there.active(sid, auth_provider="password", subject="alice")
    assert there.active(other, auth_provider="password", subject="alice")  # that login only
    assert not there.active("made-up", auth_provider="password", subject="alice")
    assert not there.active("x" * 500, auth_provider="password", subject="alice")


def test_sessions_expire_and_expired_rows_are_pruned(db: Database) -> None:
    clock = Clock()
    sessions = LoginSessions(db, clock=clock)
    sid = sessions.start(auth_provider="password", subject="a", lifetime=dt.timedelta(days=1))
    clock.now += dt.timedelta(days=1, seconds=1)
    assert not sessions.active(sid, auth_provider="password", subject="a")
    sessions.start(auth_provider="password", subject="b", lifetime=dt.timedelta(days=1))
    with db.engine.connect() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM login_sessions")]
    assert sid not in ids and len(ids) == 1


def test_a_single_sign_on_login_is_revoked_by_its_id_token(db: Database) -> None:
    """Streamlit's own cookie cannot be changed: its ID token's digest is refused instead."""
    sessions = LoginSessions(db)
    claims = {"iss": "https://idp", "sub": "olivia", "iat": 1000, "nonce": "n1", "aud": "app"}
    sid = oidc_session_id(claims)
    assert sid == oidc_session_id(dict(claims, name="ignored"))  # stable across reloads
    later = oidc_session_id(dict(claims, iat=2000, nonce="n2"))  # the next login: another id
    assert later != sid and len(sid) <= 64
    assert not sessions.revoked(sid)
    sessions.revoke(sid, auth_provider="oidc", subject="https://idp|olivia")
    sessions.revoke(sid, auth_provider="oidc", subject="https://idp|olivia")  # twice: fine
    assert sessions.revoked(sid) and not sessions.revoked(later)


def test_the_guest_key_is_made_once_and_shared(db: Database, second_db: Database) -> None:
    key = server_key(db, "anonymous-cookie")
    assert len(key) >= 60
    assert server_key(second_db, "anonymous-cookie") == key
    assert server_key(db, "another") != key


def test_a_forged_or_guessed_guest_cookie_names_nobody(db: Database) -> None:
    """The attack: set the guest cookie to someone else's token (seen in a log, a
    screenshot, guessed) or to any made-up value. Only values this server signed
    name a guest; the token alone is not enough."""
    key = server_key(db, "anonymous-cookie")
    token = new_guest_token()
    value = sign_guest(key, token)
    assert read_guest(key, value) == token
    assert read_guest(key, token) is None  # the bare token (the old cookie format)
    assert read_guest(key, f"{new_guest_token()}.{value.split('.')[1]}") is None
    assert read_guest(key, value[:-1] + ("0" if value[-1] != "0" else "1")) is None
    assert read_guest("another-servers-key", value) is None
    for junk in ("", ".", "a.b", "x" * 5000, f"{token}.{'0' * 32}"):
        assert read_guest(key, junk) is None
