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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session, undefer

from assistants_ui.core.transcript import ErrorPart, Feedback, Message
from assistants_ui.i18n import _, format_number
from assistants_ui.storage.branches import (
    ROOT,
    Branches,
    branch,
    branch_ids,
    branch_owner,
    leaf,
    versions,
)
from assistants_ui.storage.codec import (
    FileBlob,
    decode_message,
    encode_message,
    fold_text,
    from_row,
    title_for,
)
from assistants_ui.storage.conversations import (
    MAX_PAGE,
    TITLE_MAX,
    ConversationInfo,
    ConversationPage,
    Conversations,
    check_id,
    is_valid_id,
    new_id,
    owned,
    owned_conversation,
)
from assistants_ui.storage.errors import NotFound, ShareRevoked
from assistants_ui.storage.models import Conversation, File, Share, StoredMessage, utcnow
from assistants_ui.storage.store import guarded
from assistants_ui.storage.users import UserInfo, Users

__all__ = [
    "MAX_PAGE",
    "ROOT",
    "ConversationInfo",
    "ConversationPage",
    "MessagePage",
    "Repository",
    "SaveResult",
    "ShareInfo",
    "SkippedFile",
    "Snapshot",
    "UserInfo",
    "is_valid_id",
    "is_valid_share_token",
    "new_id",
]

_SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
FEEDBACK_MAX = 2000  # characters of a feedback comment
INTERRUPTED = "The answer was cut off: the app stopped while it was being written."


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


def _share_info(row: Share) -> ShareInfo:
    return from_row(ShareInfo, row)


class Repository(Users, Conversations, Branches):
    """History for every user of one database; safe to share between threads."""

    # -- messages ---------------------------------------------------------------------

    @guarded
    def save_message(self, *, user_id: int, conversation_id: str, message: Message) -> SaveResult:
        """Insert or update a message (by `message.id`), its files and the title.

        The first user message titles an untitled conversation. A file over the
        stored-file limit keeps its metadata only and is listed in the result.
        """
        cid = check_id(conversation_id)
        if not message.id or len(message.id) > 64:
            raise ValueError("a message id must be 1..64 characters")
        encoded = encode_message(message)
        with self.db.session() as s:
            # Claims the conversation's row (PostgreSQL row lock, SQLite write lock)
            # and proves ownership in one statement.
            title = s.execute(
                update(Conversation)
                .where(owned(user_id, cid))
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
        return leaf(s, cid, active)

    @guarded
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
        cid = check_id(conversation_id)
        if feedback not in (None, "up", "down"):
            raise ValueError("feedback is 'up', 'down' or None")
        with self.db.session() as s:
            owned_conversation(s, user_id, cid)
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

    @guarded
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
        still marked streaming was cut off (the app stopped mid-answer): it
        comes back failed, retryable, with what had been saved.
        """
        cid = check_id(conversation_id)
        if limit is not None and not 1 <= limit <= MAX_PAGE * 10:
            raise ValueError(f"limit must be 1..{MAX_PAGE * 10} or None")
        with self.db.session() as s:
            conv = owned_conversation(s, user_id, cid)
            shown = branch(cid, leaf(s, cid, conv.active_leaf))
            query = select(shown.c.id, shown.c.parent_id, shown.c.seq)
            if before is not None:
                query = query.where(shown.c.seq < before)
            query = query.order_by(shown.c.seq.desc())
            if limit is not None:
                query = query.limit(limit + 1)
            wanted = list(s.execute(query))
            more = limit is not None and len(wanted) > limit
            wanted = wanted[:limit] if limit is not None else wanted
            wanted.reverse()
            rows = self._rows(s, cid, [w.id for w in wanted])
            blobs = self._blobs(s, user_id, cid, rows)
            children = versions(s, cid, {w.parent_id or ROOT for w in wanted})
            owner = branch_owner(s, cid, shown)
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

    @guarded
    def _shown_ids(self, user_id: int, conversation_id: str) -> list[str]:
        cid = check_id(conversation_id)
        with self.db.session() as s:
            conv = owned_conversation(s, user_id, cid)
            return branch_ids(s, cid, conv.active_leaf)

    @guarded
    def _batch_after(
        self,
        user_id: int,
        conversation_id: str,
        after: int,
        limit: int,
        ids: list[str] | None = None,
    ) -> tuple[list[Message], int | None]:
        cid = check_id(conversation_id)
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"batch must be 1..{MAX_PAGE}")
        with self.db.session() as s:
            owned_conversation(s, user_id, cid)
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

    # -- share links ------------------------------------------------------------------

    @guarded
    def create_share(self, *, user_id: int, conversation_id: str) -> ShareInfo:
        """A new share link: a copy of the branch shown, messages and files, as it is now.

        The copy is what the link shows for ever (until revoked): later
        messages, edits and file changes stay out of it. The owner's feedback
        on answers is left out.
        """
        cid = check_id(conversation_id)
        with self.db.session() as s:
            conv = owned_conversation(s, user_id, cid)
            rows = self._rows(s, cid, branch_ids(s, cid, conv.active_leaf))
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

    @guarded
    def list_shares(self, *, user_id: int, conversation_id: str) -> list[ShareInfo]:
        """The conversation's share links that still work, newest first (owner only)."""
        cid = check_id(conversation_id)
        with self.db.session() as s:
            owned_conversation(s, user_id, cid)
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

    @guarded
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

    @guarded
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
    message = decode_message(row, blobs, parent_id=row.parent_id or ROOT)
    if message.status == "streaming":
        message.parts.append(ErrorPart(INTERRUPTED, retryable=True))
        message.status = "failed"
    return message
