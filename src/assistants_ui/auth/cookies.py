"""The `[cookie]` table: the re-authentication cookie's name, key and lifetime.

After a password login the browser keeps a signed cookie so that a reload
does not ask again. The cookie is a JWT (HS256, signed with `[cookie] key`)
carrying streamlit-authenticator's claims (`username`, `exp_date`) plus a
standard `exp`, `pwd`, a keyed fingerprint of the account's stored
password: changing or removing the password (`assistants-ui users passwd`)
ends every session that password opened, and `sid`, the login's id in
`login_sessions`: logging out revokes it, so a copy of the cookie stops
working too (`assistants_ui.auth.sessions`).

Guests (no login required) get an identity cookie of their own: a random
token and an HMAC of it under a key the server keeps (`sign_guest`,
`read_guest`), so a forged or guessed value is refused and becomes a new
guest, never someone else's history.

The key policy: start-up refuses a missing key, the sample keys of the
streamlit-authenticator README (`some_signature_key`, `some_key`, ...) and
any key shorter than 32 characters, with a `Problem` naming `[cookie] key`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from assistants_ui.settings import Problem

__all__ = [
    "DEFAULT_COOKIE_NAME",
    "MIN_KEY_LENGTH",
    "SAMPLE_KEYS",
    "CookieConfig",
    "TokenClaims",
    "new_guest_token",
    "parse_cookie_table",
    "password_fingerprint",
    "read_guest",
    "sign_guest",
    "suggest_key",
]

DEFAULT_COOKIE_NAME = "assistants_ui_auth"
DEFAULT_EXPIRY_DAYS = 30.0
MIN_KEY_LENGTH = 32
# Keys published in examples (streamlit-authenticator's README and config.yaml,
# the original project's secrets.toml): anyone could forge a cookie with them.
SAMPLE_KEYS = frozenset(
    {
        "some_signature_key",
        "some_key",
        "random_signature_key",
        "signature_key",
        "abcdef",
        "key",
        "secret",
        "changeme",
        "change_me",
        "your_key",
        "your-secret-key",
    }
)
_ALGORITHM = "HS256"
_COOKIE_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")


def suggest_key() -> str:
    """A fresh random key for `[cookie] key` (43 characters)."""
    return secrets.token_urlsafe(32)


def _key_hint() -> str:
    return (
        'set `key = "<at least 32 random characters>"` under [cookie] in '
        ".streamlit/secrets.toml, e.g. the output of "
        '`python -c "import secrets; print(secrets.token_urlsafe(32))"`'
    )


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid cookie says."""

    username: str
    fingerprint: str
    expires_at: dt.datetime
    session_id: str


@dataclass(frozen=True, slots=True)
class CookieConfig:
    """A validated `[cookie]` table. `expiry_days == 0`: no cookie, sign in every visit."""

    name: str
    key: str = field(repr=False)
    expiry_days: float = DEFAULT_EXPIRY_DAYS

    @property
    def enabled(self) -> bool:
        return self.expiry_days > 0

    def issue(
        self, *, username: str, fingerprint: str, session_id: str, now: dt.datetime | None = None
    ) -> str:
        """A signed cookie value for this user's login `session_id`."""
        now = now or dt.datetime.now(dt.UTC)
        expires = now + dt.timedelta(days=self.expiry_days)
        claims = {
            "username": username,
            "exp_date": expires.timestamp(),  # streamlit-authenticator's claim
            "exp": int(expires.timestamp()),
            "iat": int(now.timestamp()),
            "pwd": fingerprint,
            "sid": session_id,
        }
        return jwt.encode(claims, self.key, algorithm=_ALGORITHM)

    def read(self, token: str | None) -> TokenClaims | None:
        """The claims of a valid, unexpired cookie signed with our key; else None."""
        if not token or len(token) > 4096:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.key,
                algorithms=[_ALGORITHM],
                options={"require": ["exp", "username", "pwd", "sid"]},
            )
        except jwt.PyJWTError:
            return None
        username, fingerprint = claims.get("username"), claims.get("pwd")
        session_id = claims.get("sid")
        if (
            not isinstance(username, str)
            or not isinstance(fingerprint, str)
            or not isinstance(session_id, str)
        ):
            return None
        return TokenClaims(
            username=username,
            fingerprint=fingerprint,
            expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
            session_id=session_id,
        )

    @property
    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(days=self.expiry_days)

    def max_age_seconds(self) -> int:
        return int(self.expiry_days * 86400)


_GUEST_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def new_guest_token() -> str:
    """A fresh guest identity: 32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


def _guest_mac(key: str, token: str) -> str:
    return hmac.new(key.encode(), f"guest\0{token}".encode(), hashlib.sha256).hexdigest()[:32]


def sign_guest(key: str, token: str) -> str:
    """The guest cookie's value: `<token>.<HMAC of it>`."""
    return f"{token}.{_guest_mac(key, token)}"


def read_guest(key: str, value: str | None) -> str | None:
    """The guest token of a cookie this server signed; None for anything else."""
    if not value or len(value) > 128 or "." not in value:
        return None
    token, _, mac = value.partition(".")
    if not _GUEST_TOKEN.fullmatch(token):
        return None
    return token if hmac.compare_digest(mac, _guest_mac(key, token)) else None


def password_fingerprint(key: str, username: str, stored_password: str) -> str:
    """A keyed fingerprint of the stored password (hash, or plain text as found).

    Goes into the cookie: it changes when the password does, and without the
    key it tells nothing about the password.
    """
    message = f"{username}\0{stored_password}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


def parse_cookie_table(
    table: Mapping[str, Any] | None, source: str
) -> tuple[CookieConfig | None, list[Problem]]:
    """Validate `[cookie]`; the config is None whenever the key is unusable."""
    problems: list[Problem] = []
    table = table or {}
    name = table.get("name", DEFAULT_COOKIE_NAME)
    if not isinstance(name, str) or not _COOKIE_NAME.fullmatch(name):
        problems.append(
            Problem(
                "[cookie] name",
                f"in {source} must be 1-64 letters, digits or -_. (got {name!r})",
            )
        )
        name = DEFAULT_COOKIE_NAME
    expiry = table.get("expiry_days", DEFAULT_EXPIRY_DAYS)
    if isinstance(expiry, bool) or not isinstance(expiry, int | float) or not 0 <= expiry <= 3650:
        problems.append(
            Problem(
                "[cookie] expiry_days",
                f"in {source} must be a number of days from 0 (no cookie) to 3650 (got {expiry!r})",
            )
        )
        expiry = DEFAULT_EXPIRY_DAYS
    key = table.get("key")
    key_problem = _key_problem(key, source)
    if key_problem is not None:
        problems.append(key_problem)
        return None, problems
    assert isinstance(key, str)
    return CookieConfig(name=name, key=key, expiry_days=float(expiry)), problems


def _key_problem(key: object, source: str) -> Problem | None:
    if key is None or (isinstance(key, str) and not key.strip()):
        return Problem("[cookie] key", f"is missing in {source}: {_key_hint()}.")
    if not isinstance(key, str):
        return Problem("[cookie] key", f"in {source} must be a string: {_key_hint()}.")
    if key.strip().lower() in SAMPLE_KEYS:
        return Problem(
            "[cookie] key",
            f"in {source} is a published sample key, so anyone could forge a login "
            f"cookie: {_key_hint()}.",
        )
    if len(key) < MIN_KEY_LENGTH:
        return Problem(
            "[cookie] key",
            f"in {source} is too short ({len(key)} characters; at least {MIN_KEY_LENGTH}): "
            f"{_key_hint()}.",
        )
    return None
