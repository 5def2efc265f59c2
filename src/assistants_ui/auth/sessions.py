"""Logins that end on the server, and keys the app makes for itself.

`LoginSessions` keeps one `login_sessions` row per login, so that logging
out ends it for whoever holds a copy of the cookie:

- a password login gets a random session id (`start`), carried in the signed
  login cookie; the cookie is honoured only while the row is there,
  unexpired and unrevoked (`active`); "Log out" revokes it (`revoke`);
- a single sign-on login lives in Streamlit's own signed cookie, which the
  app cannot change: its session id is a digest of the ID token inside
  (`oidc_session_id`), and "Log out" records that id as revoked
  (`revoke`, creating the row), so the same cookie replayed later is refused
  (`revoked`).

`server_key(db, name)` is a random secret made once and kept in `app_keys`,
shared by every process and replica (the anonymous cookie's signing key).

Every method is one short transaction; database failures become one
`StorageError` sentence, as everywhere in storage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from assistants_ui.storage.engine import Database
from assistants_ui.storage.models import AppKey, LoginSession, utcnow
from assistants_ui.storage.store import Store, database_errors, guarded

__all__ = ["GUEST_KEY", "LoginSessions", "oidc_session_id", "server_key"]

GUEST_KEY = "anonymous-cookie"  # app_keys: signs the guests' identity cookies
Clock = Callable[[], dt.datetime]
# How long a revoked single sign-on session is remembered: Streamlit's identity
# cookie lives 30 days at most.
OIDC_REVOCATION_DAYS = 31


def oidc_session_id(claims: Mapping[str, Any]) -> str:
    """A stable id for one single sign-on login: a digest of its ID token's claims.

    Every login issues a new ID token (a new `iat`, `nonce`, often `sid`), so
    two logins of the same person get two ids; reloads of one login keep it.
    """
    wanted = {k: claims.get(k) for k in ("iss", "sub", "aud", "iat", "nonce", "sid", "exp")}
    text = json.dumps(wanted, sort_keys=True, default=str)
    return "oidc:" + hashlib.sha256(text.encode()).hexdigest()[:56]


class LoginSessions(Store):
    """The `login_sessions` table; thread- and process-safe."""

    during = " while checking a login session"

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        super().__init__(db)
        self.clock = clock

    @guarded
    def start(self, *, auth_provider: str, subject: str, lifetime: dt.timedelta) -> str:
        """A new login's random id (goes into the login cookie)."""
        now = self.clock()
        sid = secrets.token_urlsafe(32)
        with self.db.session() as s:
            s.add(
                LoginSession(
                    id=sid,
                    auth_provider=auth_provider,
                    subject=subject[:255],
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
            s.execute(delete(LoginSession).where(LoginSession.expires_at < now))
        return sid

    @guarded
    def active(self, sid: str, *, auth_provider: str, subject: str) -> bool:
        """Whether the login `sid` is this person's, unexpired and not logged out."""
        if not sid or len(sid) > 64:
            return False
        with self.db.session() as s:
            row = s.get(LoginSession, sid)
            return (
                row is not None
                and row.revoked_at is None
                and row.expires_at > self.clock()
                and row.auth_provider == auth_provider
                and row.subject == subject[:255]
            )

    @guarded
    def revoked(self, sid: str) -> bool:
        """Whether the login `sid` was logged out (single sign-on: no row means not)."""
        with self.db.session() as s:
            row = s.get(LoginSession, sid)
            return row is not None and row.revoked_at is not None

    @guarded
    def revoke(self, sid: str, *, auth_provider: str, subject: str) -> None:
        """End the login `sid` (recorded even if it was never started here)."""
        now = self.clock()
        for attempt in (1, 2):
            try:
                with self.db.session() as s:
                    done = s.execute(
                        update(LoginSession)
                        .where(LoginSession.id == sid)
                        .values(revoked_at=now)
                        .returning(LoginSession.id)
                    ).one_or_none()
                    if done is None:
                        s.add(
                            LoginSession(
                                id=sid,
                                auth_provider=auth_provider,
                                subject=subject[:255],
                                created_at=now,
                                expires_at=now + dt.timedelta(days=OIDC_REVOCATION_DAYS),
                                revoked_at=now,
                            )
                        )
                return
            except IntegrityError:
                if attempt == 2:  # pragma: no cover - two insert races in a row
                    raise


def server_key(db: Database, name: str) -> str:
    """The app's own random secret `name`, made by whichever process asks first."""
    with database_errors(db, " while reading the app's keys"):
        for attempt in (1, 2):
            try:
                with db.session() as s:
                    value = s.scalar(select(AppKey.value).where(AppKey.name == name))
                    if value is None:
                        value = secrets.token_urlsafe(48)
                        s.add(AppKey(name=name, value=value, created_at=utcnow()))
                    return value
            except IntegrityError:  # another process made it first: read theirs
                if attempt == 2:  # pragma: no cover
                    raise
    raise AssertionError("unreachable")  # pragma: no cover
