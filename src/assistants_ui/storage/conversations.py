"""Conversations: each user's list of chats, its order, search, titles and remote state.

Owns the `conversations` table: create, open (a deep link's `?c=`), list
and search (the sidebar: pinned first, then most recent activity), rename,
pin, the backend's remote references, the token totals, delete. Every call
names the acting user and the SQL itself is scoped by that user
(`on_conversation`: the transaction every room's call opens on one): another
user's id, a missing id and a malformed id all raise the same `NotFound`, so
nothing can be probed.
`ConversationInfo` is built from the row by `conversation_info` only.
Search is a case-insensitive substring match of every word against the
title or any message's visible text (`casefold`ed copies, `LIKE` with its
wildcards escaped), the same SQL on both databases.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    case,
    delete,
    exists,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from assistants_ui.storage.codec import escape_like, fold_text, from_row
from assistants_ui.storage.engine import Database
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.models import (
    Conversation,
    Project,
    ProjectConversation,
    StoredMessage,
    TemporaryChat,
    User,
    utcnow,
)
from assistants_ui.storage.store import Store, guarded

__all__ = [
    "MAX_PAGE",
    "ConversationInfo",
    "ConversationPage",
    "Conversations",
    "check_id",
    "check_project",
    "conversation_info",
    "is_valid_id",
    "new_id",
    "on_conversation",
    "owned",
    "owned_conversation",
    "place",
]

_ID = re.compile(r"[A-Za-z0-9_-]{16}")
TITLE_MAX = 200
MAX_PAGE = 500
MAX_SEARCH_TERMS = 8
# A search hit's snippet: this many characters of the first message with the first
# word, starting this many before it (case-folded text, as search compares it).
SNIPPET_CHARS = 160
SNIPPET_BEFORE = 50


def new_id() -> str:
    """A fresh conversation or file id: 16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


def is_valid_id(value: object) -> bool:
    """Whether `value` has the shape of an id this app hands out (e.g. from `?c=`)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(value: object) -> str:
    """`value` as a conversation id, or NotFound (a malformed id looks like an unknown one)."""
    if not is_valid_id(value):
        raise NotFound()
    assert isinstance(value, str)
    return value


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    id: str
    profile_id: str
    backend: str
    title: str
    remote: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime
    pinned: bool = False
    # A search hit: the text around the first word searched for, from the first
    # message that has it (case-folded, at most SNIPPET_CHARS); "" when only the
    # title matched, and in a listing.
    snippet: str = ""


@dataclass(frozen=True, slots=True)
class ConversationPage:
    """One page of the sidebar; pass `next_offset` back for the next (None: no more)."""

    items: list[ConversationInfo]
    next_offset: int | None


def conversation_info(row: Conversation, snippet: str | None = None) -> ConversationInfo:
    return from_row(
        ConversationInfo,
        row,
        remote=dict(row.remote or {}),
        pinned=bool(row.pinned),
        snippet=snippet or "",
    )


def owned(user_id: int, conversation_id: str) -> ColumnElement[bool]:
    """The condition that picks this conversation only if it is this user's."""
    return and_(Conversation.id == conversation_id, Conversation.user_id == user_id)


def owned_conversation(s: Session, user_id: int, cid: str) -> Conversation:
    """The user's conversation `cid` in this transaction, or NotFound."""
    conv = s.scalars(select(Conversation).where(owned(user_id, cid))).one_or_none()
    if conv is None:
        raise NotFound()
    return conv


@contextmanager
def on_conversation(db: Database, user_id: int, cid: str) -> Iterator[tuple[Session, Conversation]]:
    """A transaction on the user's conversation `cid`, or NotFound before anything is read."""
    with db.session() as s:
        yield s, owned_conversation(s, user_id, cid)


def _in_project(project_id: str | None) -> list[ColumnElement[bool]]:
    """The condition that a conversation is in the project (none: no condition)."""
    if project_id is None:
        return []
    return [
        exists().where(
            ProjectConversation.conversation_id == Conversation.id,
            ProjectConversation.project_id == project_id,
        )
    ]


def check_project(s: Session, user_id: int, project_id: str | None) -> None:
    """NotFound("project") unless `project_id` (when given) is the user's project."""
    if project_id is None:
        return
    mine = select(Project.id).where(Project.id == project_id, Project.user_id == user_id)
    if s.scalar(mine) is None:
        raise NotFound("project")


def place(s: Session, cid: str, project_id: str | None, expires_at: dt.datetime | None) -> None:
    """A new conversation's place (its row flushed; the project checked: `check_project`):
    in `project_id`, and with `expires_at` a temporary chat, out of history until then."""
    if project_id is not None:
        s.add(ProjectConversation(conversation_id=cid, project_id=project_id))
    if expires_at is not None:
        s.add(TemporaryChat(conversation_id=cid, expires_at=expires_at))


def page_args(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1..{MAX_PAGE}")
    if offset < 0:
        raise ValueError("offset must be >= 0")


class Conversations(Store):
    """The `conversations` table, each call scoped by the acting user."""

    @guarded
    def create_conversation(
        self,
        *,
        user_id: int,
        profile_id: str,
        backend: str,
        remote: Mapping[str, str] | None = None,
        title: str = "",
        project_id: str | None = None,
        expires_at: dt.datetime | None = None,
    ) -> ConversationInfo:
        """A new conversation; in the user's project `project_id` (NotFound if it is not
        theirs), and with `expires_at` a temporary chat, out of history until then
        (storage/projects.py, storage/retention.py): placed in the same transaction."""
        title = " ".join(title.split())[:TITLE_MAX]
        with self.db.session() as s:
            if s.get(User, user_id) is None:
                raise NotFound("user")
            check_project(s, user_id, project_id)
            now = utcnow()
            conv = Conversation(
                id=new_id(),
                user_id=user_id,
                profile_id=profile_id,
                backend=backend,
                remote=dict(remote or {}),
                title=title,
                title_folded=fold_text(title),
                last_seq=0,
                created_at=now,
                updated_at=now,
            )
            s.add(conv)
            s.flush()
            place(s, conv.id, project_id, expires_at)
            return conversation_info(conv)

    @guarded
    def get_conversation(self, *, user_id: int, conversation_id: str) -> ConversationInfo:
        """One of the user's conversations (a deep link's `?c=`), or NotFound."""
        cid = check_id(conversation_id)
        with on_conversation(self.db, user_id, cid) as (_, conv):
            return conversation_info(conv)

    @guarded
    def list_conversations(
        self, *, user_id: int, limit: int = 50, offset: int = 0, project_id: str | None = None
    ) -> ConversationPage:
        """The user's conversations: pinned ones first, then most recently active first
        (with `project_id`, that project's only)."""
        page_args(limit, offset)
        return self._page(user_id, _in_project(project_id), limit, offset)

    @guarded
    def search_conversations(
        self,
        *,
        user_id: int,
        query: str,
        limit: int = 50,
        offset: int = 0,
        project_id: str | None = None,
    ) -> ConversationPage:
        """Conversations where every word of `query` is in the title or in a message
        (with `project_id`, that project's only).

        Case-insensitive substring match (no stemming); an empty query lists all.
        Each hit carries a `snippet`: the text around the first word in the first
        message that has it (read in the database, at most SNIPPET_CHARS).
        """
        page_args(limit, offset)
        terms = fold_text(query).split()[:MAX_SEARCH_TERMS]
        conditions = _in_project(project_id)
        for term in terms:
            pattern = f"%{escape_like(term)}%"
            in_messages = exists().where(
                StoredMessage.conversation_id == Conversation.id,
                StoredMessage.text_folded.like(pattern, escape="\\"),
            )
            conditions.append(
                or_(Conversation.title_folded.like(pattern, escape="\\"), in_messages)
            )
        return self._page(
            user_id, conditions, limit, offset, self._snippet(terms[0]) if terms else None
        )

    def _snippet(self, term: str) -> ScalarSelect[str]:
        """The text around `term` in the conversation's first message that has it."""
        text = StoredMessage.text_folded
        found = (func.strpos if self.db.dialect == "postgresql" else func.instr)(text, term)
        start = case((found > SNIPPET_BEFORE, found - SNIPPET_BEFORE), else_=1)
        return (
            select(func.substr(text, start, SNIPPET_CHARS))
            .where(
                StoredMessage.conversation_id == Conversation.id,
                text.like(f"%{escape_like(term)}%", escape="\\"),
            )
            .order_by(StoredMessage.seq)
            .limit(1)
            .correlate(Conversation)
            .scalar_subquery()
        )

    def _page(
        self,
        user_id: int,
        conditions: list[ColumnElement[bool]],
        limit: int,
        offset: int,
        snippet: ScalarSelect[str] | None = None,
    ) -> ConversationPage:
        # Temporary chats are never listed nor found (storage/retention.py).
        temporary = exists().where(TemporaryChat.conversation_id == Conversation.id)
        query = (
            select(Conversation, snippet if snippet is not None else null())
            .where(Conversation.user_id == user_id, ~temporary, *conditions)
            .order_by(
                Conversation.pinned.desc(), Conversation.updated_at.desc(), Conversation.id.desc()
            )
            .limit(limit + 1)
            .offset(offset)
        )
        with self.db.session() as s:
            rows = list(s.execute(query).all())
        more = len(rows) > limit
        return ConversationPage(
            items=[conversation_info(c, found) for c, found in rows[:limit]],
            next_offset=offset + limit if more else None,
        )

    @guarded
    def rename_conversation(
        self, *, user_id: int, conversation_id: str, title: str
    ) -> ConversationInfo:
        cid = check_id(conversation_id)
        title = " ".join(title.split())[:TITLE_MAX]
        if not title:
            raise ValueError("a conversation's title cannot be empty")
        with on_conversation(self.db, user_id, cid) as (s, conv):
            conv.title = title
            conv.title_folded = fold_text(title)
            s.flush()
            return conversation_info(conv)

    @guarded
    def title_by_model(
        self, *, user_id: int, conversation_id: str, first_words: str, title: str
    ) -> bool:
        """The title the assistant's model wrote, in place of the one the first message
        gave (`first_words`): only while the title is still that one, so that a title
        its owner gave meanwhile is kept. False when nothing changed (renamed, deleted,
        or someone else's). Its place in the history stays (no activity)."""
        cid = check_id(conversation_id)
        title = " ".join(title.split())[:TITLE_MAX]
        if not title:
            return False
        with self.db.session() as s:
            done = s.execute(
                update(Conversation)
                .where(owned(user_id, cid), Conversation.title == first_words[:TITLE_MAX])
                .values(title=title, title_folded=fold_text(title))
                .returning(Conversation.id)
            ).one_or_none()
            return done is not None

    @guarded
    def usage_totals(self, *, user_id: int, conversation_id: str) -> tuple[int, int]:
        """The conversation's tokens in and out, every answer summed."""
        cid = check_id(conversation_id)
        with on_conversation(self.db, user_id, cid) as (s, _):
            row = s.execute(
                select(
                    func.coalesce(func.sum(StoredMessage.input_tokens), 0),
                    func.coalesce(func.sum(StoredMessage.output_tokens), 0),
                ).where(StoredMessage.conversation_id == cid)
            ).one()
            return int(row[0]), int(row[1])

    @guarded
    def set_pinned(self, *, user_id: int, conversation_id: str, pinned: bool) -> ConversationInfo:
        """Pin the conversation to the top of the history, or unpin it."""
        cid = check_id(conversation_id)
        with on_conversation(self.db, user_id, cid) as (s, conv):
            conv.pinned = pinned
            s.flush()
            return conversation_info(conv)

    @guarded
    def set_remote(
        self,
        *,
        user_id: int,
        conversation_id: str,
        remote: Mapping[str, str],
        message_id: str | None = None,
    ) -> None:
        """Replace the backend's references (conversation/thread/vector store ids):
        the conversation's, or with `message_id` those of the branch that message starts."""
        cid = check_id(conversation_id)
        with self.db.session() as s:
            if message_id is None:
                done = s.execute(
                    update(Conversation)
                    .where(owned(user_id, cid))
                    .values(remote=dict(remote))
                    .returning(Conversation.id)
                ).one_or_none()
            else:
                owned_conversation(s, user_id, cid)
                done = s.execute(
                    update(StoredMessage)
                    .where(StoredMessage.conversation_id == cid, StoredMessage.id == message_id)
                    .values(remote=dict(remote))
                    .returning(StoredMessage.id)
                ).one_or_none()
            if done is None:
                raise NotFound("message" if message_id else "conversation")

    @guarded
    def delete_conversation(self, *, user_id: int, conversation_id: str) -> list[dict[str, str]]:
        """Delete it with its messages and files; returns the remote references of
        every branch (the conversation's first) so that the caller can delete the
        remote conversations, threads or vector stores."""
        cid = check_id(conversation_id)
        with self.db.session() as s:
            branches = s.scalars(
                select(StoredMessage.remote)
                .join(Conversation, Conversation.id == StoredMessage.conversation_id)
                .where(owned(user_id, cid), StoredMessage.remote.is_not(None))
                .order_by(StoredMessage.seq)
            ).all()
            row = s.execute(
                delete(Conversation).where(owned(user_id, cid)).returning(Conversation.remote)
            ).one_or_none()
            if row is None:
                raise NotFound()
            return [dict(row[0] or {}), *(dict(r) for r in branches if r)]
