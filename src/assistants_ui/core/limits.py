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
    """`moment - now` in words: "3 h 12 min", "45 min", "less than a minute"."""
    minutes = int((moment - now).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


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
        raise ValueError(f"{str(raw).strip()!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{value} is negative (0 blocks, blank means no cap)")
    if value > MAX_PER_DAY:
        raise ValueError(f"{value:,} is more than {MAX_PER_DAY:,} per day")
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
        scope = "with this assistant" if self.profile_id else "across all assistants"
        if self.allowed == 0:
            what = f"Sending is blocked for you {scope} today"
        else:
            unit = "message" if self.kind == "messages" else "token"
            plural = "" if self.allowed == 1 else "s"
            what = (
                f"You have reached your daily limit of {self.allowed:,} {unit}{plural} {scope} "
                f"({self.used:,} used today)"
            )
        return (
            f"Not sent: {what}. The limit resets at {self.resets_at:%H:%M} UTC "
            f"({self.resets_at:%Y-%m-%d}), in {until(self.resets_at, now)}. "
            "Nothing was saved or sent."
        )
