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
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from assistants_ui.core.transcript import Feedback, Message
from assistants_ui.storage.branches import (
    ROOT,
    Branches,
    branch_ids,
)
from assistants_ui.storage.codec import (
    from_row,
)
from assistants_ui.storage.conversations import (
    MAX_PAGE,
    ConversationInfo,
    ConversationPage,
    Conversations,
    check_id,
    is_valid_id,
    new_id,
    owned_conversation,
)
from assistants_ui.storage.errors import NotFound, ShareRevoked
from assistants_ui.storage.messages import (
    MessagePage,
    Messages,
    SaveResult,
    SkippedFile,
    blobs_of,
    message_of,
    rows_in_order,
)
from assistants_ui.storage.models import Share, StoredMessage, utcnow
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


def _share_info(row: Share) -> ShareInfo:
    return from_row(ShareInfo, row)


class Repository(Users, Conversations, Branches, Messages):
    """History for every user of one database; safe to share between threads."""

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
