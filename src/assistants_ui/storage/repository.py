"""`Repository`: every room of storage on one object, as callers have always used it.

Storage is kept in rooms, each a store of its own with one transaction per
call: users (`users.py`), conversations (`conversations.py`) and their
branches (`branches.py`), messages and files (`messages.py`), share links
(`shares.py`), feedback on answers (`feedback.py`), projects (`projects.py`),
temporary chats (`retention.py`), the prompt library (`prompts.py`), personal
instructions and memory (`personal.py`); login state (for
`auth/`) is `logins.py`'s and the admin page's cross-user queries `admin.py`'s.
`Repository(db)` is all the user-scoped rooms in one object (it inherits
each store's methods and adds none), so that the page, the CLI and the
recorder need not know which room a call lives in. Every call names the
acting user and the SQL itself is scoped by that user: another user's id,
a missing id and a malformed id all raise the same `NotFound`.
"""

from __future__ import annotations

from assistants_ui.storage.branches import ROOT, Branches
from assistants_ui.storage.conversations import (
    MAX_PAGE,
    ConversationInfo,
    ConversationPage,
    Conversations,
    is_valid_id,
    new_id,
)
from assistants_ui.storage.errors import SkippedFile
from assistants_ui.storage.feedback import FEEDBACK_MAX, AnswerFeedback
from assistants_ui.storage.messages import MessagePage, Messages, SaveResult
from assistants_ui.storage.personal import Personal
from assistants_ui.storage.projects import Projects
from assistants_ui.storage.prompts import Prompts
from assistants_ui.storage.retention import TemporaryChats
from assistants_ui.storage.shares import (
    SharedFile,
    ShareInfo,
    Shares,
    Snapshot,
    is_valid_share_token,
)
from assistants_ui.storage.users import UserInfo, Users

__all__ = [
    "FEEDBACK_MAX",
    "MAX_PAGE",
    "ROOT",
    "ConversationInfo",
    "ConversationPage",
    "MessagePage",
    "Repository",
    "SaveResult",
    "ShareInfo",
    "SharedFile",
    "SkippedFile",
    "Snapshot",
    "UserInfo",
    "is_valid_id",
    "is_valid_share_token",
    "new_id",
]


class Repository(
    Users,
    Conversations,
    Branches,
    Messages,
    AnswerFeedback,
    Shares,
    Projects,
    TemporaryChats,
    Prompts,
    Personal,
):
    """History for every user of one database; safe to share between threads."""
