"""Feedback: the reader's thumbs up or down, and comment, on an answer.

Owns `messages.feedback` and `messages.feedback_comment` (revision 0006):
`set_feedback` on one of the user's answers (None withdraws it), a comment
cut at `FEEDBACK_MAX` characters. Giving feedback is not activity: the
conversation keeps its place in the history. The JSON export carries it; a
share link's snapshot leaves it out (`shares.py`).
"""

from __future__ import annotations

from sqlalchemy import update

from assistants_ui.core.transcript import Feedback
from assistants_ui.storage.conversations import check_id, on_conversation
from assistants_ui.storage.errors import NotFound
from assistants_ui.storage.models import StoredMessage
from assistants_ui.storage.store import Store, guarded

__all__ = ["FEEDBACK_MAX", "AnswerFeedback"]

FEEDBACK_MAX = 2000  # characters of a feedback comment


class AnswerFeedback(Store):
    """What readers thought of the answers, each call scoped by the acting user."""

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
        with on_conversation(self.db, user_id, cid) as (s, _):
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
