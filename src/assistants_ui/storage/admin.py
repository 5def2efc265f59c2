"""What the admin page reads and changes, across users: usage, limits, disabling, audit.

`Repository` is user-scoped (every call names the acting user and sees only
their rows); this module is not, so only the admin page and the checks made
for every user (`is_disabled`, `check_limits`) use it. Every change an admin
makes is written to `admin_audit` in the same transaction (who, what, when).

Counting reads the usage ledger (`usage.py`), never the messages, so that
deleting a conversation changes no one's usage or limits: "messages" are
what users sent (user messages); "tokens" are the input plus output tokens
of the answers, each counted once it ended. Days are UTC days
(`assistants_ui.core.limits.day_window`); a row's time is its message's, in
epoch seconds, so a day is `floor(created_at / 86400)`.

Database failures become one `StorageError` sentence, as in the repository.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, true, update
from sqlalchemy.orm import Session

from assistants_ui.core.limits import (
    EVERYONE,
    GUESTS,
    Exceeded,
    Limit,
    day_window,
    parse_amount,
    user_target,
)
from assistants_ui.storage.codec import escape_like, from_row
from assistants_ui.storage.engine import Database
from assistants_ui.storage.errors import AmountField, AmountRefused, NotFound
from assistants_ui.storage.models import (
    AdminAudit,
    Conversation,
    LoginSession,
    UsageLimit,
    UsageRecord,
    User,
    utcnow,
)
from assistants_ui.storage.store import Store, guarded
from assistants_ui.storage.usage import day_of, usage_sums
from assistants_ui.storage.users import Account, who

__all__ = ["Admin", "AuditEntry", "DayUsage", "UserUsage"]

MAX_USERS_PAGE = 500
MAX_AUDIT = 1000
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class UserUsage(Account):
    """One row of the admin page's user table."""

    last_activity: dt.datetime
    conversations: int
    messages: int
    tokens: int
    disabled: bool

    @property
    def label(self) -> str:
        return _label(self.auth_provider, self.subject, self.display_name, self.email)


@dataclass(frozen=True, slots=True)
class DayUsage:
    """Messages sent and tokens used on one UTC day with one assistant (one user or all)."""

    day: dt.date
    profile_id: str
    messages: int
    tokens: int
    user_id: int | None = None
    user: str = ""  # `per_user`: the user's name (display name, e-mail or login)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: str


def _epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


class Admin(Store):
    """Cross-user reads and the admins' changes. Thread- and process-safe."""

    def __init__(self, db: Database, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        super().__init__(db)
        self.clock = clock

    # -- users ---------------------------------------------------------------------------

    @guarded
    def count_users(self, *, query: str = "") -> int:
        with self.db.session() as s:
            return int(
                s.scalar(select(func.count()).select_from(User).where(_matching(query))) or 0
            )

    @guarded
    def users(self, *, query: str = "", limit: int = 50, offset: int = 0) -> list[UserUsage]:
        """Users, most recently active first, with their totals (all time)."""
        if not 1 <= limit <= MAX_USERS_PAGE or offset < 0:
            raise ValueError(f"limit must be 1..{MAX_USERS_PAGE} and offset >= 0")
        convs = (
            select(
                Conversation.user_id.label("user_id"),
                func.count().label("conversations"),
                func.max(Conversation.updated_at).label("updated"),
            )
            .group_by(Conversation.user_id)
            .subquery()
        )
        last = case((convs.c.updated > User.last_seen_at, convs.c.updated), else_=User.last_seen_at)
        with self.db.session() as s:
            rows = s.execute(
                select(User, func.coalesce(convs.c.conversations, 0), last.label("last"))
                .outerjoin(convs, convs.c.user_id == User.id)
                .where(_matching(query))
                .order_by(last.desc(), User.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            ids = [row[0].id for row in rows]
            totals = {
                uid: (int(messages or 0), int(used or 0))
                for uid, messages, used in s.execute(
                    select(UsageRecord.user_id, *usage_sums())
                    .where(UsageRecord.user_id.in_(ids))
                    .group_by(UsageRecord.user_id)
                )
            }
            return [
                from_row(
                    UserUsage,
                    u,
                    last_activity=_aware(last_at) or u.last_seen_at,
                    conversations=int(conversations),
                    messages=totals.get(u.id, (0, 0))[0],
                    tokens=totals.get(u.id, (0, 0))[1],
                    disabled=u.disabled_at is not None,
                )
                for u, conversations, last_at in rows
            ]

    @guarded
    def is_disabled(self, *, auth_provider: str, subject: str) -> bool:
        """Whether this identity's user was disabled (no row: never disabled)."""
        with self.db.session() as s:
            return (
                s.scalar(
                    select(User.disabled_at).where(
                        User.auth_provider == auth_provider, User.subject == subject
                    )
                )
                is not None
            )

    @guarded
    def set_disabled(self, *, actor: str, user_id: int, disabled: bool) -> None:
        """Disable (signed out at the next action, no sign-in) or enable a user; audited."""
        now = self.clock()
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user")
            if (user.disabled_at is not None) == disabled:
                return  # already so: nothing done, nothing audited
            user.disabled_at = now if disabled else None
            user.disabled_by = actor[:320] if disabled else ""
            if disabled:  # every login cookie of theirs stops working at once
                s.execute(
                    update(LoginSession)
                    .where(
                        LoginSession.auth_provider == user.auth_provider,
                        LoginSession.subject == user.subject,
                        LoginSession.revoked_at.is_(None),
                    )
                    .values(revoked_at=now)
                )
            s.add(
                AdminAudit(
                    at=now,
                    actor=actor[:320],
                    action="disable" if disabled else "enable",
                    target=who(user),
                    detail="",
                )
            )

    # -- usage ---------------------------------------------------------------------------

    @guarded
    def daily_usage(
        self, *, days: int = 30, user_id: int | None = None, per_user: bool = False
    ) -> list[DayUsage]:
        """Messages and tokens per UTC day and assistant over the last `days` days.

        `user_id`: one user's; `per_user`: one row per user, day and assistant
        (the CSV download); otherwise all users together (the chart).
        """
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be 1..{MAX_DAYS}")
        start, _ = day_window(self.clock())
        since = start - dt.timedelta(days=days - 1)
        day = day_of(self.db.dialect).label("day")
        columns: list[Any] = [day, UsageRecord.profile_id, *usage_sums()]
        groups: list[Any] = [day, UsageRecord.profile_id]
        if per_user:
            columns += [UsageRecord.user_id, User.auth_provider, User.subject, User.display_name]
            columns.append(User.email)
            groups += [UsageRecord.user_id, User.auth_provider, User.subject]
            groups += [User.display_name, User.email]
        query = (
            select(*columns)
            .where(UsageRecord.created_at >= _epoch(since))
            .group_by(*groups)
            .order_by(*groups)
        )
        if per_user:
            query = query.join(User, User.id == UsageRecord.user_id)
        if user_id is not None:
            query = query.where(UsageRecord.user_id == user_id)
        with self.db.session() as s:
            return [
                DayUsage(
                    day=_date(row[0]),
                    profile_id=row[1],
                    messages=int(row[2] or 0),
                    tokens=int(row[3] or 0),
                    user_id=row[4] if per_user else None,
                    user=_label(row[5], row[6], row[7], row[8]) if per_user else "",
                )
                for row in s.execute(query)
            ]

    # -- limits --------------------------------------------------------------------------

    @guarded
    def limits(self, *, targets: Iterable[str] | None = None) -> list[Limit]:
        """The limits set, for `targets` only if given."""
        query = select(UsageLimit).order_by(UsageLimit.target, UsageLimit.profile_id)
        if targets is not None:
            query = query.where(UsageLimit.target.in_(list(targets)))
        with self.db.session() as s:
            return [
                from_row(Limit, r, messages=r.messages_per_day, tokens=r.tokens_per_day)
                for r in s.scalars(query)
            ]

    @guarded
    def set_limit(
        self,
        *,
        actor: str,
        target: str,
        profile_id: str = "",
        messages: object = None,
        tokens: object = None,
    ) -> Limit | None:
        """Set (or with both blank, remove) a limit; audited.

        `messages` and `tokens` are what the admin typed (`parse_amount`):
        nonsense raises ValueError naming the field, before anything changes.
        """
        _check_target(target)
        if len(profile_id) > 64:
            raise ValueError("an assistant id is at most 64 characters")
        amounts: dict[AmountField, int | None] = {}
        typed: tuple[tuple[AmountField, object], ...] = (("messages", messages), ("tokens", tokens))
        for name, raw in typed:
            try:
                amounts[name] = parse_amount(raw)
            except ValueError as exc:
                raise AmountRefused(name, str(exc)) from None
        per_day, tokens_per_day = amounts["messages"], amounts["tokens"]
        now = self.clock()
        with self.db.session() as s:
            if target.startswith("user:") and s.get(User, int(target[5:])) is None:
                raise NotFound("user")
            row = s.get(UsageLimit, (target, profile_id))
            if per_day is None and tokens_per_day is None:
                if row is None:
                    return None
                s.delete(row)
                limit = None
                action, detail = "remove_limit", _scope(profile_id)
            else:
                if row is None:
                    row = UsageLimit(target=target, profile_id=profile_id)
                    s.add(row)
                row.messages_per_day = per_day
                row.tokens_per_day = tokens_per_day
                row.updated_at = now
                row.updated_by = actor[:320]
                limit = Limit(target, profile_id, per_day, tokens_per_day)
                action, detail = "set_limit", f"{_scope(profile_id)}: {_amounts(limit)}"
            s.add(
                AdminAudit(
                    at=now,
                    actor=actor[:320],
                    action=action,
                    target=self._target_label(s, target),
                    detail=detail,
                )
            )
            return limit

    def _target_label(self, s: Session, target: str) -> str:
        if target.startswith("user:"):
            user = s.get(User, int(target[5:]))
            return who(user) if user is not None else target
        return "every guest" if target == GUESTS else "everyone"

    @guarded
    def check_limits(
        self, *, user_id: int | None, guest: bool, profile_id: str, address: str | None = None
    ) -> Exceeded | None:
        """The first limit this user has reached for `profile_id` today (None: may send).

        `user_id` None: a guest with no row yet (has used nothing, but a
        limit of 0 still blocks). `address` (a guest's, as `note_guest_address`
        keeps it): the guests' and everyone's limits count every guest of that
        address together, so a guest that deletes its cookie starts no new count.
        """
        now = self.clock()
        start, end = day_window(now)
        targets = [user_target(user_id)] if user_id is not None else []
        targets += [GUESTS, EVERYONE] if guest else [EVERYONE]
        with self.db.session() as s:
            rows = s.scalars(
                select(UsageLimit).where(
                    UsageLimit.target.in_(targets), UsageLimit.profile_id.in_(["", profile_id])
                )
            ).all()
            if not rows:
                return None
            applying = _most_specific(rows, targets)
            own = _used(s, [user_id] if user_id is not None else [], start)
            shared = own
            if guest and address is not None:
                neighbours = s.scalars(
                    select(User.id).where(
                        User.auth_provider == "anonymous", User.guest_address == address
                    )
                ).all()
                shared = _used(s, sorted({*neighbours, *([user_id] if user_id else [])}), start)
        for row in applying:
            # A guest's own limit counts that browser; the guests' and everyone's, its address.
            used = own if row.target == user_target(user_id or 0) else shared
            if row.profile_id:
                messages, tokens = used.get(row.profile_id, (0, 0))
            else:
                messages = sum(m for m, _ in used.values())
                tokens = sum(t for _, t in used.values())
            if row.messages_per_day is not None and messages >= row.messages_per_day:
                return Exceeded("messages", row.messages_per_day, messages, row.profile_id, end)
            if row.tokens_per_day is not None and tokens >= row.tokens_per_day:
                return Exceeded("tokens", row.tokens_per_day, tokens, row.profile_id, end)
        return None

    @guarded
    def note_guest_address(self, *, user_id: int, address: str) -> None:
        """Where this guest sends from now (a keyed digest; not for anyone else's row)."""
        with self.db.session() as s:
            s.execute(
                update(User)
                .where(User.id == user_id, User.auth_provider == "anonymous")
                .where(or_(User.guest_address.is_(None), User.guest_address != address))
                .values(guest_address=address)
            )

    # -- audit ---------------------------------------------------------------------------

    @guarded
    def audit(self, *, limit: int = 100) -> list[AuditEntry]:
        """The latest admin actions, newest first."""
        if not 1 <= limit <= MAX_AUDIT:
            raise ValueError(f"limit must be 1..{MAX_AUDIT}")
        with self.db.session() as s:
            return [
                from_row(AuditEntry, r)
                for r in s.scalars(
                    select(AdminAudit)
                    .order_by(AdminAudit.at.desc(), AdminAudit.id.desc())
                    .limit(limit)
                )
            ]


def _used(s: Session, user_ids: Sequence[int], start: dt.datetime) -> dict[str, tuple[int, int]]:
    """Messages sent and tokens used since `start` by these users, per assistant: the
    usage ledger's rows (deleting a conversation leaves them)."""
    if not user_ids:
        return {}
    return {
        pid: (int(m or 0), int(t or 0))
        for pid, m, t in s.execute(
            select(UsageRecord.profile_id, *usage_sums())
            .where(
                UsageRecord.user_id.in_(user_ids),  # the (user_id, created_at) index
                UsageRecord.created_at >= _epoch(start),
            )
            .group_by(UsageRecord.profile_id)
        )
    }


def _matching(query: str) -> ColumnElement[bool]:
    text = query.strip().lower()
    if not text:
        return true()
    pattern = f"%{escape_like(text)}%"
    return or_(
        func.lower(User.subject).like(pattern, escape="\\"),
        func.lower(User.display_name).like(pattern, escape="\\"),
        func.lower(User.email).like(pattern, escape="\\"),
    )


def _check_target(target: str) -> None:
    if target in (EVERYONE, GUESTS):
        return
    if target.startswith("user:") and target[5:].isdigit():
        return
    raise ValueError(f"a limit applies to a user, every guest or everyone (got {target!r})")


def _most_specific(rows: Sequence[UsageLimit], targets: list[str]) -> list[UsageLimit]:
    """Per scope (one assistant, all assistants), the limit of the first matching target."""
    chosen: dict[str, UsageLimit] = {}
    for target in targets:
        for row in rows:
            if row.target == target and row.profile_id not in chosen:
                chosen[row.profile_id] = row
    return sorted(chosen.values(), key=lambda r: r.profile_id == "")  # this assistant's first


def _label(auth_provider: str, subject: str, display_name: str, email: str) -> str:
    """How the admin page names a user (a guest by the start of its browser token)."""
    if auth_provider == "anonymous":
        return f"Guest {subject[:8]}"
    return display_name or email or subject


def _scope(profile_id: str) -> str:
    return f"assistant {profile_id}" if profile_id else "all assistants"


def _amounts(limit: Limit) -> str:
    parts = []
    if limit.messages is not None:
        parts.append(f"{limit.messages:,} messages/day")
    if limit.tokens is not None:
        parts.append(f"{limit.tokens:,} tokens/day")
    return ", ".join(parts)


def _date(day_number: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day_number))


def _aware(value: object) -> dt.datetime | None:
    """A max() over a UTC column comes back naive from SQLite (the type is lost)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
