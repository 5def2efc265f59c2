"""The tables: users, conversations, messages and files (SQLAlchemy 2, typed).

Storage knows no protocol. A conversation keeps the backend's references in
`remote` (an opaque dict such as {"conversation": "conv_..."} or
{"thread": "thread_...", "vector_store": "vs_..."}); a message is a role, a
status and its ordered parts as JSON with every file's bytes moved out to
`files`, where each part or attachment that carried bytes has one row.
Messages form a tree (`parent_id`): editing a question or regenerating an
answer adds a sibling, a new branch, whose remote state lives on its first
message (`messages.remote`); `conversations.active_leaf` is the branch shown.

Times are UTC. Message times are epoch seconds (a double, so that the
`Message.created_at` float comes back exactly); the rest are datetimes.
Changing a table means a new Alembic revision in `migrations/versions/`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column

__all__ = [
    "AdminAudit",
    "AppKey",
    "Base",
    "Conversation",
    "Document",
    "DocumentChunk",
    "File",
    "LoginFailure",
    "LoginSession",
    "Memory",
    "PersonalInstructions",
    "Project",
    "ProjectConversation",
    "ProjectFile",
    "Prompt",
    "RemoteDeletion",
    "Share",
    "StoredMessage",
    "SweepRun",
    "TemporaryChat",
    "UsageLimit",
    "UsageRecord",
    "User",
    "UserGroup",
    "include_object",
    "utcnow",
]

# Named constraints, so that later migrations (and SQLite batch mode) can find them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDoc = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on the Python side, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        # SQLite keeps text without an offset: store naive UTC, which sorts correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """Anyone who signed in, by any method: `auth_provider` + `subject` is unique.

    `auth_provider` names the method ("password", "oidc:google", "anonymous"),
    `subject` the identity within it (a login name, the OIDC `sub`, a browser
    token). Credentials live with the login code, not here.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("auth_provider", "subject"), Index(None, "guest_address"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    auth_provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The interface language the user chose ("en", "ja", "zh"); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    # Disabled by an admin (assistants_ui.storage.admin): signed out, cannot sign in.
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disabled_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    # A guest's client address, as a keyed digest (GUEST_LIMITS_PER_ADDRESS: the guests of
    # one address share the guests' daily limit); None for everyone else.
    guest_address: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)


class Conversation(Base):
    """One conversation with one assistant profile, owned by one user."""

    __tablename__ = "conversations"
    __table_args__ = (Index(None, "user_id", "updated_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    profile_id: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(32))
    remote: Mapped[dict[str, str]] = mapped_column(JSONDoc, default=dict)
    title: Mapped[str] = mapped_column(String(200), default="")
    # Lower-cased copy of the title for portable case-insensitive search.
    title_folded: Mapped[str] = mapped_column(String(200), default="")
    # Pinned by its owner: listed before the others in the history.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The last message position handed out (messages.seq), bumped under a row lock.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The last message of the branch shown (None: the newest message).
    active_leaf: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StoredMessage(Base):
    """A message: its parts and attachments as JSON, bytes replaced by file ids."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"), Index(None, "created_at"))

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    # Lower-cased visible text (the user's words, the answer's text) for search.
    text_folded: Mapped[str] = mapped_column(Text, default="")
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # The answer's generation time (tokens per second for the local model).
    seconds: Mapped[float] = mapped_column(Double, default=0.0, server_default=text("0"))
    # The reader's thumbs ("up" / "down", None: not given) and optional comment.
    feedback: Mapped[str | None] = mapped_column(String(8), default=None)
    feedback_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The message before this one on its branch (None: a first message). Messages
    # form a tree: an edited question or a regenerated answer is a sibling.
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    # The backend's references for the branch this message starts (None: it
    # starts none; the branch uses its parent's, at the root the conversation's).
    remote: Mapped[dict[str, str] | None] = mapped_column(
        JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql"),
        nullable=True,
        default=None,
    )
    created_at: Mapped[float] = mapped_column(Double)
    # Who stopped a stopped answer ("user", "server", "unattended", "shutdown").
    stopped_by: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    # An answer still being written: the process writing it and when it last saved
    # it (epoch seconds), so that a reader tells "still being written" from "cut off".
    writer: Mapped[str | None] = mapped_column(String(300), nullable=True, default=None)
    written_at: Mapped[float | None] = mapped_column(Double, nullable=True, default=None)


class File(Base):
    """A file a message carried: uploaded by the user or generated by the assistant.

    `slot` and `position` say where it sits in its message (the n-th part or
    the n-th attachment). Bytes over the stored-file limit are not kept:
    `data` is NULL and `stored` is false, the metadata stays.
    """

    __tablename__ = "files"
    __table_args__ = (
        ForeignKeyConstraint(
            ["conversation_id", "message_id"],
            ["messages.conversation_id", "messages.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("conversation_id", "message_id", "slot", "position"),
        Index(None, "user_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(16))  # "part" | "attachment"
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # "uploaded" | "generated"
    name: Mapped[str] = mapped_column(Text)
    mime: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    stored: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    provider_file_id: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Share(Base):
    """A read-only snapshot of a conversation, opened by its random `token`.

    The snapshot is a reference, not a copy: `leaf_id` is the last message of
    the branch shown when it was shared, and the link shows that message and
    those above it (`parent_id`), read from `messages` and `files` when opened.
    Ended messages do not change (edits and regenerations add siblings; later
    messages hang below the leaf), so later messages, edits or file changes
    never show through the link. `messages` is empty, except in a link made
    before revision 0013 that could not be turned into a reference: there it
    still holds the old copy (`Message.to_dict()`, files' bytes inline, base64).
    Revoking sets `revoked_at`; deleting the conversation deletes its shares.
    """

    __tablename__ = "shares"
    __table_args__ = (Index(None, "user_id", "conversation_id"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    # The last message the link shows (None: none, or an old copy in `messages`).
    leaf_id: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    messages: Mapped[list[dict[str, Any]]] = deferred(
        mapped_column(JSONDoc, default=list, nullable=False)
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginFailure(Base):
    """Recent wrong passwords for one login name (assistants_ui.auth.lockout).

    Kept in the database so that every app process and replica sees the same
    count and the same lock. `subject` is the lower-cased login name as typed,
    known account or not. A row goes away on a successful login or once its
    failures are older than the cool-down.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index(None, "last_failure_at"),)

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginSession(Base):
    """One login, so that logging out ends it on the server (assistants_ui.auth.sessions).

    Password logins: `id` is a random token carried in the signed login cookie;
    the cookie is honoured only while its row exists, unexpired and unrevoked.
    Single sign-on: `id` is a digest of the ID token Streamlit's own cookie
    carries, and a revoked row refuses that cookie. Rows past `expires_at`
    are pruned.
    """

    __tablename__ = "login_sessions"
    __table_args__ = (Index(None, "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    auth_provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AppKey(Base):
    """Secrets the app makes for itself, shared by every process and replica.

    `anonymous-cookie`: the key that signs each guest browser's identity cookie.
    """

    __tablename__ = "app_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsageLimit(Base):
    """A daily cap set by an admin (assistants_ui.core.limits).

    `target` is ``user:<id>``, ``guests`` (every anonymous browser) or
    ``everyone``; `profile_id` one assistant, or "" for all of them together.
    NULL amounts are no cap.
    """

    __tablename__ = "usage_limits"

    target: Mapped[str] = mapped_column(String(64), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    messages_per_day: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tokens_per_day: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(320), default="")


class UsageRecord(Base):
    """The usage ledger: one row per message sent and per answer ended (storage/usage.py).

    Written once, when the message is first saved in its final state, and never
    changed; it outlives the conversation (no foreign key to it: deleting a
    conversation deletes its content, not its usage) and goes only with the
    user's row. `created_at` is the message's time (epoch seconds, as in
    `messages`): the UTC day it counts on.
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("conversation_id", "message_id"),
        Index(None, "user_id", "created_at"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    profile_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # "user": a message sent
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Double)


class AdminAudit(Base):
    """What an admin did: who (`actor`), `action`, to whom or what (`target`), `detail`."""

    __tablename__ = "admin_audit"
    __table_args__ = (Index(None, "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(320), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class UserGroup(Base):
    """A group a user is in, as far as the app knows it (storage/groups.py).

    `source` "admin": given on the admin page (audited); "sso": the groups claim
    of their last single sign-on, kept so that `check` and the admin page know
    the group exists (the page itself reads the claim of each run).
    """

    __tablename__ = "user_groups"
    __table_args__ = (Index(None, "name"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    assigned_by: Mapped[str] = mapped_column(String(320), default="")


class Document(Base):
    """A document people ask about, cut into `document_chunks` (storage/documents.py).

    `scope` says whose it is: ``c:<conversation id>`` (attached in a conversation:
    deleted with it) or ``k:<assistant id>`` (an operator's knowledge file, `source`
    its path). One row per content (`sha256`) per scope. `text` is the whole text
    when it is small enough to go into a prompt whole, else NULL.
    """

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("scope", "sha256"), Index(None, "conversation_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True
    )
    name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64))
    chars: Mapped[int] = mapped_column(BigInteger, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str | None] = deferred(mapped_column(Text, nullable=True, default=None))
    # The model that made the chunks' vectors ("": none) and their size.
    embedding_model: Mapped[str] = mapped_column(String(200), default="")
    dimensions: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentChunk(Base):
    """A passage of a document: its page and heading, its text, its vector (or NULL).

    `scope_key` is the document's scope as one word (`documents.scope_key`), which the
    full-text index holds too, so that a search is one index lookup per scope. The
    full-text index itself is not a model: on SQLite the FTS5 table
    `document_chunks_fts` (kept by triggers) and its vocabulary `document_chunks_vocab`,
    on PostgreSQL the generated `tsvector`
    column `search` with its GIN index (migration 0015).
    """

    __tablename__ = "document_chunks"
    __table_args__ = (Index(None, "scope_key"), Index(None, "document_id", "ordinal"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(40))
    ordinal: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))


# Schema objects the migrations make that are no model: the full-text indexes.
_UNMODELLED_TABLES = ("document_chunks_fts", "document_chunks_vocab")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """For Alembic's comparison: leave out the full-text indexes (see `DocumentChunk`)."""
    if type_ == "table" and name and name.startswith(_UNMODELLED_TABLES):
        return False
    if type_ == "column" and name == "search" and getattr(obj, "table", None) is not None:
        return str(obj.table.name) != "document_chunks"  # type: ignore[attr-defined]
    return not (type_ == "index" and name == "ix_document_chunks_search")


# -- For teams (revision 0017): projects, temporary chats and retention, the prompt
# library, personal instructions and memory. Tables of their own, beside the history's.


class Project(Base):
    """A user's folder of conversations with its own instructions and files
    (storage/projects.py); its conversations are `project_conversations` rows."""

    __tablename__ = "projects"
    __table_args__ = (Index(None, "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # Added to the instructions of every answer in the project's conversations.
    instructions: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProjectFile(Base):
    """A file of a project, its bytes kept here: read into the instructions of the
    project's answers while it is text, and what a document index reads when there
    is one (its `id` and `sha256` are stable)."""

    __tablename__ = "project_files"
    __table_args__ = (Index(None, "project_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    mime: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProjectConversation(Base):
    """Which project a conversation is in (at most one); goes with either."""

    __tablename__ = "project_conversations"
    __table_args__ = (Index(None, "project_id"),)

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))


class TemporaryChat(Base):
    """A conversation kept out of history, deleted when its page closes it or at
    `expires_at` (TEMPORARY_CHAT_HOURS), whichever comes first."""

    __tablename__ = "temporary_chats"
    __table_args__ = (Index(None, "expires_at"),)

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RemoteDeletion(Base):
    """The remote state of a deleted conversation (one branch's `remote`), waiting
    to be deleted on its server: written in the transaction that deleted the
    conversation, removed once the server deleted it (or after a few attempts)."""

    __tablename__ = "remote_deletions"
    __table_args__ = (Index(None, "claimed_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(String(64))
    remote: Mapped[dict[str, str]] = mapped_column(JSONDoc, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A process working on it until then (another replica leaves it alone).
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SweepRun(Base):
    """A periodic job shared by every replica (`retention`): who runs it now (until
    `claimed_until`) and when a run last finished, so that one replica runs it."""

    __tablename__ = "sweep_runs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(300), default="")
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Prompt(Base):
    """A saved prompt with `{{variables}}`: a user's own (`user_id`, audience ""), or
    published by an admin (`user_id` NULL; audience `everyone` or `group:<name>`)."""

    __tablename__ = "prompts"
    __table_args__ = (Index(None, "user_id"), Index(None, "audience"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    audience: Mapped[str] = mapped_column(String(255), default="")
    name: Mapped[str] = mapped_column(String(64))  # what follows "/" in the chat input
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PersonalInstructions(Base):
    """What a user wrote about themselves and how they want answers, added to every
    answer's instructions; whether the memory tool is on for them."""

    __tablename__ = "personal_instructions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    about_me: Mapped[str] = mapped_column(Text, default="")
    how_to_answer: Mapped[str] = mapped_column(Text, default="")
    memory_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Memory(Base):
    """A fact the user asked an assistant to remember (the memory tool)."""

    __tablename__ = "memories"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
