"""What goes wrong in storage, as typed errors with codes and slots, and how each is worded.

- `StorageError(code, **slots)`: the database cannot be used. The code says
  what went wrong, the slots what is known (`url`, always with its password
  masked, `cause`: the driver's own first line, `describe(exc)`, ...);
  `str(error)` is the code's one sentence from `SENTENCES`, which names
  DATABASE_URL. The page shows it instead of a traceback; `check` and the
  `db` commands print it.
- `NotFound(what)`: what a missing id, a malformed id and another user's id
  all look like, so that nobody can probe which ids exist.
- `ShareRevoked`: a share link its owner withdrew.
- `TooManyShares(most)`: a new share link refused, the user having
  MAX_SHARES_PER_USER links that still open (0: sharing is off).
- `AmountRefused(field, reason)`: an admin's daily limit that is not a
  whole number of at least 0 (`ValueError`).
- `SkippedFile`: not an error but a notice: a file whose bytes were over
  MAX_STORED_FILE_MB, so only its metadata was kept.

- `INTERRUPTED`: the note a cut-off answer is loaded with.

Storage's sentences are written here, and the other modules raise these
with their slots; this is the only storage module that imports `i18n`.
(The admin page's labels for users and audit entries, `admin.py`, are
English words stored with the audit log.) `SENTENCES` and `INTERRUPTED` are
English, as they always were (operators read them in logs and the CLI
too); the notices are translated (`_()`), in the reader's language when
they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from assistants_ui.i18n import N_, _, format_number, ngettext

__all__ = [
    "INTERRUPTED",
    "SENTENCES",
    "AmountRefused",
    "NotFound",
    "ShareRevoked",
    "SkippedFile",
    "StorageError",
    "TooManyShares",
    "describe",
    "shown_url",
]

INTERRUPTED = "The answer was cut off: the app stopped while it was being written."

StorageCode = Literal[
    "not_a_url",
    "unsupported_url",
    "cannot_create_folder",
    "cannot_connect",
    "cannot_migrate",
    "schema_too_new",
    "failed",
]
EXPECTED = "expected sqlite:///data/assistants-ui.db or postgresql://user:password@host:5432/dbname"

SENTENCES: dict[StorageCode, str] = {
    "not_a_url": "DATABASE_URL is not a database URL (%(shown)r); " + EXPECTED + ".",
    "unsupported_url": (
        "DATABASE_URL %(url)r names an unsupported database or driver %(driver)r; " + EXPECTED + "."
    ),
    "cannot_create_folder": (
        "DATABASE_URL %(url)r: cannot create the folder %(folder)r (%(cause)s)."
    ),
    "cannot_connect": "DATABASE_URL %(url)r: cannot connect (%(cause)s).",
    "cannot_migrate": (
        "DATABASE_URL %(url)r: could not bring the schema up to date (%(cause)s); "
        "nothing was changed."
    ),
    "schema_too_new": (
        "DATABASE_URL %(url)r holds a schema at revision %(revision)r, newer than this version "
        "of Assistants UI knows (its newest is %(head)r); upgrade Assistants UI or use another "
        "database. Nothing was changed."
    ),
    # `during`: what the store was doing, e.g. " while checking a login" (Store.during).
    "failed": "The history database (DATABASE_URL %(url)r) failed%(during)s: %(cause)s.",
}


class StorageError(Exception):
    """The history database cannot be used; `str(error)` says why in one sentence."""

    def __init__(self, code: StorageCode, **slots: str) -> None:
        super().__init__(code, slots)
        self.code = code
        self.slots = slots

    def __str__(self) -> str:
        return SENTENCES[self.code] % self.slots


Thing = Literal["conversation", "message", "user", "share", "file", "project", "prompt"]


class NotFound(LookupError):
    """No such conversation, message, user, share or shared file for this user (or the id
    is malformed)."""

    def __init__(self, what: Thing = "conversation") -> None:
        super().__init__(f"{what} not found")
        self.what = what


class ShareRevoked(LookupError):
    """A share link whose owner revoked it."""

    def __init__(self) -> None:
        super().__init__("share revoked")


class TooManyShares(Exception):
    """A new share link refused: the user already has `most` links that open."""

    def __init__(self, most: int) -> None:
        super().__init__(most)
        self.most = most

    def __str__(self) -> str:
        if self.most == 0:
            return _("Not shared: share links are turned off on this app.")
        return ngettext(
            "Not shared: you already have %(n)s share link, the most this app allows; "
            "revoke it (in its conversation's menu) to make another.",
            "Not shared: you already have %(n)s share links, the most this app allows; "
            "revoke one (in its conversation's menu) to make another.",
            self.most,
        ) % {"n": format_number(self.most)}


AmountField = Literal["messages", "tokens"]
_FIELDS: dict[AmountField, str] = {
    "messages": N_("Messages per day"),
    "tokens": N_("Tokens per day"),
}


class AmountRefused(ValueError):
    """A daily limit typed by an admin that is not an amount; `reason` says why."""

    def __init__(self, field: AmountField, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return _("%(field)s: %(reason)s.") % {
            "field": _(_FIELDS[self.field]),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file whose bytes were not kept (too large); its metadata was."""

    name: str
    size: int
    limit: int

    def __str__(self) -> str:
        return _(
            "%(name)s (%(size)s MB) is over the %(limit)s MB limit for stored files "
            "(MAX_STORED_FILE_MB): the message was saved, the file itself will not be kept "
            "in history."
        ) % {
            "name": self.name,
            "size": format_number(self.size / 1_048_576, digits=1),
            "limit": format_number(self.limit / 1_048_576, digits=2),
        }


def describe(exc: BaseException) -> str:
    """The first line of the driver's own message, without SQLAlchemy's decoration."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(inner).strip().splitlines()
    return text[0].strip() if text else type(inner).__name__


def shown_url(url: URL) -> str:
    """A database URL as sentences and logs show it: its password masked."""
    return url.render_as_string(hide_password=True)
