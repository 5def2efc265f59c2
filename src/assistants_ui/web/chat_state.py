"""The conversation on the page: which chat is open, opening, starting and
forgetting one, its older messages and branches, the question being edited,
and the action a button asks of the next run.

An answer being written outlives the page (`core.live.LiveAnswers`): leaving a
conversation, starting another or switching assistant never stops it, and
opening a conversation whose answer is still being written in this process
follows it (`follow_live`). What is typed while it streams waits here
(`queue`) and is sent when it ends.

Session-state keys (this module's own, read and written only here): `_CHAT_KEY`,
`_OLDER_KEY`, `_ACTION_KEY`, `_EDITING_KEY`, `_QUEUED_KEY`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from assistants_ui.core.backend import BackendError
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment
from assistants_ui.i18n import _
from assistants_ui.profiles import Profile
from assistants_ui.runtime import Runtime
from assistants_ui.storage import ConversationInfo, NotFound, Repository, UserInfo
from assistants_ui.web import picker, reader, resources, turns

__all__ = [
    "Action",
    "Decide",
    "Edit",
    "ReadOnlyChat",
    "Regenerate",
    "Retry",
    "Starter",
    "Typed",
    "chat_session",
    "current_chat",
    "drop_queued",
    "editing",
    "follow_live",
    "forget_chat",
    "load_older",
    "new_chat",
    "older_cursor",
    "open_conversation",
    "pop_action",
    "pop_queued",
    "queue",
    "queued",
    "refuse",
    "reload",
    "request_action",
    "start_editing",
    "stop_editing",
    "switch_branch",
]

_CHAT_KEY = "chat"  # the current ChatSession (or ReadOnlyChat)
_OLDER_KEY = "older"  # cursor for "load older messages" of the current chat (None: all loaded)
_ACTION_KEY = "action"  # a button's request for the next run (an `Action`)
_EDITING_KEY = "editing"  # the id of the question whose edit form is open
_QUEUED_KEY = "queued"  # what was sent while an answer streams (a `Typed`), sent after it
PAGE_MESSAGES = 50  # messages painted when a conversation opens; older ones on demand


@dataclass(frozen=True)
class Typed:
    """What the chat input sent: text, files, a voice recording."""

    text: str
    attachments: tuple[Attachment, ...] = ()
    recording: Attachment | None = None


def queue(typed: Typed) -> None:
    """Keep what was sent while an answer streams: `pop_queued` gives it back after it.
    A second message while one waits joins it (nothing typed is lost)."""
    waiting = queued()
    if waiting is not None:
        typed = Typed(
            f"{waiting.text}\n\n{typed.text}"
            if waiting.text and typed.text
            else waiting.text or typed.text,
            waiting.attachments + typed.attachments,
            typed.recording or waiting.recording,
        )
    st.session_state[_QUEUED_KEY] = typed


def queued() -> Typed | None:
    typed: Typed | None = st.session_state.get(_QUEUED_KEY)
    return typed


def pop_queued() -> Typed | None:
    typed: Typed | None = st.session_state.pop(_QUEUED_KEY, None)
    return typed


def drop_queued() -> None:
    st.session_state.pop(_QUEUED_KEY, None)


@dataclass(frozen=True)
class Retry:
    """Ask the failed last answer again."""

    message_id: str


@dataclass(frozen=True)
class Regenerate:
    """Answer this answer's question again, on a new branch."""

    message_id: str


@dataclass(frozen=True)
class Edit:
    """Send the edit form of this question, on a new branch."""

    message_id: str


@dataclass(frozen=True)
class Decide:
    """Approve or deny an MCP tool call that waits for it."""

    request_id: str
    approve: bool


@dataclass(frozen=True)
class Starter:
    """Send one of the assistant's suggested first messages."""

    text: str


Action = Retry | Regenerate | Edit | Decide | Starter


def request_action(action: Action) -> None:
    """Ask the next run to carry out `action` (a button's `on_click`)."""
    st.session_state[_ACTION_KEY] = action


def pop_action() -> Action | None:
    """The action a button asked for, once."""
    action: Action | None = st.session_state.pop(_ACTION_KEY, None)
    return action


@dataclass
class ReadOnlyChat:
    """A stored conversation shown, not continued: its assistant is no longer configured,
    or (`refused`) the person on the page may not use it (any more)."""

    info: ConversationInfo
    messages: list[Any]
    refused: bool = False

    @property
    def conversation_id(self) -> str:
        return self.info.id


def current_chat() -> ChatSession | ReadOnlyChat | None:
    chat: ChatSession | ReadOnlyChat | None = st.session_state.get(_CHAT_KEY)
    return chat


def forget_chat() -> None:
    """Drop the conversation held in this session (the next run loads or starts one)."""
    st.session_state.pop(_CHAT_KEY, None)
    st.session_state.pop(_OLDER_KEY, None)


def chat_session(rt: Runtime, profile: Profile, repo: Repository, user: UserInfo) -> ChatSession:
    """The conversation on the page; a new (unsaved) one when the assistant changed.

    Raises `BackendError` when the profile's backend cannot be built.
    """
    chat = current_chat()
    if isinstance(chat, ChatSession) and chat.profile == profile:
        return chat
    try:
        backend = rt.backend(profile)
    except BackendError:
        st.session_state.pop(_CHAT_KEY, None)
        raise
    saver = reader.recorder(repo, user)
    chat = ChatSession(
        profile,
        backend,
        recorder=saver,
        live=resources.live_answers(rt),
        library=reader.library(saver),
    )
    turns.attach(rt, repo, user, chat)
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
    refused = profile is not None and not picker.may_use(profile)
    if profile is not None and not refused:
        try:
            backend = rt.backend(profile)
        except BackendError:
            backend = None
    if profile is None or backend is None:
        # The owner's own messages stay theirs to read, whatever happened to its assistant.
        chat = ReadOnlyChat(info, page.messages, refused=refused)
    else:
        saver = reader.recorder(repo, user)
        chat = ChatSession(
            profile,
            backend,
            messages=page.messages,
            remote=page.remote,
            remote_owner=page.remote_owner,
            children=page.children,
            recorder=saver,
            conversation_id=info.id,
            live=resources.live_answers(rt),
            library=reader.library(saver),
        )
        turns.attach(rt, repo, user, chat)
        picker.select_profile(profile.id)
        follow_live(chat)
    st.session_state[_CHAT_KEY] = chat
    st.session_state[_OLDER_KEY] = page.before
    return chat


def refuse(
    rt: Runtime, repo: Repository, user: UserInfo, chat: ChatSession
) -> ChatSession | ReadOnlyChat | None:
    """`chat`'s assistant was taken away from the person on the page (a group removed
    meanwhile): its saved conversation opens read-only, an unsaved one is forgotten."""
    forget_chat()
    if chat.conversation_id is None:
        return None
    try:
        return open_conversation(rt, repo, user, chat.conversation_id)
    except NotFound:
        return None


def follow_live(chat: ChatSession) -> None:
    """Follow the answer being written in `chat`'s conversation by another page of
    this process (a second tab, a page reloaded), if any."""
    if chat.busy or chat.conversation_id is None or chat.live is None:
        return
    stream = chat.live.get(chat.conversation_id)
    if stream is not None:
        chat.follow(stream)


def reload(chat: ChatSession) -> None:
    """Forget `chat` so that the next run loads it again from storage (after
    following another page's answer, whose remote state that page saved)."""
    if current_chat() is chat:
        forget_chat()


def switch_branch(rt: Runtime, repo: Repository, user: UserInfo, message_id: str) -> None:
    """Show another version of a message: the branch through it, at its newest message."""
    chat = current_chat()
    if not isinstance(chat, ChatSession) or chat.conversation_id is None:
        return
    if chat.busy:
        st.toast(_("An answer is still being written: wait for it or stop it first."), icon="✋")
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
    """Forget the current conversation (the next run starts a new one); an answer
    still being written in it goes on."""
    forget_chat()
    st.session_state.pop(_ACTION_KEY, None)
    stop_editing()
    st.query_params.pop("c", None)
    st.query_params.pop("share", None)  # leaving a shared snapshot's page
