"""Session-state keys of the chat page, and the process-wide caches.

Every key the page keeps in `st.session_state` is defined and documented
here; components read and write them through these functions only.
The runtime (configuration + backends) and the database are built once per
process with `st.cache_resource`; everything per user lives in session state
and storage.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import streamlit as st

from assistants_ui import i18n
from assistants_ui.core.backend import BackendError, distinct_remotes
from assistants_ui.core.session import ChatSession
from assistants_ui.i18n import _
from assistants_ui.profiles import Profile
from assistants_ui.runtime import Runtime, config_fingerprint, probe
from assistants_ui.storage import (
    UNSAVED_USER,
    ConversationInfo,
    ConversationPage,
    Database,
    NotFound,
    Repository,
    StorageRecorder,
    UserInfo,
    database_url,
    open_database,
)
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.models import utcnow
from assistants_ui.storage.repository import MAX_PAGE

__all__ = [
    "LANGUAGE_KEY",
    "PROFILE_KEY",
    "SEARCH_KEY",
    "NotFound",
    "ReadOnlyChat",
    "chat_session",
    "current_chat",
    "delete_remote_later",
    "editing",
    "history_limit",
    "history_page",
    "limit_refusal",
    "load_older",
    "new_chat",
    "older_cursor",
    "open_conversation",
    "pop_action",
    "reachability_problem",
    "repository",
    "request_action",
    "runtime",
    "saved_user",
    "show_more_history",
    "signed_in_user",
    "start_editing",
    "stop_editing",
    "switch_branch",
]

log = logging.getLogger(__name__)


class Identity(Protocol):
    """Who is signed in (see `assistants_ui.auth.Identity`)."""

    @property
    def auth_provider(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def email(self) -> str | None: ...


PROFILE_KEY = "assistant"  # the selected profile id (the picker's widget key)
LANGUAGE_KEY = "language"  # the interface language of this browser session (web/language.py)
SEARCH_KEY = "history_query"  # the sidebar's search box
_CHAT_KEY = "chat"  # the current ChatSession (or ReadOnlyChat)
_OLDER_KEY = "older"  # cursor for "load older messages" of the current chat (None: all loaded)
_ACTION_KEY = "action"  # a button's request for the next run: ("retry", message id)
_EDITING_KEY = "editing"  # the id of the question whose edit form is open
_USER_KEY = "user"  # (identity, UserInfo) of the signed-in user
_LIST_KEY = "history_limit"  # how many conversations the sidebar lists
PAGE_MESSAGES = 50  # messages painted when a conversation opens; older ones on demand


@st.cache_resource(show_spinner=False, max_entries=2)
def _runtime(fingerprint: tuple[object, ...]) -> Runtime:
    return Runtime.load()


def runtime() -> Runtime:
    """The runtime for the current configuration (rebuilt when a config file changes)."""
    return _runtime(config_fingerprint())


@st.cache_resource(show_spinner=False, max_entries=2)
def _database(url: str, _rt: Runtime) -> Database:
    return open_database(_rt.config.settings)


def repository(rt: Runtime) -> Repository:
    """The process-wide repository; `StorageError` if the database cannot be used."""
    return Repository(_database(database_url(rt.config.settings).render_as_string(), rt))


def signed_in_user(repo: Repository, identity: Identity) -> UserInfo:
    """The storage user for an identity (looked up once per browser session).

    A guest browser's row is made only when it first saves something: until
    then it is an unsaved user (`UNSAVED_USER`, no history), looked up again
    each run.
    """
    cached: tuple[Identity, UserInfo] | None = st.session_state.get(_USER_KEY)
    if cached is not None and cached[0] == identity and cached[1].id != UNSAVED_USER:
        return cached[1]
    user: UserInfo | None
    if identity.auth_provider == "anonymous":
        user = repo.find_user(auth_provider=identity.auth_provider, subject=identity.subject)
        if user is None:
            now = utcnow()
            user = UserInfo(
                UNSAVED_USER, identity.auth_provider, identity.subject, "", "", now, now
            )
        else:
            user = _ensure(repo, identity)
    else:
        user = _ensure(repo, identity)
    if cached is not None and cached[0] != identity:  # another user in this browser: forget all
        st.session_state.pop(_CHAT_KEY, None)
        st.session_state.pop(_OLDER_KEY, None)
    st.session_state[_USER_KEY] = (identity, user)
    return user


def saved_user(user: UserInfo) -> UserInfo:
    """`user`, or the row made for it since (a guest's first save, during this run)."""
    cached: tuple[Identity, UserInfo] | None = st.session_state.get(_USER_KEY)
    if user.id == UNSAVED_USER and cached is not None and cached[1].subject == user.subject:
        return cached[1]
    return user


def limit_refusal(repo: Repository, user: UserInfo, profile_id: str) -> str | None:
    """Why `user` may not send to `profile_id` now (a daily limit reached), or None."""
    now = utcnow()
    exceeded = Admin(repo.db, clock=lambda: now).check_limits(
        user_id=None if user.id == UNSAVED_USER else user.id,
        guest=user.auth_provider == "anonymous",
        profile_id=profile_id,
    )
    return exceeded.message(now) if exceeded is not None else None


def _ensure(repo: Repository, identity: Identity) -> UserInfo:
    return repo.ensure_user(
        auth_provider=identity.auth_provider,
        subject=identity.subject,
        display_name=identity.display_name,
        email=identity.email,
    )


def _recorder(repo: Repository, user: UserInfo) -> StorageRecorder:
    """The chat's recorder; for an unsaved guest it makes the users row on the first save."""
    cached: tuple[Identity, UserInfo] | None = st.session_state.get(_USER_KEY)

    def create() -> int:
        if cached is None:
            raise NotFound("user")
        saved = _ensure(repo, cached[0])
        st.session_state[_USER_KEY] = (cached[0], saved)
        return saved.id

    return StorageRecorder(repo, user_id=user.id, create_user=create)


@st.cache_data(ttl=60, show_spinner=False, max_entries=32)
def _probe(connection_json: str, _rt: Runtime, connection_id: str, language: str) -> str | None:
    with i18n.use(language):  # the sentence is cached per language
        return probe(_rt.config.connections[connection_id])


def reachability_problem(rt: Runtime, profile: Profile) -> str | None:
    """Why the profile's server cannot be used right now (checked at most once a minute)."""
    conn = rt.config.connection_for(profile)
    return _probe(conn.model_dump_json(), rt, conn.id, i18n.current())


def selected_profile(rt: Runtime) -> Profile:
    chosen = st.session_state.get(PROFILE_KEY)
    profile = rt.config.profile(chosen) if chosen else None
    if profile is None:
        profile = rt.profiles[0]
        st.session_state[PROFILE_KEY] = profile.id
    return profile


@dataclass
class ReadOnlyChat:
    """A stored conversation whose assistant is no longer configured: shown, not continued."""

    info: ConversationInfo
    messages: list[Any]

    @property
    def conversation_id(self) -> str:
        return self.info.id


def current_chat() -> ChatSession | ReadOnlyChat | None:
    chat: ChatSession | ReadOnlyChat | None = st.session_state.get(_CHAT_KEY)
    return chat


def chat_session(rt: Runtime, profile: Profile, repo: Repository, user: UserInfo) -> ChatSession:
    """The conversation on the page; a new (unsaved) one when the assistant changed.

    Raises `BackendError` when the profile's backend cannot be built.
    """
    chat = current_chat()
    if isinstance(chat, ChatSession) and chat.profile == profile:
        return chat
    if isinstance(chat, ChatSession) and chat.active is not None:
        chat.active.close()
    try:
        backend = rt.backend(profile)
    except BackendError:
        st.session_state.pop(_CHAT_KEY, None)
        raise
    chat = ChatSession(profile, backend, recorder=_recorder(repo, user))
    st.session_state[_CHAT_KEY] = chat
    st.session_state[_OLDER_KEY] = None
    return chat


def open_conversation(
    rt: Runtime, repo: Repository, user: UserInfo, conversation_id: str
) -> ChatSession | ReadOnlyChat:
    """Load a stored conversation (newest messages) to show and continue it.

    `NotFound` for a malformed id, an unknown one, or someone else's.
    """
    info = repo.get_conversation(user_id=user.id, conversation_id=conversation_id)
    page = repo.load_messages(user_id=user.id, conversation_id=info.id, limit=PAGE_MESSAGES)
    profile = rt.config.profile(info.profile_id)
    chat: ChatSession | ReadOnlyChat
    backend = None
    if profile is not None:
        try:
            backend = rt.backend(profile)
        except BackendError:
            backend = None
    if profile is None or backend is None:
        chat = ReadOnlyChat(info, page.messages)
    else:
        chat = ChatSession(
            profile,
            backend,
            messages=page.messages,
            remote=page.remote,
            remote_owner=page.remote_owner,
            children=page.children,
            recorder=_recorder(repo, user),
            conversation_id=info.id,
        )
        st.session_state[PROFILE_KEY] = profile.id
    old = current_chat()
    if isinstance(old, ChatSession) and old.active is not None:
        old.active.close()
    st.session_state[_CHAT_KEY] = chat
    st.session_state[_OLDER_KEY] = page.before
    return chat


def switch_branch(rt: Runtime, repo: Repository, user: UserInfo, message_id: str) -> None:
    """Show another version of a message: the branch through it, at its newest message."""
    chat = current_chat()
    if not isinstance(chat, ChatSession) or chat.conversation_id is None or chat.busy:
        return
    try:
        repo.switch_branch(
            user_id=user.id, conversation_id=chat.conversation_id, message_id=message_id
        )
        open_conversation(rt, repo, user, chat.conversation_id)
    except NotFound:
        st.toast(_("That version is not saved any more."), icon="🔎")
    stop_editing()


def editing() -> str | None:
    """The id of the question whose edit form is open."""
    value: str | None = st.session_state.get(_EDITING_KEY)
    return value


def start_editing(message_id: str) -> None:
    st.session_state[_EDITING_KEY] = message_id


def stop_editing() -> None:
    st.session_state.pop(_EDITING_KEY, None)


def older_cursor() -> int | None:
    cursor: int | None = st.session_state.get(_OLDER_KEY)
    return cursor


def load_older(repo: Repository, user: UserInfo) -> None:
    """Prepend the previous page of messages to the current conversation."""
    chat = current_chat()
    cursor = older_cursor()
    if chat is None or cursor is None or chat.conversation_id is None:
        return
    page = repo.load_messages(
        user_id=user.id, conversation_id=chat.conversation_id, limit=PAGE_MESSAGES, before=cursor
    )
    chat.messages[:0] = page.messages
    if isinstance(chat, ChatSession):  # the versions of the older messages too
        for parent, versions in page.children.items():
            chat.children.setdefault(parent, versions)
    st.session_state[_OLDER_KEY] = page.before


def new_chat() -> None:
    """Forget the current conversation (the next run starts a new one)."""
    chat = current_chat()
    if isinstance(chat, ChatSession) and chat.active is not None:
        chat.active.close()
    st.session_state.pop(_CHAT_KEY, None)
    st.session_state.pop(_OLDER_KEY, None)
    st.session_state.pop(_ACTION_KEY, None)
    st.session_state.pop(_EDITING_KEY, None)
    st.query_params.pop("c", None)
    st.query_params.pop("share", None)  # leaving a shared snapshot's page


def request_action(name: str, *args: Any) -> None:
    st.session_state[_ACTION_KEY] = (name, *args)


def pop_action() -> tuple[Any, ...] | None:
    action: tuple[Any, ...] | None = st.session_state.pop(_ACTION_KEY, None)
    return action


def history_limit() -> int:
    limit: int = st.session_state.get(_LIST_KEY, 30)
    return limit


def show_more_history() -> None:
    st.session_state[_LIST_KEY] = history_limit() + 30


def history_page(repo: Repository, user: UserInfo, query: str) -> ConversationPage:
    """The sidebar's first `history_limit()` conversations (matching `query`).

    Fetched a repository page (at most `MAX_PAGE`) at a time, so "More" keeps
    working past the repository's page size.
    """
    limit = history_limit()
    items: list[ConversationInfo] = []
    offset: int | None = 0
    while offset is not None and len(items) < limit:
        size = min(MAX_PAGE, limit - len(items))
        if query:
            page = repo.search_conversations(
                user_id=user.id, query=query, limit=size, offset=offset
            )
        else:
            page = repo.list_conversations(user_id=user.id, limit=size, offset=offset)
        items += page.items
        offset = page.next_offset
    return ConversationPage(items=items, next_offset=offset)


def delete_remote_later(rt: Runtime, profile_id: str, remotes: Sequence[dict[str, str]]) -> None:
    """Delete every branch's remote conversation/thread/vector store in the
    background (best effort)."""
    profile = rt.config.profile(profile_id)
    distinct = distinct_remotes(remotes)
    if profile is None or not distinct:
        return

    def work() -> None:
        for remote in distinct:
            try:
                rt.backend(profile).delete(remote)
            except Exception:
                log.warning("could not delete the remote side of a conversation", exc_info=True)

    threading.Thread(target=work, name="delete-remote", daemon=True).start()
