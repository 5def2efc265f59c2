"""Share links: a conversation's branch shown, as it was, opened by its token.

Owns the `shares` table (revisions 0007, 0013). A share is a reference, not a
copy: `create_share` records the last message of the branch shown (`leaf_id`)
with the title and the number of messages, under a token of 32 URL-safe
random characters (the `?share=` of a link), a few hundred bytes whatever
the conversation holds. `open_share` reads that branch from `messages` with
the files' metadata only; a file's bytes are read when the page paints or
downloads it (`share_file`, which serves only files of that branch).

Why a reference is a snapshot: an ended message is never rewritten
(editing a question or regenerating an answer adds a sibling, later messages
hang below the leaf), so the branch above the leaf stays what was shared. An
answer still being written when the link is made is left out (it would go on
changing). A share cannot outlive what it points at: messages are only
deleted with their conversation, which deletes its shares (the link then
says it does not exist), so no reference count is needed. The owner's
feedback is never shown. Each user has at most MAX_SHARES_PER_USER links
that still open (`TooManyShares` past that).

A link made before revision 0013 whose copy could not be turned into a
reference still holds the copy (`messages`, files inline), read as before.

The owner lists and revokes their links; `open_share` is for whoever holds
the link (the page decides who may). An unknown, malformed or someone
else's token is `NotFound`; a revoked one `ShareRevoked`. `ShareInfo` is
built from the row by `share_info` only.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assistants_ui.core.transcript import Message
from assistants_ui.storage.branches import branch, leaf
from assistants_ui.storage.codec import from_row
from assistants_ui.storage.conversations import (
    check_id,
    is_valid_id,
    on_conversation,
    owned_conversation,
)
from assistants_ui.storage.errors import NotFound, ShareRevoked, TooManyShares
from assistants_ui.storage.messages import message_of, rows_in_order
from assistants_ui.storage.models import (
    Conversation,
    File,
    Share,
    StoredMessage,
    User,
    utcnow,
)
from assistants_ui.storage.store import Store, guarded
from assistants_ui.storage.writers import still_writing

__all__ = [
    "ShareInfo",
    "SharedFile",
    "Shares",
    "Snapshot",
    "is_valid_share_token",
    "share_info",
]

_SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


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
class SharedFile:
    """A file of a shared message: what the page shows before it reads the bytes."""

    id: str
    size: int
    stored: bool  # False: only its metadata was kept (over MAX_STORED_FILE_MB)


# Where a file sits: (message id, "part" or "attachment", position).
FileSlot = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a share link shows: the conversation's title and messages when it was shared.

    The messages come without their files' bytes (empty `data`): `files` says,
    for each file, its id, size and whether it was kept, and `share_file`
    reads its bytes. (A link made before revision 0013 that kept its copy
    has its bytes inline and `files` empty.)
    """

    info: ShareInfo
    messages: list[Message]
    files: dict[FileSlot, SharedFile] = field(default_factory=dict)
    profile_id: str = ""  # the assistant of the conversation (who may see it: the page's)


def share_info(row: Share) -> ShareInfo:
    return from_row(ShareInfo, row)


class Shares(Store):
    """The `shares` table: owners make, list and revoke links; anyone with one opens it."""

    @guarded
    def create_share(self, *, user_id: int, conversation_id: str) -> ShareInfo:
        """A new share link to the branch shown, as it is now.

        What the link shows for ever (until revoked or the conversation is
        deleted): later messages, edits and file changes stay out of it, as
        does an answer still being written. TooManyShares when the user
        already has MAX_SHARES_PER_USER links that open.
        """
        cid = check_id(conversation_id)
        with self.db.session() as s:
            # Claims the user's row (PostgreSQL row lock, SQLite write lock): two links
            # made at once are counted one after the other.
            if (
                s.execute(
                    update(User)
                    .where(User.id == user_id)
                    .values(last_seen_at=User.last_seen_at)
                    .returning(User.id)
                ).one_or_none()
                is None
            ):
                raise NotFound()
            conv = owned_conversation(s, user_id, cid)
            live = s.scalar(
                select(func.count())
                .select_from(Share)
                .where(Share.user_id == user_id, Share.revoked_at.is_(None))
            )
            if int(live or 0) >= self.db.max_shares_per_user:
                raise TooManyShares(self.db.max_shares_per_user)
            last = _shared_leaf(s, cid, conv.active_leaf)
            count = 0
            if last is not None:
                count = int(s.scalar(select(func.count()).select_from(branch(cid, last))) or 0)
            share = Share(
                token=secrets.token_urlsafe(24),
                user_id=user_id,
                conversation_id=cid,
                title=conv.title,
                message_count=count,
                leaf_id=last,
                messages=[],
                created_at=utcnow(),
                revoked_at=None,
            )
            s.add(share)
            s.flush()
            return share_info(share)

    @guarded
    def list_shares(self, *, user_id: int, conversation_id: str) -> list[ShareInfo]:
        """The conversation's share links that still work, newest first (owner only)."""
        cid = check_id(conversation_id)
        with on_conversation(self.db, user_id, cid) as (s, _):
            rows = s.scalars(
                select(Share)
                .where(
                    Share.user_id == user_id,
                    Share.conversation_id == cid,
                    Share.revoked_at.is_(None),
                )
                .order_by(Share.created_at.desc(), Share.token)
            )
            return [share_info(r) for r in rows]

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
        """The snapshot behind a share link, for whoever holds the link: its messages
        without their files' bytes (`Snapshot.files`, `share_file`).

        NotFound: no such link (mistyped, or its conversation was deleted);
        ShareRevoked: its owner withdrew it.
        """
        with self.db.session() as s:
            row = _open(s, token)
            info = share_info(row)
            cid = row.conversation_id
            profile_id = s.scalar(select(Conversation.profile_id).where(Conversation.id == cid))
            if row.leaf_id is None:  # a copy made before revision 0013, or nothing shared
                docs = list(s.scalars(select(Share.messages).where(Share.token == token)).one())
                return Snapshot(
                    info=info,
                    messages=[Message.from_dict(d) for d in docs],
                    profile_id=profile_id or "",
                )
            shown = branch(cid, row.leaf_id)
            rows = rows_in_order(s, cid, list(s.scalars(select(shown.c.id).order_by(shown.c.seq))))
            files = {
                (f.message_id, f.slot, f.position): SharedFile(f.id, f.size, f.stored)
                for f in s.execute(
                    select(
                        File.id, File.message_id, File.slot, File.position, File.size, File.stored
                    )
                    .join(shown, File.message_id == shown.c.id)
                    .where(File.conversation_id == cid)
                )
            }
        messages = []
        for r in rows:
            message = message_of(r, {})
            message.feedback = None  # the owner's, not the link's
            message.feedback_comment = ""
            messages.append(message)
        return Snapshot(info=info, messages=messages, files=files, profile_id=profile_id or "")

    @guarded
    def share_file(self, *, token: str, file_id: str) -> bytes:
        """The bytes of one file of a shared branch (`Snapshot.files`), read now.

        NotFound for a file that is not on the link's branch or was not kept;
        the link's own NotFound and ShareRevoked as `open_share`.
        """
        with self.db.session() as s:
            row = _open(s, token)
            if row.leaf_id is None or not is_valid_id(file_id):
                raise NotFound("file")
            shown = branch(row.conversation_id, row.leaf_id)
            data = s.scalars(
                select(File.data)
                .join(shown, File.message_id == shown.c.id)
                .where(File.conversation_id == row.conversation_id, File.id == file_id)
            ).one_or_none()
        if data is None:
            raise NotFound("file")
        return data


def _open(s: Session, token: str) -> Share:
    """The share row behind a link that opens (its copy, if any, not read)."""
    if not is_valid_share_token(token):
        raise NotFound("share")
    row = s.get(Share, token)
    if row is None:
        raise NotFound("share")
    if row.revoked_at is not None:
        raise ShareRevoked()
    return row


def _shared_leaf(s: Session, cid: str, active: str | None) -> str | None:
    """The last message a new link shows: the branch shown's, unless that is an
    answer still being written (then the one before it)."""
    last = leaf(s, cid, active)
    if last is None:
        return None
    parent, status, writer, written_at = s.execute(
        select(
            StoredMessage.parent_id,
            StoredMessage.status,
            StoredMessage.writer,
            StoredMessage.written_at,
        ).where(StoredMessage.conversation_id == cid, StoredMessage.id == last)
    ).one()
    if status == "streaming" and still_writing(writer, written_at):
        return parent
    return last
