"""Temporary chats, retention, and the remote state of deleted conversations.

Owns `temporary_chats`, `remote_deletions` and `sweep_runs`.

- **Temporary chats** are conversations like any other (their answers are
  saved by the worker that writes them, so the page may go away) with a
  `temporary_chats` row: the history never lists or finds them
  (`Conversations._page`), the page discards one when it is closed
  (`TemporaryChats.discard_temporary`) and the sweep when it expires
  (`Retention.discard_expired`), whichever comes first.
- **Retention** (RETENTION_DAYS): `Retention.purge` deletes one conversation
  whose last activity is older than the cut-off, in one transaction with its
  audit-log row (`admin_audit`, actor `retention`): an interrupted run leaves
  every conversation either whole or gone with its row, and the next run
  goes on. The usage ledger (`usage_records`) is never touched.
- **Remote state** of every conversation deleted here (each branch's
  `remote`: a remote conversation, thread or vector store) is queued in
  `remote_deletions` in that same transaction (`delete_and_queue`), and
  deleted on its server by the process's housekeeping
  (`assistants_ui.housekeeping`), which claims rows so that two replicas do
  not both work on one, and drops a row once its server deleted it (or after
  `MAX_REMOTE_ATTEMPTS`).
- **One replica runs a periodic job** (`claim`): a `sweep_runs` row per job
  holds who runs it until when and when it last finished; claiming is one
  UPDATE whose condition only one process can meet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistants_ui.core.backend import distinct_remotes
from assistants_ui.storage.conversations import check_id, owned
from assistants_ui.storage.models import (
    AdminAudit,
    Conversation,
    RemoteDeletion,
    StoredMessage,
    SweepRun,
    TemporaryChat,
    User,
    utcnow,
)
from assistants_ui.storage.store import Store, guarded

__all__ = [
    "MAX_REMOTE_ATTEMPTS",
    "PURGE_ACTION",
    "RemoteWork",
    "Retention",
    "TemporaryChats",
    "delete_and_queue",
    "is_temporary",
]

PURGE_ACTION = "retention_purge"  # admin_audit.action of a conversation retention deleted
MAX_REMOTE_ATTEMPTS = 5  # a remote state its server refused this often is given up


@dataclass(frozen=True, slots=True)
class Deleted:
    """A conversation deleted here, as the audit log names it."""

    conversation_id: str
    user_id: int
    profile_id: str
    messages: int
    remotes: int
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RemoteWork:
    """One remote state to delete on the server of `profile_id`'s assistant."""

    id: int
    profile_id: str
    remote: dict[str, str]
    attempts: int


def is_temporary() -> ColumnElement[bool]:
    """The condition that a conversation is temporary (correlated to `conversations`)."""
    return exists().where(TemporaryChat.conversation_id == Conversation.id)


def delete_and_queue(s: Session, condition: ColumnElement[bool]) -> Deleted | None:
    """In the caller's transaction: delete the conversation `condition` picks (with its
    messages, files, shares, project and temporary rows) and queue the remote state
    of each of its branches for deletion on its server. None if no row matched."""
    conv = s.scalars(select(Conversation).where(condition).with_for_update()).one_or_none()
    if conv is None:
        return None
    branches = s.scalars(
        select(StoredMessage.remote)
        .where(StoredMessage.conversation_id == conv.id, StoredMessage.remote.is_not(None))
        .order_by(StoredMessage.seq)
    ).all()
    messages = s.scalar(select(func.count()).where(StoredMessage.conversation_id == conv.id))
    remotes = distinct_remotes([dict(conv.remote or {}), *(dict(r) for r in branches if r)])
    deleted = Deleted(
        conv.id, conv.user_id, conv.profile_id, int(messages or 0), len(remotes), conv.updated_at
    )
    s.execute(delete(Conversation).where(Conversation.id == conv.id))
    now = utcnow()
    for remote in remotes:
        s.add(RemoteDeletion(profile_id=deleted.profile_id, remote=remote, created_at=now))
    return deleted


class TemporaryChats(Store):
    """The user's temporary chats (part of `Repository`, so no `during` of its own)."""

    @guarded
    def is_temporary_chat(self, *, user_id: int, conversation_id: str) -> bool:
        cid = check_id(conversation_id)
        with self.db.session() as s:
            return bool(s.scalar(select(exists().where(owned(user_id, cid), is_temporary()))))

    @guarded
    def discard_temporary(self, *, user_id: int, conversation_id: str) -> bool:
        """Delete the user's temporary chat now (its remote state queued); False when it
        is gone already, or not temporary (a kept conversation is never deleted here)."""
        cid = check_id(conversation_id)
        with self.db.session() as s:
            return delete_and_queue(s, and_(owned(user_id, cid), is_temporary())) is not None


class Retention(Store):
    """The sweeps' queries, across users: expired temporary chats, retention, the
    remote deletions queue, and which replica runs a periodic job."""

    during = " while purging old conversations"

    @guarded
    def expired_temporary(self, *, now: dt.datetime, limit: int = 100) -> list[str]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(TemporaryChat.conversation_id)
                    .where(TemporaryChat.expires_at <= now)
                    .order_by(TemporaryChat.expires_at)
                    .limit(limit)
                ).all()
            )

    @guarded
    def discard_expired(self, *, conversation_id: str, now: dt.datetime) -> bool:
        """Delete one temporary chat if it has expired (one transaction)."""
        expired = exists().where(
            TemporaryChat.conversation_id == Conversation.id, TemporaryChat.expires_at <= now
        )
        with self.db.session() as s:
            return (
                delete_and_queue(s, and_(Conversation.id == conversation_id, expired)) is not None
            )

    @guarded
    def purge_candidates(self, *, cutoff: dt.datetime, limit: int = 100) -> list[str]:
        """Conversations whose last activity is older than `cutoff`, oldest first."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(Conversation.id)
                    .where(Conversation.updated_at < cutoff)
                    .order_by(Conversation.updated_at, Conversation.id)
                    .limit(limit)
                ).all()
            )

    @guarded
    def purge(self, *, conversation_id: str, cutoff: dt.datetime, days: int) -> bool:
        """Delete one conversation still older than `cutoff` and write why to the audit
        log, in one transaction; False when it is gone or active again."""
        with self.db.session() as s:
            gone = delete_and_queue(
                s, and_(Conversation.id == conversation_id, Conversation.updated_at < cutoff)
            )
            if gone is None:
                return False
            user = s.get(User, gone.user_id)
            who = f"{user.auth_provider}:{user.subject}" if user is not None else "?"
            s.add(
                AdminAudit(
                    at=utcnow(),
                    actor="retention",
                    action=PURGE_ACTION,
                    target=f"conversation {gone.conversation_id} of {who}"[:320],
                    detail=(
                        f"RETENTION_DAYS={days}: last activity {gone.updated_at:%Y-%m-%d %H:%M} "
                        f"UTC; assistant {gone.profile_id}; {gone.messages} messages and their "
                        f"files; {gone.remotes} remote state(s) queued for deletion"
                    ),
                )
            )
            return True

    # -- remote state of deleted conversations -----------------------------------------

    @guarded
    def claim_remote(
        self, *, now: dt.datetime, lease: dt.timedelta, limit: int = 20
    ) -> list[RemoteWork]:
        """Up to `limit` queued remote states nobody works on, now this process's until
        `now + lease`."""
        free = or_(RemoteDeletion.claimed_until.is_(None), RemoteDeletion.claimed_until <= now)
        with self.db.session() as s:
            ids = s.scalars(
                select(RemoteDeletion.id).where(free).order_by(RemoteDeletion.id).limit(limit)
            ).all()
            if not ids:
                return []
            rows = s.execute(
                update(RemoteDeletion)
                .where(RemoteDeletion.id.in_(ids), free)
                .values(claimed_until=now + lease)
                .returning(
                    RemoteDeletion.id,
                    RemoteDeletion.profile_id,
                    RemoteDeletion.remote,
                    RemoteDeletion.attempts,
                )
            ).all()
            return sorted(
                (RemoteWork(i, p, dict(r or {}), a) for i, p, r, a in rows), key=lambda w: w.id
            )

    @guarded
    def remote_done(self, *, ids: Sequence[int]) -> None:
        """Its server deleted it (or it is given up): the queue forgets it."""
        if ids:
            with self.db.session() as s:
                s.execute(delete(RemoteDeletion).where(RemoteDeletion.id.in_(ids)))

    @guarded
    def remote_failed(self, *, work_id: int, retry_at: dt.datetime) -> bool:
        """One more failed attempt; True when it is given up (`MAX_REMOTE_ATTEMPTS`)."""
        with self.db.session() as s:
            row = s.get(RemoteDeletion, work_id)
            if row is None:
                return True
            row.attempts += 1
            if row.attempts >= MAX_REMOTE_ATTEMPTS:
                s.delete(row)
                return True
            row.claimed_until = retry_at
            return False

    @guarded
    def pending_remote(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(RemoteDeletion)) or 0)

    # -- which replica runs a periodic job -----------------------------------------------

    @guarded
    def claim(
        self, *, name: str, holder: str, now: dt.datetime, lease: dt.timedelta, every: dt.timedelta
    ) -> bool:
        """Whether this process (`holder`) runs the job `name` now: nobody holds it (or
        their lease ran out) and its last run finished at least `every` ago. The claim
        holds until `now + lease` (`renew` it while working)."""
        try:
            with self.db.session() as s:
                if s.get(SweepRun, name) is None:
                    s.add(SweepRun(name=name, holder="", claimed_until=None, finished_at=None))
        except IntegrityError:
            pass  # another process made the row first
        with self.db.session() as s:
            won = s.execute(
                update(SweepRun)
                .where(
                    SweepRun.name == name,
                    or_(SweepRun.claimed_until.is_(None), SweepRun.claimed_until <= now),
                    or_(SweepRun.finished_at.is_(None), SweepRun.finished_at <= now - every),
                )
                .values(holder=holder[:300], claimed_until=now + lease)
                .returning(SweepRun.name)
            ).one_or_none()
            return won is not None

    @guarded
    def renew(self, *, name: str, holder: str, until: dt.datetime) -> bool:
        """Hold the claim longer; False if another process took it over meanwhile."""
        with self.db.session() as s:
            done = s.execute(
                update(SweepRun)
                .where(SweepRun.name == name, SweepRun.holder == holder[:300])
                .values(claimed_until=until)
                .returning(SweepRun.name)
            ).one_or_none()
            return done is not None

    @guarded
    def finish(self, *, name: str, holder: str, now: dt.datetime, done: bool = True) -> None:
        """Let the claim go; with `done`, the run counts as finished at `now`."""
        values: dict[str, object] = {"claimed_until": None, "holder": ""}
        if done:
            values["finished_at"] = now
        with self.db.session() as s:
            s.execute(
                update(SweepRun)
                .where(SweepRun.name == name, SweepRun.holder == holder[:300])
                .values(**values)
            )
