"""Per-user daily limits: the window they count in, and the sentence a refusal shows.

Pure Python (no storage, no Streamlit): storage counts what was used in the
window (`assistants_ui.storage.admin.Admin.check_limits`), the page shows
`Exceeded.message(now)`.

A day is the UTC calendar day: usage counts from 00:00 UTC and every limit
resets at the next 00:00 UTC, the same moment for every user and replica.
A limit names whom it applies to (`target`: one user, every guest, or
everyone), which assistant (`profile_id`, "" for all of them together) and
how many messages and/or tokens per day. For one person and one scope the
most specific target wins (their own limit, then the guests' one for a
guest, then everyone's); the per-assistant and the all-assistants limits
both apply.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date, format_time

from assistants_ui.i18n import _, current, format_number, ngettext

__all__ = [
    "EVERYONE",
    "GUESTS",
    "MAX_PER_DAY",
    "Exceeded",
    "Limit",
    "day_window",
    "parse_amount",
    "until",
    "user_target",
]

EVERYONE = "everyone"  # a limit for every user without one of their own
GUESTS = "guests"  # a limit for every anonymous browser without one of its own
MAX_PER_DAY = 1_000_000_000  # larger is not a limit, it is a typo
DAY = dt.timedelta(days=1)


def user_target(user_id: int) -> str:
    """The `target` of a limit for one user."""
    return f"user:{user_id}"


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `messages` messages and/or `tokens` tokens per day (None: no cap)."""

    target: str
    profile_id: str = ""  # "": all assistants together
    messages: int | None = None
    tokens: int | None = None


def day_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The UTC day `now` falls in: [start, end), end being when limits reset."""
    if now.tzinfo is None:
        raise ValueError("a naive datetime has no day")
    utc = now.astimezone(dt.UTC)
    start = dt.datetime(utc.year, utc.month, utc.day, tzinfo=dt.UTC)
    return start, start + DAY


def until(moment: dt.datetime, now: dt.datetime) -> str:
    """`moment - now` in words, in the active language: "3 h 12 min", "45 min",
    "less than a minute"."""
    minutes = int((moment - now).total_seconds() // 60)
    if minutes < 1:
        return _("less than a minute")
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)s min") % {"minutes": minutes}
    if not minutes:
        return _("%(hours)s h") % {"hours": hours}
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}


def parse_amount(raw: object) -> int | None:
    """A per-day amount typed by an admin: blank is "no cap"; anything else a whole number.

    Raises ValueError with a sentence saying what is wrong (negative, not a
    number, absurdly large).
    """
    if raw is None:
        return None
    text = str(raw).strip().replace(",", "").replace("_", "")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(
            _("%(value)s is not a whole number") % {"value": repr(str(raw).strip())}
        ) from None
    if value < 0:
        raise ValueError(
            _("%(value)s is negative (0 blocks, blank means no cap)") % {"value": value}
        )
    if value > MAX_PER_DAY:
        raise ValueError(
            _("%(value)s is more than %(most)s per day")
            % {"value": format_number(value), "most": format_number(MAX_PER_DAY)}
        )
    return value


@dataclass(frozen=True, slots=True)
class Exceeded:
    """A limit reached: what, how much, for which assistant, and when it resets."""

    kind: str  # "messages" | "tokens"
    allowed: int
    used: int
    profile_id: str  # "": all assistants together
    resets_at: dt.datetime

    def message(self, now: dt.datetime) -> str:
        """The refusal, in the active language: what was reached, and when it resets."""
        return _(
            "Not sent: %(what)s. The limit resets at %(time)s UTC (%(day)s), in %(left)s. "
            "Nothing was saved or sent."
        ) % {
            "what": self._what(),
            "time": format_time(self.resets_at, "HH:mm", tzinfo=dt.UTC, locale=current()),
            # The day's pattern is the translators' (`2026-03-02`, `2026年3月2日`).
            "day": format_date(self.resets_at, _("yyyy-MM-dd"), locale=current()),
            "left": until(self.resets_at, now),
        }

    def _what(self) -> str:
        if self.allowed == 0:
            if self.profile_id:
                return _("Sending is blocked for you with this assistant today")
            return _("Sending is blocked for you across all assistants today")
        figures = {"n": format_number(self.allowed), "used": format_number(self.used)}
        if self.kind == "messages" and self.profile_id:
            what = ngettext(
                "You have reached your daily limit of %(n)s message with this assistant "
                "(%(used)s used today)",
                "You have reached your daily limit of %(n)s messages with this assistant "
                "(%(used)s used today)",
                self.allowed,
            )
        elif self.kind == "messages":
            what = ngettext(
                "You have reached your daily limit of %(n)s message across all assistants "
                "(%(used)s used today)",
                "You have reached your daily limit of %(n)s messages across all assistants "
                "(%(used)s used today)",
                self.allowed,
            )
        elif self.profile_id:
            what = ngettext(
                "You have reached your daily limit of %(n)s token with this assistant "
                "(%(used)s used today)",
                "You have reached your daily limit of %(n)s tokens with this assistant "
                "(%(used)s used today)",
                self.allowed,
            )
        else:
            what = ngettext(
                "You have reached your daily limit of %(n)s token across all assistants "
                "(%(used)s used today)",
                "You have reached your daily limit of %(n)s tokens across all assistants "
                "(%(used)s used today)",
                self.allowed,
            )
        return what % figures
