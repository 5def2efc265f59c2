"""The `files` rows storage wrote for a conversation, read straight from the table.

The page reads files only with their messages (`load_messages`); the tests
that check what is kept of each file (size, digest, whether the bytes were
stored, the provider's id, that a row is updated in place) read the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, and_, select

from assistants_ui.storage import Repository
from assistants_ui.storage.models import File, StoredMessage

FileRow = Row[str, str, str, int, str, bool, str, bytes | None]


def stored_files(repo: Repository, conversation_id: str) -> Sequence[FileRow]:
    """(id, name, kind, size, sha256, stored, provider_file_id, data) of each file of
    the conversation, in message order."""
    with repo.db.session() as s:
        return s.execute(
            select(
                File.id,
                File.name,
                File.kind,
                File.size,
                File.sha256,
                File.stored,
                File.provider_file_id,
                File.data,
            )
            .join(
                StoredMessage,
                and_(
                    StoredMessage.conversation_id == File.conversation_id,
                    StoredMessage.id == File.message_id,
                ),
            )
            .where(File.conversation_id == conversation_id)
            .order_by(StoredMessage.seq, File.slot.desc(), File.position)
        ).all()
