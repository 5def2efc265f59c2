"""The `Recorder` a `ChatSession` commits through, backed by the repository.

The conversation row is created on the first save (the user's first
message), so an untouched "new chat" leaves nothing behind; so is the user
row of a guest browser (`user_id` 0 with `create_user`): visiting saves
nothing. Files over the
stored-file limit do not stop a save: their sentences collect in
`warnings` for the page to show (and clear).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Message
from assistants_ui.storage.codec import title_for
from assistants_ui.storage.repository import Repository

__all__ = ["UNSAVED_USER", "Placement", "StorageRecorder"]

UNSAVED_USER = 0  # a user id no row has (ids start at 1): made on the first save


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a conversation the recorder creates goes: into a project, and/or out of
    history as a temporary chat until `expires_at` (set by the page before the first
    message is saved)."""

    project_id: str | None = None
    expires_at: dt.datetime | None = None


class StorageRecorder:
    """Saves one user's session: messages as they are sent and end, remote refs."""

    def __init__(
        self,
        repository: Repository,
        *,
        user_id: int,
        create_user: Callable[[], int] | None = None,
    ) -> None:
        self.repository = repository
        self.user_id = user_id
        self.create_user = create_user
        self.warnings: list[str] = []
        self.placement = Placement()

    def conversation_id(self, session: ChatSession) -> str:
        """The session's conversation id, creating the conversation if it has none."""
        if self.user_id == UNSAVED_USER and self.create_user is not None:
            self.user_id = self.create_user()
        if session.conversation_id is None:
            info = self.repository.create_conversation(
                user_id=self.user_id,
                profile_id=session.profile.id,
                backend=session.profile.backend,
                remote=session.remote,
                project_id=self.placement.project_id,
                expires_at=self.placement.expires_at,
            )
            session.conversation_id = info.id
        return session.conversation_id

    def save_message(self, session: ChatSession, message: Message) -> None:
        cid = self.conversation_id(session)  # first: it may make the user's row
        result = self.repository.save_message(
            user_id=self.user_id, conversation_id=cid, message=message
        )
        self.warnings.extend(str(skipped) for skipped in result.skipped)

    def start_turn(self, session: ChatSession, question: Message, answer: Message) -> None:
        """A question and its answer's first row: one transaction when neither has files
        (and the conversation's row with them, for a new conversation)."""
        if self.user_id == UNSAVED_USER and self.create_user is not None:
            self.user_id = self.create_user()
        if question.attachments or answer.attachments:
            self.save_message(session, question)
            self.save_message(session, answer)
            return
        session.conversation_id = self.repository.start_turn(
            user_id=self.user_id,
            conversation_id=session.conversation_id,
            profile_id=session.profile.id,
            backend=session.profile.backend,
            remote=session.remote,
            question=question,
            answer=answer,
            project_id=self.placement.project_id,
            expires_at=self.placement.expires_at,
        )

    def checkpoint(self, session: ChatSession, message: Message) -> None:
        """An answer still being written, saved as far as it came (a crash keeps it)."""
        self.repository.checkpoint_message(
            user_id=self.user_id, conversation_id=self.conversation_id(session), message=message
        )

    def take_warnings(self) -> list[str]:
        taken, self.warnings = self.warnings, []
        return taken

    def save_feedback(self, session: ChatSession, message: Message) -> None:
        if session.conversation_id is None:
            return  # nothing saved yet, so nothing to judge
        self.repository.set_feedback(
            user_id=self.user_id,
            conversation_id=session.conversation_id,
            message_id=message.id,
            feedback=message.feedback,
            comment=message.feedback_comment,
        )

    def save_title(self, session: ChatSession, question: Message, title: str) -> bool:
        """The title the model wrote for the conversation `question` started; kept only
        where its title is still the one `question`'s first words gave."""
        if session.conversation_id is None:
            return False
        return self.repository.title_by_model(
            user_id=self.user_id,
            conversation_id=session.conversation_id,
            first_words=title_for(question),
            title=title,
        )

    def save_remote(self, session: ChatSession) -> None:
        cid = self.conversation_id(session)
        self.repository.set_remote(
            user_id=self.user_id,
            conversation_id=cid,
            remote=session.remote,
            message_id=session.remote_owner,
        )
