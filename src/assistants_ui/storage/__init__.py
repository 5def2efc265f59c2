"""Persistence of users, conversations, messages and files (SQLAlchemy 2 + Alembic).

The page calls `open_database(settings)` once per process, wraps it in a
`Repository` (every user-scoped room of storage in one object: users,
conversations, branches, messages and files, shares, feedback), and gives
each chat a `StorageRecorder` for the signed-in user.
Storage never imports Streamlit and knows no protocol: a message is a role,
a status, ordered parts and files.
"""

from assistants_ui.storage.conversations import ConversationInfo, ConversationPage, is_valid_id
from assistants_ui.storage.engine import Database, database_url, open_database, open_url
from assistants_ui.storage.errors import (
    NotFound,
    ShareRevoked,
    SkippedFile,
    StorageError,
    TooManyShares,
)
from assistants_ui.storage.export import (
    export_filename,
    to_json,
    to_markdown,
    write_json,
    write_markdown,
)
from assistants_ui.storage.feedback import FEEDBACK_MAX
from assistants_ui.storage.messages import MessagePage, SaveResult
from assistants_ui.storage.recorder import UNSAVED_USER, StorageRecorder
from assistants_ui.storage.repository import Repository
from assistants_ui.storage.shares import SharedFile, ShareInfo, Snapshot, is_valid_share_token
from assistants_ui.storage.users import UserInfo

__all__ = [
    "FEEDBACK_MAX",
    "UNSAVED_USER",
    "ConversationInfo",
    "ConversationPage",
    "Database",
    "MessagePage",
    "NotFound",
    "Repository",
    "SaveResult",
    "ShareInfo",
    "ShareRevoked",
    "SharedFile",
    "SkippedFile",
    "Snapshot",
    "StorageError",
    "StorageRecorder",
    "TooManyShares",
    "UserInfo",
    "database_url",
    "export_filename",
    "is_valid_id",
    "is_valid_share_token",
    "open_database",
    "open_url",
    "to_json",
    "to_markdown",
    "write_json",
    "write_markdown",
]
