"""Share links: a frozen copy of a conversation's branch shown, opened by its token.

Owns the `shares` table (revision 0007). `create_share` copies the branch
shown, messages and files (bytes inline), as it is now, under a token of 32
URL-safe random characters (the `?share=` of a link); later messages,
edits and file changes never reach it, and the owner's feedback is left
out. The owner lists and revokes their links; `open_share` is for whoever
holds the link (the page decides who may). An unknown, malformed or
someone else's token is `NotFound`; a revoked one `ShareRevoked`.
`ShareInfo` is built from the row by `share_info` only.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import undefer

from assistants_ui.core.transcript import Message
from assistants_ui.storage.branches import branch_ids
from assistants_ui.storage.codec import from_row
from assistants_ui.storage.conversations import check_id, on_conversation
from assistants_ui.storage.errors import NotFound, ShareRevoked
from assistants_ui.storage.messages import blobs_of, message_of, rows_in_order
from assistants_ui.storage.models import Share, utcnow
from assistants_ui.storage.store import Store, guarded

__all__ = ["ShareInfo", "Shares", "Snapshot", "is_valid_share_token", "share_info"]

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
class Snapshot:
    """What a share link shows: the conversation's title and messages when it was shared."""

    info: ShareInfo
    messages: list[Message]


def share_info(row: Share) -> ShareInfo:
    return from_row(ShareInfo, row)


class Shares(Store):
    """The `shares` table: owners make, list and revoke links; anyone with one opens it."""

    @guarded
    def create_share(self, *, user_id: int, conversation_id: str) -> ShareInfo:
        """A new share link: a copy of the branch shown, messages and files, as it is now.

        The copy is what the link shows for ever (until revoked): later
        messages, edits and file changes stay out of it. The owner's feedback
        on answers is left out.
        """
        cid = check_id(conversation_id)
        with on_conversation(self.db, user_id, cid) as (s, conv):
            rows = rows_in_order(s, cid, branch_ids(s, cid, conv.active_leaf))
            blobs = blobs_of(s, user_id, cid, rows)
            frozen = []
            for row in rows:
                message = message_of(row, blobs)
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
            info = share_info(row)
            docs = list(row.messages)
        return Snapshot(info=info, messages=[Message.from_dict(d) for d in docs])
