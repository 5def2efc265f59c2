"""Users: one row per identity that signed in (or guest browser that saved something).

Owns the `users` table as the chat sees it: `ensure_user` (created on first
sign-in, the visit noted), `find_user` (never creates), the interface
language kept with the account. `UserInfo` is the record callers get,
built from the row by `user_info` and nowhere else. An identity is
(`auth_provider`, `subject`): `password`/`alice`, `oidc`/`<iss>|<sub>`,
`anonymous`/`<browser token>`. Disabling and the admin page's totals are
`admin.py`'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from assistants_ui.storage.codec import from_row
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.models import User, utcnow
from assistants_ui.storage.store import Store, guarded

__all__ = ["Account", "UserInfo", "Users", "by_identity", "user_info", "who"]


@dataclass(frozen=True, slots=True)
class Account:
    """Who a user is: what every record of a user starts with."""

    id: int
    auth_provider: str
    subject: str
    display_name: str
    email: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class UserInfo(Account):
    last_seen_at: dt.datetime
    language: str | None = None  # the interface language chosen; None: the browser's


def user_info(row: User) -> UserInfo:
    return from_row(UserInfo, row)


def who(user: User) -> str:
    """How the audit log names a user: their name and their identity."""
    name = user.display_name or user.email
    base = f"{user.auth_provider}:{user.subject}"
    return f"{name} ({base})" if name else base


def by_identity(auth_provider: str, subject: str) -> Select[User]:
    """The user row of one identity."""
    return select(User).where(User.auth_provider == auth_provider, User.subject == subject)


class Users(Store):
    """The `users` table as the chat uses it."""

    @guarded
    def ensure_user(
        self,
        *,
        auth_provider: str,
        subject: str,
        display_name: str | None = None,
        email: str | None = None,
    ) -> UserInfo:
        """The user with this identity, created on first sign-in; notes the visit."""
        if not auth_provider or len(auth_provider) > 64:
            raise ValueError("auth_provider must be 1..64 characters")
        if not subject or len(subject) > 255:
            raise ValueError("subject must be 1..255 characters")

        def ensure(s: Session) -> UserInfo:
            user = s.scalars(by_identity(auth_provider, subject)).one_or_none()
            now = utcnow()
            if user is None:
                user = User(
                    auth_provider=auth_provider,
                    subject=subject,
                    display_name="",
                    email="",
                    created_at=now,
                )
                s.add(user)
            user.last_seen_at = now
            if display_name is not None:
                user.display_name = display_name[:255]
            if email is not None:
                user.email = email[:320]
            s.flush()
            return user_info(user)

        return self.racing(ensure)

    @guarded
    def find_user(self, *, auth_provider: str, subject: str) -> UserInfo | None:
        """The user with this identity if it has a row (never creates one)."""
        with self.db.session() as s:
            user = s.scalars(by_identity(auth_provider, subject)).one_or_none()
            return user_info(user) if user is not None else None

    @guarded
    def set_language(self, *, user_id: int, language: str | None) -> None:
        """Remember the user's interface language (None: follow the browser)."""
        if language is not None and not 1 <= len(language) <= 16:
            raise ValueError("language must be 1..16 characters")
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user")
            user.language = language
