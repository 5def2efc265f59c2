"""The two errors storage raises: the database failed, or a thing is not yours.

`StorageError` carries one sentence for people (it names `DATABASE_URL` and
what is wrong, never a password); the page shows it instead of a traceback.
`NotFound` is what a missing id, a malformed id and another user's id all
look like, so that nobody can probe which ids exist. `ShareRevoked` is a
share link its owner withdrew. `describe(exc)` is the driver's own first
line, which the sentences quote.
"""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

__all__ = ["NotFound", "ShareRevoked", "StorageError", "describe", "shown_url"]


class StorageError(Exception):
    """The history database cannot be used; `str(error)` says why in one sentence."""


class NotFound(LookupError):
    """No such conversation or file for this user (or the id is malformed)."""

    def __init__(self, what: str = "conversation") -> None:
        super().__init__(f"{what} not found")
        self.what = what


class ShareRevoked(LookupError):
    """A share link whose owner revoked it."""

    def __init__(self) -> None:
        super().__init__("share revoked")


def describe(exc: BaseException) -> str:
    """The first line of the driver's own message, without SQLAlchemy's decoration."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(inner).strip().splitlines()
    return text[0].strip() if text else type(inner).__name__


def shown_url(url: URL) -> str:
    """A database URL as sentences and logs show it: its password masked."""
    return url.render_as_string(hide_password=True)
