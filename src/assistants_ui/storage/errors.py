"""The two errors storage raises: the database failed, or a thing is not yours.

`StorageError` carries one sentence for people (it names `DATABASE_URL` and
what is wrong, never a password); the page shows it instead of a traceback.
`NotFound` is what a missing id, a malformed id and another user's id all
look like, so that nobody can probe which ids exist. `ShareRevoked` is a
share link its owner withdrew.
"""

from __future__ import annotations

__all__ = ["NotFound", "ShareRevoked", "StorageError"]


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
