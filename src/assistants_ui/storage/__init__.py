"""Persistence of users, conversations, messages and files (SQLAlchemy 2 + Alembic).

The page calls `open_database(settings)` once per process, wraps it in a
`Repository`, and gives each chat a `StorageRecorder` for the signed-in user.
Storage never imports Streamlit and knows no protocol: a message is a role,
a status, ordered parts and files.
"""

from assistants_ui.storage.engine import Database, database_url, open_database, open_url
from assistants_ui.storage.errors import NotFound, StorageError
from assistants_ui.storage.export import (
    export_filename,
    to_json,
    to_markdown,
    write_json,
    write_markdown,
)
from assistants_ui.storage.recorder import UNSAVED_USER, StorageRecorder
from assistants_ui.storage.repository import (
    ConversationInfo,
    ConversationPage,
    FileInfo,
    MessagePage,
    Repository,
    SaveResult,
    SkippedFile,
    StoredFile,
    UserInfo,
    is_valid_id,
)

__all__ = [
    "UNSAVED_USER",
    "ConversationInfo",
    "ConversationPage",
    "Database",
    "FileInfo",
    "MessagePage",
    "NotFound",
    "Repository",
    "SaveResult",
    "SkippedFile",
    "StorageError",
    "StorageRecorder",
    "StoredFile",
    "UserInfo",
    "database_url",
    "export_filename",
    "is_valid_id",
    "open_database",
    "open_url",
    "to_json",
    "to_markdown",
    "write_json",
    "write_markdown",
]
