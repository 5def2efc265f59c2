"""Messages and their files: saving, loading the branch shown, paging, export batches.

Owns the `messages` and `files` tables. `save_message` is an upsert by
`Message.id`: a new message takes the next `seq` (a per-conversation counter
bumped under the conversation's row lock, so two writers never collide),
becomes the last of the branch shown, and titles an untitled conversation
if it is the user's first; a message saved ended for the first time (a
question, an answer that ended) gets its row in the usage ledger
(`usage.py`). `checkpoint_message` saves an answer still being written as
far as it came, with who writes it (`writers.py`), and never touches the
ledger. Bytes leave the parts for `files` (`save_files`); a file over
MAX_STORED_FILE_MB keeps its metadata only and is reported (`SkippedFile`).
`load_messages` pages the branch shown, newest first, with the tree's shape
around it; `iter_messages` reads every message (or the branch) a batch at a
time, for exports. A message is built from its row by `message_of` only.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistants_ui.core.transcript import ErrorPart, Message
from assistants_ui.storage.branches import ROOT, branch, branch_ids, branch_owner, leaf, versions
from assistants_ui.storage.codec import (
    EncodedMessage,
    FileBlob,
    decode_message,
    encode_message,
    fold_text,
    title_for,
)
from assistants_ui.storage.conversations import (
    MAX_PAGE,
    TITLE_MAX,
    check_id,
    check_project,
    new_id,
    on_conversation,
    owned,
    place,
)
from assistants_ui.storage.errors import INTERRUPTED, NotFound, SkippedFile
from assistants_ui.storage.models import Conversation, File, StoredMessage, utcnow
from assistants_ui.storage.store import Store, guarded
from assistants_ui.storage.usage import record_usage
from assistants_ui.storage.writers import still_writing, this_writer

__all__ = [
    "MessagePage",
    "Messages",
    "SaveResult",
    "blobs_of",
    "message_of",
    "rows_in_order",
]

# The stored bytes of messages' files: message id -> (slot, position) -> bytes (None: not kept).
Blobs = dict[str, dict[tuple[str, int], bytes | None]]


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
class SaveResult:
    skipped: tuple[SkippedFile, ...] = ()


class Messages(Store):
    """The `messages` and `files` tables, each call scoped by the acting user."""

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
            claimed = s.execute(
                update(Conversation)
                .where(owned(user_id, cid))
                .values(updated_at=utcnow())
                .returning(Conversation.title, Conversation.profile_id)
            ).one_or_none()
            if claimed is None:
                raise NotFound()
            title, profile_id = claimed
            row = s.get(StoredMessage, (cid, message.id))
            new = row is None
            # The usage ledger counts a message once: when it is first saved ended.
            if message.ended and (row is None or row.status == "streaming"):
                record_usage(s, user_id=user_id, profile_id=profile_id, cid=cid, message=message)
            if row is None:
                parent = parent_of(s, cid, message.parent_id)
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
                ids, skipped = save_files(
                    s, user_id, cid, message.id, encoded.files, self.db.max_file_bytes
                )
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

    @guarded
    def start_turn(
        self,
        *,
        user_id: int,
        conversation_id: str | None,
        profile_id: str,
        backend: str,
        remote: Mapping[str, str],
        question: Message,
        answer: Message,
        project_id: str | None = None,
        expires_at: dt.datetime | None = None,
    ) -> str:
        """A question and its answer's first row, in one transaction: the writes a send
        makes before the first words (the conversation's row too, with `conversation_id`
        None, placed in `project_id` and/or as a temporary chat until `expires_at`, as
        `create_conversation` places it). Four statements at most (two more to place a
        new conversation), where saving each message is six or seven:
        under load every statement waits for the GIL again (docs/benchmarks.md,
        "First words"). Messages with files go through `save_message`. The id of the
        conversation."""
        encoded = (encode_message(question), encode_message(answer))
        if any(e.files for e in encoded):
            raise ValueError("a message with files is saved by save_message")
        title = title_for(question)[:TITLE_MAX]
        now = utcnow()
        with self.db.session() as s:
            if conversation_id is None:
                cid, seq, parent = new_id(), 2, None
                check_project(s, user_id, project_id)
                try:
                    s.execute(
                        insert(Conversation).values(
                            id=cid,
                            user_id=user_id,
                            profile_id=profile_id,
                            backend=backend,
                            remote=dict(remote),
                            title=title,
                            title_folded=fold_text(title),
                            last_seq=seq,
                            active_leaf=answer.id,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                except IntegrityError as exc:  # no such user (a foreign key)
                    raise NotFound("user") from exc
                place(s, cid, project_id, expires_at)
            else:
                cid = check_id(conversation_id)
                untitled = Conversation.title == ""
                claimed = s.execute(
                    update(Conversation)
                    .where(owned(user_id, cid))
                    .values(
                        updated_at=now,
                        last_seq=Conversation.last_seq + 2,
                        active_leaf=answer.id,
                        title=case((untitled, title), else_=Conversation.title),
                        title_folded=case(
                            (untitled, fold_text(title)), else_=Conversation.title_folded
                        ),
                    )
                    .returning(Conversation.last_seq, Conversation.profile_id)
                ).one_or_none()
                if claimed is None:
                    raise NotFound()
                seq, profile_id = claimed
                parent = parent_of(s, cid, question.parent_id)
            s.execute(
                insert(StoredMessage),
                [
                    _row(cid, question, encoded[0], seq - 1, parent),
                    _row(cid, answer, encoded[1], seq, question.id),
                ],
            )
            record_usage(
                s, user_id=user_id, profile_id=profile_id, cid=cid, message=question, new=True
            )
        return cid

    @guarded
    def checkpoint_message(self, *, user_id: int, conversation_id: str, message: Message) -> bool:
        """Save an answer still being written, as far as it came: one UPDATE of its
        text, when it has no files (else `save_message`). False when the message is
        not saved as being written any more (it ended meanwhile: nothing is changed)."""
        encoded = encode_message(message)
        if encoded.files:
            self.save_message(user_id=user_id, conversation_id=conversation_id, message=message)
            return True
        cid = check_id(conversation_id)
        mine = select(Conversation.id).where(owned(user_id, cid)).scalar_subquery()
        with self.db.session() as s:
            done = s.execute(
                update(StoredMessage)
                .where(
                    StoredMessage.conversation_id == mine,
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
        still marked streaming whose writer is gone was cut off (the app stopped
        mid-answer): it comes back failed, retryable, with what had been saved;
        one still being written (`writers.still_writing`) comes back streaming.
        """
        cid = check_id(conversation_id)
        if limit is not None and not 1 <= limit <= MAX_PAGE * 10:
            raise ValueError(f"limit must be 1..{MAX_PAGE * 10} or None")
        with on_conversation(self.db, user_id, cid) as (s, conv):
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
            rows = rows_in_order(s, cid, [w.id for w in wanted])
            blobs = blobs_of(s, user_id, cid, rows)
            children = versions(s, cid, {w.parent_id or ROOT for w in wanted})
            owner = branch_owner(s, cid, shown)
            remote = owner[1] if owner is not None else dict(conv.remote or {})
        messages = [message_of(r, blobs) for r in rows]
        return MessagePage(
            messages=messages,
            before=rows[0].seq if more and rows else None,
            children=children,
            remote_owner=owner[0] if owner is not None else None,
            remote=remote,
        )

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
        with on_conversation(self.db, user_id, cid) as (s, conv):
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
        with on_conversation(self.db, user_id, cid) as (s, _):
            if ids is not None:  # `after` counts messages of the branch
                rows = rows_in_order(s, cid, ids[after : after + limit + 1])
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
            blobs = blobs_of(s, user_id, cid, rows)
        messages = [message_of(r, blobs) for r in rows]
        return messages, next_after


def _row(
    cid: str, message: Message, encoded: EncodedMessage, seq: int, parent: str | None
) -> dict[str, object]:
    """A new message's row, as `start_turn` inserts it (no files)."""
    writing = message.status == "streaming"
    return {
        "conversation_id": cid,
        "id": message.id,
        "seq": seq,
        "parent_id": parent,
        "role": message.role,
        "status": message.status,
        "parts": encoded.parts,
        "attachments": encoded.attachments,
        "text_folded": encoded.text_folded,
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "seconds": message.seconds,
        "feedback": None,
        "feedback_comment": "",
        "remote": None,
        "created_at": message.created_at,
        "stopped_by": message.stopped_by,
        "writer": this_writer() if writing else None,
        "written_at": time.time() if writing else None,
    }


def parent_of(s: Session, cid: str, parent_id: str | None) -> str | None:
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


def save_files(
    s: Session, user_id: int, cid: str, mid: str, blobs: list[FileBlob], limit: int
) -> tuple[list[str], list[SkippedFile]]:
    """Write a message's files (bytes only up to `limit`); their ids, and those not kept."""
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


def rows_in_order(s: Session, cid: str, ids: list[str]) -> list[StoredMessage]:
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


def blobs_of(s: Session, user_id: int, cid: str, rows: list[StoredMessage]) -> Blobs:
    """The stored bytes of these messages' files: by message id, then (slot, position)."""
    blobs: Blobs = {}
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


def _has_files(row: StoredMessage) -> bool:
    return any(isinstance(item.get("data"), dict) for item in (*row.parts, *row.attachments))


def message_of(row: StoredMessage, blobs: Blobs) -> Message:
    """The message a row holds, with its files' bytes from `blobs` (`blobs_of`).

    One still marked streaming whose writer is gone was cut off (the app stopped
    mid-answer): it comes back failed, retryable, with what had been saved.
    """
    message = decode_message(row, blobs.get(row.id, {}), parent_id=row.parent_id or ROOT)
    if message.status == "streaming" and not still_writing(row.writer, row.written_at):
        message.parts.append(ErrorPart(INTERRUPTED, retryable=True))
        message.status = "failed"
    return message
