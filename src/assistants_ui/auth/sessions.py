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

This module decides (ids, lifetimes, when a login is honoured); the rows
are `storage.logins`'s, one short transaction per call, whose database
failures become one `StorageError` sentence, as everywhere in storage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from assistants_ui.storage.engine import Database
from assistants_ui.storage.logins import AppKeys, LoginRecord, LoginRecords
from assistants_ui.storage.models import utcnow

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


class LoginSessions:
    """Logins that logging out ends; thread- and process-safe."""

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self.records = LoginRecords(db)
        self.clock = clock

    def start(self, *, auth_provider: str, subject: str, lifetime: dt.timedelta) -> str:
        """A new login's random id (goes into the login cookie)."""
        now = self.clock()
        sid = secrets.token_urlsafe(32)
        self.records.add(LoginRecord(sid, auth_provider, subject[:255], now, now + lifetime, None))
        return sid

    def active(self, sid: str, *, auth_provider: str, subject: str) -> bool:
        """Whether the login `sid` is this person's, unexpired and not logged out."""
        if not sid or len(sid) > 64:
            return False
        login = self.records.find(sid)
        return (
            login is not None
            and login.revoked_at is None
            and login.expires_at > self.clock()
            and login.auth_provider == auth_provider
            and login.subject == subject[:255]
        )

    def revoked(self, sid: str) -> bool:
        """Whether the login `sid` was logged out (single sign-on: no row means not)."""
        login = self.records.find(sid)
        return login is not None and login.revoked_at is not None

    def revoke(self, sid: str, *, auth_provider: str, subject: str) -> None:
        """End the login `sid` (recorded even if it was never started here)."""
        now = self.clock()
        until = now + dt.timedelta(days=OIDC_REVOCATION_DAYS)
        self.records.revoke(LoginRecord(sid, auth_provider, subject[:255], now, until, now))


def server_key(db: Database, name: str) -> str:
    """The app's own random secret `name`, made by whichever process asks first."""
    return AppKeys(db).get_or_add(name, lambda: secrets.token_urlsafe(48))
