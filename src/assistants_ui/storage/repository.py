"""Data access for history. Every call names the acting user, and the SQL itself
is scoped by that user: another user's id, a missing id and a malformed id all
raise the same `NotFound`, so nothing leaks and nothing can be probed.

Keyword-only methods on `Repository`, one transaction each. Database
failures surface as `StorageError` (one sentence naming DATABASE_URL).

Ordering: conversations newest activity first (`updated_at`, bumped by every
saved message); messages by `seq`, a per-conversation counter handed out
under the conversation's row lock, so two writers never collide.

Branches: messages form a tree (`parent_id`). An edited question or a
regenerated answer is a new child of the same parent, a sibling of the one
it replaces. The branch shown is the path from the conversation's
`active_leaf` back to a first message; loading, paging, Markdown export and
share snapshots follow it, JSON export has every message with its parent.
A branch's remote state is kept on its first message (`messages.remote`);
a branch whose messages carry none uses the conversation's `remote`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    CTE,
    ColumnElement,
    Row,
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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from assistants_ui.core.transcript import ErrorPart, Feedback, Message
from assistants_ui.i18n import _, format_number
from assistants_ui.storage.codec import (
    FileBlob,
    decode_message,
    encode_message,
    fold_text,
    title_for,
)
from assistants_ui.storage.engine import Database
from assistants_ui.storage.engine import guarded as _guard
from assistants_ui.storage.errors import NotFound, ShareRevoked
from assistants_ui.storage.models import Conversation, File, Share, StoredMessage, User, utcnow
from assistants_ui.storage.writers import still_writing, this_writer

__all__ = [
    "ROOT",
    "ConversationInfo",
    "ConversationPage",
    "FileInfo",
    "MessagePage",
    "Repository",
    "SaveResult",
    "ShareInfo",
    "SkippedFile",
    "Snapshot",
    "StoredFile",
    "UserInfo",
    "is_valid_id",
    "is_valid_share_token",
    "new_id",
]

_ID = re.compile(r"[A-Za-z0-9_-]{16}")
_SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
TITLE_MAX = 200
FEEDBACK_MAX = 2000  # characters of a feedback comment
MAX_PAGE = 500
MAX_SEARCH_TERMS = 8
# A search hit's snippet: this many characters of the first message with the first
# word, starting this many before it (case-folded text, as search compares it).
SNIPPET_CHARS = 160
SNIPPET_BEFORE = 50
INTERRUPTED = "The answer was cut off: the app stopped while it was being written."

ROOT = ""  # the key of a conversation's first messages in `MessagePage.children`


def new_id() -> str:
    """A fresh conversation or file id: 16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


def is_valid_id(value: object) -> bool:
    """Whether `value` has the shape of an id this app hands out (e.g. from `?c=`)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def is_valid_share_token(value: object) -> bool:
    """Whether `value` has the shape of a share link's token (from `?share=`)."""
    return isinstance(value, str) and _SHARE_TOKEN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class ShareInfo:
    """One share link of a conversation, as its owner's menu lists it."""

    token: str
    conversation_id: str
    title: str
    message_count: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a share link shows: the conversation's title and messages when it was shared."""

    info: ShareInfo
    messages: list[Message]


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    auth_provider: str
    subject: str
    display_name: str
    email: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    language: str | None = None  # the interface language chosen; None: the browser's


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


@dataclass(frozen=True, slots=True)
class MessagePage:
    """The branch shown, oldest first; pass `before` back for the older ones (None: no more).

    `children`: for a message of the branch (or `ROOT`), its children oldest first,
    where there is more than one (the versions "‹ 2 / 3 ›" steps through).
    `remote_owner` is the message whose `remote` the branch uses (None: the
    conversation's), `remote` that state.
    """

    messages: list[Message]
    before: int | None
    children: dict[str, list[str]] = field(default_factory=dict)
    remote_owner: str | None = None
    remote: dict[str, str] = field(default_factory=dict)


# One message of the tree without its contents: (id, parent_id, seq); the rows as
# read (no object per row: a long conversation has thousands).
_Node = Row[str, str | None, int]


def _nodes(s: Session, cid: str) -> Sequence[_Node]:
    """The conversation's tree without contents, in `seq` order (parents before children)."""
    return s.execute(
        select(StoredMessage.id, StoredMessage.parent_id, StoredMessage.seq)
        .where(StoredMessage.conversation_id == cid)
        .order_by(StoredMessage.seq)
    ).all()


def _leaf(s: Session, cid: str, active: str | None) -> str | None:
    """The last message of the branch shown: `active`, or the newest message."""
    if active is not None and s.get(StoredMessage, (cid, active)) is not None:
        return active
    newest: str | None = s.scalars(
        select(StoredMessage.id)
        .where(StoredMessage.conversation_id == cid)
        .order_by(StoredMessage.seq.desc())
        .limit(1)
    ).first()
    return newest


def _branch(cid: str, leaf: str | None) -> CTE:
    """The branch ending at `leaf`, walked up by the database (a recursive CTE):
    (id, parent_id, seq) of each of its messages. A parent is always older (a
    smaller seq), so the walk ends even on a damaged tree."""
    m = StoredMessage.__table__
    start = (
        select(m.c.id, m.c.parent_id, m.c.seq)
        .where(m.c.conversation_id == cid, m.c.id == leaf)
        .cte("branch", recursive=True)
    )
    up = select(m.c.id, m.c.parent_id, m.c.seq).join(
        start,
        and_(m.c.conversation_id == cid, m.c.id == start.c.parent_id, m.c.seq < start.c.seq),
    )
    return start.union_all(up)


def _branch_owner(s: Session, cid: str, branch: CTE) -> tuple[str, dict[str, str]] | None:
    """The newest message of the branch that starts a branch with its own remote state."""
    m = StoredMessage.__table__
    row = s.execute(
        select(m.c.id, m.c.remote)
        .join(branch, and_(m.c.conversation_id == cid, m.c.id == branch.c.id))
        .where(m.c.remote.is_not(None))
        .order_by(m.c.seq.desc())
        .limit(1)
    ).first()
    return (row[0], dict(row[1] or {})) if row is not None else None


def _versions(s: Session, cid: str, parents: set[str]) -> dict[str, list[str]]:
    """For each of `parents` (ROOT: none) with more than one child: its children, oldest first."""
    m = StoredMessage.__table__
    parent = func.coalesce(m.c.parent_id, ROOT)
    forks = (
        select(parent)
        .where(m.c.conversation_id == cid)
        .group_by(parent)
        .having(func.count() > 1)
        .scalar_subquery()
    )
    rows = s.execute(
        select(parent, m.c.id)
        .where(m.c.conversation_id == cid, parent.in_(forks))
        .order_by(m.c.seq)
    )
    children: dict[str, list[str]] = {}
    for key, mid in rows:
        if key in parents:
            children.setdefault(key, []).append(mid)
    return children


def _newest_leaf(nodes: Sequence[_Node], top: str) -> str:
    """The newest message under `top` (itself included): always a leaf."""
    under = {top}
    newest = top
    for n in nodes:  # parents come before their children
        if n.parent_id in under:
            under.add(n.id)
            newest = n.id
    return newest


@dataclass(frozen=True, slots=True)
class FileInfo:
    id: str
    conversation_id: str
    message_id: str
    kind: str
    name: str
    mime: str
    size: int
    sha256: str
    stored: bool
    provider_file_id: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file for download; `data` is None when it was over the stored-file limit."""

    info: FileInfo
    data: bytes | None = field(repr=False)


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


@dataclass(frozen=True, slots=True)
class SaveResult:
    skipped: tuple[SkippedFile, ...] = ()


def _check_id(value: object, what: str = "conversation") -> str:
    if not is_valid_id(value):
        raise NotFound(what)
    assert isinstance(value, str)
    return value


def _page_args(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1..{MAX_PAGE}")
    if offset < 0:
        raise ValueError("offset must be >= 0")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conversation_info(c: Conversation, snippet: str | None = None) -> ConversationInfo:
    return ConversationInfo(
        id=c.id,
        profile_id=c.profile_id,
        backend=c.backend,
        title=c.title,
        remote=dict(c.remote or {}),
        created_at=c.created_at,
        updated_at=c.updated_at,
        pinned=bool(c.pinned),
        snippet=snippet or "",
    )


def _user_info(u: User) -> UserInfo:
    return UserInfo(
        id=u.id,
        auth_provider=u.auth_provider,
        subject=u.subject,
        display_name=u.display_name,
        email=u.email,
        created_at=u.created_at,
        last_seen_at=u.last_seen_at,
        language=u.language,
    )


def _file_info(f: File) -> FileInfo:
    return FileInfo(
        id=f.id,
        conversation_id=f.conversation_id,
        message_id=f.message_id,
        kind=f.kind,
        name=f.name,
        mime=f.mime,
        size=f.size,
        sha256=f.sha256,
        stored=f.stored,
        provider_file_id=f.provider_file_id,
        created_at=f.created_at,
    )


def _share_info(row: Share) -> ShareInfo:
    return ShareInfo(
        token=row.token,
        conversation_id=row.conversation_id,
        title=row.title,
        message_count=row.message_count,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _owned(user_id: int, conversation_id: str) -> ColumnElement[bool]:
    return and_(Conversation.id == conversation_id, Conversation.user_id == user_id)


class Repository:
    """History for every user of one database; safe to share between threads."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- users -----------------------------------------------------------------------

    @_guard
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
        for attempt in (1, 2):
            try:
                with self.db.session() as s:
                    user = s.scalars(
                        select(User).where(
                            User.auth_provider == auth_provider, User.subject == subject
                        )
                    ).one_or_none()
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
                    return _user_info(user)
            except IntegrityError:
                if attempt == 2:  # pragma: no cover - a second race in a row
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @_guard
    def find_user(self, *, auth_provider: str, subject: str) -> UserInfo | None:
        """The user with this identity if it has a row (never creates one)."""
        with self.db.session() as s:
            user = s.scalars(
                select(User).where(User.auth_provider == auth_provider, User.subject == subject)
            ).one_or_none()
            return _user_info(user) if user is not None else None

    @_guard
    def set_language(self, *, user_id: int, language: str | None) -> None:
        """Remember the user's interface language (None: follow the browser)."""
        if language is not None and not 1 <= len(language) <= 16:
            raise ValueError("language must be 1..16 characters")
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user")
            user.language = language

    @_guard
    def get_user(self, *, user_id: int) -> UserInfo:
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("user")
            return _user_info(user)

    # -- conversations -------------------------------------------------------------

    @_guard
    def create_conversation(
        self,
        *,
        user_id: int,
        profile_id: str,
        backend: str,
        remote: Mapping[str, str] | None = None,
        title: str = "",
    ) -> ConversationInfo:
        title = " ".join(title.split())[:TITLE_MAX]
        with self.db.session() as s:
            if s.get(User, user_id) is None:
                raise NotFound("user")
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
            return _conversation_info(conv)

    @_guard
    def get_conversation(self, *, user_id: int, conversation_id: str) -> ConversationInfo:
        """One of the user's conversations (a deep link's `?c=`), or NotFound."""
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            return _conversation_info(self._conversation(s, user_id, cid))

    @_guard
    def list_conversations(
        self, *, user_id: int, limit: int = 50, offset: int = 0
    ) -> ConversationPage:
        """The user's conversations: pinned ones first, then most recently active first."""
        _page_args(limit, offset)
        return self._page(user_id, [], limit, offset)

    @_guard
    def search_conversations(
        self, *, user_id: int, query: str, limit: int = 50, offset: int = 0
    ) -> ConversationPage:
        """Conversations where every word of `query` is in the title or in a message.

        Case-insensitive substring match (no stemming); an empty query lists all.
        Each hit carries a `snippet`: the text around the first word in the first
        message that has it (read in the database, at most SNIPPET_CHARS).
        """
        _page_args(limit, offset)
        terms = fold_text(query).split()[:MAX_SEARCH_TERMS]
        conditions: list[ColumnElement[bool]] = []
        for term in terms:
            pattern = f"%{_escape_like(term)}%"
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
                text.like(f"%{_escape_like(term)}%", escape="\\"),
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
        query = (
            select(Conversation, snippet if snippet is not None else null())
            .where(Conversation.user_id == user_id, *conditions)
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
            items=[_conversation_info(c, found) for c, found in rows[:limit]],
            next_offset=offset + limit if more else None,
        )

    @_guard
    def rename_conversation(
        self, *, user_id: int, conversation_id: str, title: str
    ) -> ConversationInfo:
        cid = _check_id(conversation_id)
        title = " ".join(title.split())[:TITLE_MAX]
        if not title:
            raise ValueError("a conversation's title cannot be empty")
        with self.db.session() as s:
            conv = self._conversation(s, user_id, cid)
            conv.title = title
            conv.title_folded = fold_text(title)
            s.flush()
            return _conversation_info(conv)

    @_guard
    def usage_totals(self, *, user_id: int, conversation_id: str) -> tuple[int, int]:
        """The conversation's tokens in and out, every answer summed."""
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            self._conversation(s, user_id, cid)
            row = s.execute(
                select(
                    func.coalesce(func.sum(StoredMessage.input_tokens), 0),
                    func.coalesce(func.sum(StoredMessage.output_tokens), 0),
                ).where(StoredMessage.conversation_id == cid)
            ).one()
            return int(row[0]), int(row[1])

    @_guard
    def set_pinned(self, *, user_id: int, conversation_id: str, pinned: bool) -> ConversationInfo:
        """Pin the conversation to the top of the history, or unpin it."""
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            conv = self._conversation(s, user_id, cid)
            conv.pinned = pinned
            s.flush()
            return _conversation_info(conv)

    @_guard
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
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            if message_id is None:
                done = s.execute(
                    update(Conversation)
                    .where(_owned(user_id, cid))
                    .values(remote=dict(remote))
                    .returning(Conversation.id)
                ).one_or_none()
            else:
                self._conversation(s, user_id, cid)
                done = s.execute(
                    update(StoredMessage)
                    .where(StoredMessage.conversation_id == cid, StoredMessage.id == message_id)
                    .values(remote=dict(remote))
                    .returning(StoredMessage.id)
                ).one_or_none()
            if done is None:
                raise NotFound("message" if message_id else "conversation")

    @_guard
    def switch_branch(self, *, user_id: int, conversation_id: str, message_id: str) -> str:
        """Show the branch through `message_id`: its newest message becomes the
        conversation's active leaf (returned). Not activity."""
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            conv = self._conversation(s, user_id, cid)
            nodes = _nodes(s, cid)
            if not any(n.id == message_id for n in nodes):
                raise NotFound("message")
            conv.active_leaf = _newest_leaf(nodes, message_id)
            return conv.active_leaf

    @_guard
    def delete_conversation(self, *, user_id: int, conversation_id: str) -> list[dict[str, str]]:
        """Delete it with its messages and files; returns the remote references of
        every branch (the conversation's first) so that the caller can delete the
        remote conversations, threads or vector stores."""
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            branches = s.scalars(
                select(StoredMessage.remote)
                .join(Conversation, Conversation.id == StoredMessage.conversation_id)
                .where(_owned(user_id, cid), StoredMessage.remote.is_not(None))
                .order_by(StoredMessage.seq)
            ).all()
            row = s.execute(
                delete(Conversation).where(_owned(user_id, cid)).returning(Conversation.remote)
            ).one_or_none()
            if row is None:
                raise NotFound()
            return [dict(row[0] or {}), *(dict(r) for r in branches if r)]

    def _conversation(self, s: Session, user_id: int, cid: str) -> Conversation:
        conv = s.scalars(select(Conversation).where(_owned(user_id, cid))).one_or_none()
        if conv is None:
            raise NotFound()
        return conv

    # -- messages ---------------------------------------------------------------------

    @_guard
    def save_message(self, *, user_id: int, conversation_id: str, message: Message) -> SaveResult:
        """Insert or update a message (by `message.id`), its files and the title.

        The first user message titles an untitled conversation. A file over the
        stored-file limit keeps its metadata only and is listed in the result.
        """
        cid = _check_id(conversation_id)
        if not message.id or len(message.id) > 64:
            raise ValueError("a message id must be 1..64 characters")
        encoded = encode_message(message)
        with self.db.session() as s:
            # Claims the conversation's row (PostgreSQL row lock, SQLite write lock)
            # and proves ownership in one statement.
            title = s.execute(
                update(Conversation)
                .where(_owned(user_id, cid))
                .values(updated_at=utcnow())
                .returning(Conversation.title)
            ).scalar_one_or_none()
            if title is None:
                raise NotFound()
            row = s.get(StoredMessage, (cid, message.id))
            new = row is None
            if row is None:
                parent = self._parent_of(s, cid, message.parent_id)
                # A new message is the last of the branch shown.
                seq = s.execute(
                    update(Conversation)
                    .where(Conversation.id == cid)
                    .values(last_seq=Conversation.last_seq + 1, active_leaf=message.id)
                    .returning(Conversation.last_seq)
                ).scalar_one()
                row = StoredMessage(conversation_id=cid, id=message.id, seq=seq, parent_id=parent)
                s.add(row)
            row.role = message.role
            row.status = message.status
            row.created_at = message.created_at
            row.input_tokens = message.input_tokens
            row.output_tokens = message.output_tokens
            row.seconds = message.seconds
            row.stopped_by = message.stopped_by
            writing = message.status == "streaming"
            row.writer = this_writer() if writing else None
            row.written_at = time.time() if writing else None
            row.text_folded = encoded.text_folded
            skipped: list[SkippedFile] = []
            if encoded.files or not new:  # a new message without files has none to look up
                s.flush()  # files reference the message row
                ids, skipped = self._save_files(s, user_id, cid, message.id, encoded.files)
                for blob, file_id in zip(encoded.files, ids, strict=True):
                    items = encoded.parts if blob.slot == "part" else encoded.attachments
                    items[blob.position]["data"] = {"file": file_id}
            row.parts = encoded.parts
            row.attachments = encoded.attachments
            if not title and message.role == "user":
                new_title = title_for(message)[:TITLE_MAX]
                if new_title:
                    s.execute(
                        update(Conversation)
                        .where(Conversation.id == cid)
                        .values(title=new_title, title_folded=fold_text(new_title))
                    )
        return SaveResult(tuple(skipped))

    @_guard
    def checkpoint_message(self, *, user_id: int, conversation_id: str, message: Message) -> bool:
        """Save an answer still being written, as far as it came: one UPDATE of its
        text, when it has no files (else `save_message`). False when the message is
        not saved as being written any more (it ended meanwhile: nothing is changed)."""
        encoded = encode_message(message)
        if encoded.files:
            self.save_message(user_id=user_id, conversation_id=conversation_id, message=message)
            return True
        cid = _check_id(conversation_id)
        owned = select(Conversation.id).where(_owned(user_id, cid)).scalar_subquery()
        with self.db.session() as s:
            done = s.execute(
                update(StoredMessage)
                .where(
                    StoredMessage.conversation_id == owned,
                    StoredMessage.id == message.id,
                    StoredMessage.status == "streaming",
                )
                .values(
                    parts=encoded.parts,
                    text_folded=encoded.text_folded,
                    input_tokens=message.input_tokens,
                    output_tokens=message.output_tokens,
                    writer=this_writer(),
                    written_at=time.time(),
                )
                .returning(StoredMessage.id)
            ).one_or_none()
        return done is not None

    def _parent_of(self, s: Session, cid: str, parent_id: str | None) -> str | None:
        """The stored parent of a new message: the one named ("": none), else (not
        named, or not in this conversation) the last message of the branch shown."""
        if parent_id == ROOT:
            return None
        if parent_id is not None and s.get(StoredMessage, (cid, parent_id)) is not None:
            return parent_id
        active = s.execute(
            select(Conversation.active_leaf).where(Conversation.id == cid)
        ).scalar_one_or_none()
        return _leaf(s, cid, active)

    @_guard
    def set_feedback(
        self,
        *,
        user_id: int,
        conversation_id: str,
        message_id: str,
        feedback: Feedback | None,
        comment: str = "",
    ) -> None:
        """The reader's thumbs up or down (None: withdrawn) and comment on an answer.

        Not activity: the conversation keeps its place in the history.
        """
        cid = _check_id(conversation_id)
        if feedback not in (None, "up", "down"):
            raise ValueError("feedback is 'up', 'down' or None")
        with self.db.session() as s:
            self._conversation(s, user_id, cid)
            done = s.execute(
                update(StoredMessage)
                .where(
                    StoredMessage.conversation_id == cid,
                    StoredMessage.id == message_id,
                    StoredMessage.role == "assistant",
                )
                .values(feedback=feedback, feedback_comment=comment[:FEEDBACK_MAX])
                .returning(StoredMessage.id)
            ).one_or_none()
            if done is None:
                raise NotFound("message")

    def _save_files(
        self, s: Session, user_id: int, cid: str, mid: str, blobs: list[FileBlob]
    ) -> tuple[list[str], list[SkippedFile]]:
        limit = self.db.max_file_bytes
        existing = {
            (f.slot, f.position): f
            for f in s.scalars(
                select(File).where(
                    File.conversation_id == cid, File.message_id == mid, File.user_id == user_id
                )
            )
        }
        ids: list[str] = []
        skipped: list[SkippedFile] = []
        for blob in blobs:
            size = len(blob.data)
            digest = blob.sha256
            keep = size <= limit
            row = existing.pop((blob.slot, blob.position), None)
            if row is not None and not row.stored and size == 0:
                # A loaded message whose file was not kept comes back with empty
                # bytes; saving it again must not overwrite what we know of it.
                if blob.provider_file_id:
                    row.provider_file_id = blob.provider_file_id[:255]
                ids.append(row.id)
                continue
            if row is None or row.sha256 != digest or row.size != size:
                if row is None:
                    row = File(
                        id=new_id(),
                        user_id=user_id,
                        conversation_id=cid,
                        message_id=mid,
                        slot=blob.slot,
                        position=blob.position,
                        created_at=utcnow(),
                    )
                    s.add(row)
                row.size = size
                row.sha256 = digest
                row.stored = keep
                row.data = blob.data if keep else None
                if not keep:
                    skipped.append(SkippedFile(blob.name, size, limit))
            row.kind = blob.kind
            row.name = blob.name
            row.mime = blob.mime
            row.provider_file_id = blob.provider_file_id[:255]
            ids.append(row.id)
        for gone in existing.values():
            s.delete(gone)
        return ids, skipped

    @_guard
    def load_messages(
        self,
        *,
        user_id: int,
        conversation_id: str,
        limit: int | None = 50,
        before: int | None = None,
    ) -> MessagePage:
        """The branch shown: its newest `limit` messages (all if None) before the
        cursor `before`, with the tree's shape around it.

        Messages come back oldest first with their files' bytes. A message
        still marked streaming whose writer is gone was cut off (the app stopped
        mid-answer): it comes back failed, retryable, with what had been saved;
        one still being written (`writers.still_writing`) comes back streaming.
        """
        cid = _check_id(conversation_id)
        if limit is not None and not 1 <= limit <= MAX_PAGE * 10:
            raise ValueError(f"limit must be 1..{MAX_PAGE * 10} or None")
        with self.db.session() as s:
            conv = self._conversation(s, user_id, cid)
            branch = _branch(cid, _leaf(s, cid, conv.active_leaf))
            query = select(branch.c.id, branch.c.parent_id, branch.c.seq)
            if before is not None:
                query = query.where(branch.c.seq < before)
            query = query.order_by(branch.c.seq.desc())
            if limit is not None:
                query = query.limit(limit + 1)
            wanted = list(s.execute(query))
            more = limit is not None and len(wanted) > limit
            wanted = wanted[:limit] if limit is not None else wanted
            wanted.reverse()
            rows = self._rows(s, cid, [w.id for w in wanted])
            blobs = self._blobs(s, user_id, cid, rows)
            children = _versions(s, cid, {w.parent_id or ROOT for w in wanted})
            owner = _branch_owner(s, cid, branch)
            remote = owner[1] if owner is not None else dict(conv.remote or {})
        messages = [_decode(r, blobs.get(r.id, {})) for r in rows]
        return MessagePage(
            messages=messages,
            before=rows[0].seq if more and rows else None,
            children=children,
            remote_owner=owner[0] if owner is not None else None,
            remote=remote,
        )

    def _rows(self, s: Session, cid: str, ids: list[str]) -> list[StoredMessage]:
        """These messages, in the order of `ids`."""
        if not ids:
            return []
        found = {
            r.id: r
            for r in s.scalars(
                select(StoredMessage).where(
                    StoredMessage.conversation_id == cid, StoredMessage.id.in_(ids)
                )
            )
        }
        return [found[i] for i in ids if i in found]

    def iter_messages(
        self, *, user_id: int, conversation_id: str, batch: int = 50, branch: bool = False
    ) -> Iterator[list[Message]]:
        """Every message (each with its `parent_id`), oldest first, `batch` at a time
        (each batch its own read); with `branch`, only the branch shown.

        For exports: only one batch of messages and their files is in memory at once.
        """
        ids = self._shown_ids(user_id, conversation_id) if branch else None
        after = 0
        while True:
            messages, after_next = self._batch_after(user_id, conversation_id, after, batch, ids)
            if messages:
                yield messages
            if after_next is None:
                return
            after = after_next

    def _branch_ids(self, s: Session, cid: str, active: str | None) -> list[str]:
        """The ids of the branch shown, oldest first."""
        branch = _branch(cid, _leaf(s, cid, active))
        return list(s.scalars(select(branch.c.id).order_by(branch.c.seq)))

    @_guard
    def _shown_ids(self, user_id: int, conversation_id: str) -> list[str]:
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            conv = self._conversation(s, user_id, cid)
            return self._branch_ids(s, cid, conv.active_leaf)

    @_guard
    def _batch_after(
        self,
        user_id: int,
        conversation_id: str,
        after: int,
        limit: int,
        ids: list[str] | None = None,
    ) -> tuple[list[Message], int | None]:
        cid = _check_id(conversation_id)
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"batch must be 1..{MAX_PAGE}")
        with self.db.session() as s:
            self._conversation(s, user_id, cid)
            if ids is not None:  # `after` counts messages of the branch
                rows = self._rows(s, cid, ids[after : after + limit + 1])
                more = len(rows) > limit
                rows = rows[:limit]
                next_after = after + limit if more else None
            else:
                rows = list(
                    s.scalars(
                        select(StoredMessage)
                        .where(StoredMessage.conversation_id == cid, StoredMessage.seq > after)
                        .order_by(StoredMessage.seq)
                        .limit(limit + 1)
                    )
                )
                more = len(rows) > limit
                rows = rows[:limit]
                next_after = rows[-1].seq if more else None
            blobs = self._blobs(s, user_id, cid, rows)
        messages = [_decode(r, blobs.get(r.id, {})) for r in rows]
        return messages, next_after

    def _blobs(
        self, s: Session, user_id: int, cid: str, rows: list[StoredMessage]
    ) -> dict[str, dict[tuple[str, int], bytes | None]]:
        blobs: dict[str, dict[tuple[str, int], bytes | None]] = {}
        wanted = [r.id for r in rows if _has_files(r)]
        if wanted:
            for f in s.execute(
                select(File.message_id, File.slot, File.position, File.data).where(
                    File.conversation_id == cid,
                    File.user_id == user_id,
                    File.message_id.in_(wanted),
                )
            ):
                blobs.setdefault(f.message_id, {})[(f.slot, f.position)] = f.data
        return blobs

    # -- files ------------------------------------------------------------------------

    @_guard
    def get_file(self, *, user_id: int, file_id: str) -> StoredFile:
        """A stored file with its bytes, for download."""
        fid = _check_id(file_id, "file")
        with self.db.session() as s:
            row = s.scalars(
                select(File)
                .options(undefer(File.data))
                .where(File.id == fid, File.user_id == user_id)
            ).one_or_none()
            if row is None:
                raise NotFound("file")
            return StoredFile(info=_file_info(row), data=row.data)

    @_guard
    def list_files(self, *, user_id: int, conversation_id: str) -> list[FileInfo]:
        """Every file of one conversation, without bytes, in message order."""
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            self._conversation(s, user_id, cid)
            rows = s.scalars(
                select(File)
                .join(
                    StoredMessage,
                    and_(
                        StoredMessage.conversation_id == File.conversation_id,
                        StoredMessage.id == File.message_id,
                    ),
                )
                .where(File.conversation_id == cid, File.user_id == user_id)
                .order_by(StoredMessage.seq, File.slot.desc(), File.position)
            )
            return [_file_info(f) for f in rows]

    # -- share links ------------------------------------------------------------------

    @_guard
    def create_share(self, *, user_id: int, conversation_id: str) -> ShareInfo:
        """A new share link: a copy of the branch shown, messages and files, as it is now.

        The copy is what the link shows for ever (until revoked): later
        messages, edits and file changes stay out of it. The owner's feedback
        on answers is left out.
        """
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            conv = self._conversation(s, user_id, cid)
            rows = self._rows(s, cid, self._branch_ids(s, cid, conv.active_leaf))
            blobs = self._blobs(s, user_id, cid, rows)
            frozen = []
            for row in rows:
                message = _decode(row, blobs.get(row.id, {}))
                message.feedback = None
                message.feedback_comment = ""
                frozen.append(message.to_dict())
            share = Share(
                token=secrets.token_urlsafe(24),
                user_id=user_id,
                conversation_id=cid,
                title=conv.title,
                message_count=len(frozen),
                messages=frozen,
                created_at=utcnow(),
                revoked_at=None,
            )
            s.add(share)
            s.flush()
            return _share_info(share)

    @_guard
    def list_shares(self, *, user_id: int, conversation_id: str) -> list[ShareInfo]:
        """The conversation's share links that still work, newest first (owner only)."""
        cid = _check_id(conversation_id)
        with self.db.session() as s:
            self._conversation(s, user_id, cid)
            rows = s.scalars(
                select(Share)
                .where(
                    Share.user_id == user_id,
                    Share.conversation_id == cid,
                    Share.revoked_at.is_(None),
                )
                .order_by(Share.created_at.desc(), Share.token)
            )
            return [_share_info(r) for r in rows]

    @_guard
    def revoke_share(self, *, user_id: int, token: str) -> None:
        """Withdraw a share link; only its owner can (anyone else gets NotFound)."""
        if not is_valid_share_token(token):
            raise NotFound("share")
        with self.db.session() as s:
            row = s.scalars(
                select(Share).where(Share.token == token, Share.user_id == user_id)
            ).one_or_none()
            if row is None:
                raise NotFound("share")
            if row.revoked_at is None:
                row.revoked_at = utcnow()

    @_guard
    def open_share(self, *, token: str) -> Snapshot:
        """The snapshot behind a share link, for whoever holds the link.

        NotFound: no such link (mistyped, or its conversation was deleted);
        ShareRevoked: its owner withdrew it.
        """
        if not is_valid_share_token(token):
            raise NotFound("share")
        with self.db.session() as s:
            row = s.scalars(
                select(Share).options(undefer(Share.messages)).where(Share.token == token)
            ).one_or_none()
            if row is None:
                raise NotFound("share")
            if row.revoked_at is not None:
                raise ShareRevoked()
            info = _share_info(row)
            docs = list(row.messages)
        return Snapshot(info=info, messages=[Message.from_dict(d) for d in docs])


def _has_files(row: StoredMessage) -> bool:
    return any(isinstance(item.get("data"), dict) for item in (*row.parts, *row.attachments))


def _decode(row: StoredMessage, blobs: Mapping[tuple[str, int], bytes | None]) -> Message:
    message = decode_message(
        id=row.id,
        role=row.role,
        status=row.status,
        created_at=row.created_at,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        seconds=row.seconds,
        feedback=row.feedback,
        feedback_comment=row.feedback_comment,
        stopped_by=row.stopped_by,
        parent_id=row.parent_id or ROOT,
        parts=row.parts,
        attachments=row.attachments,
        blobs=blobs,
    )
    if message.status == "streaming" and not still_writing(row.writer, row.written_at):
        message.parts.append(ErrorPart(INTERRUPTED, retryable=True))
        message.status = "failed"
    return message
