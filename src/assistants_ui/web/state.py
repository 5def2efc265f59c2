"""Session-state keys of the chat page, and the process-wide runtime cache.

Every key the page keeps in `st.session_state` is defined and documented
here; components read and write them through these functions only.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assistants_ui.backends.base import BackendError
from assistants_ui.core.session import ChatSession
from assistants_ui.profiles import Profile
from assistants_ui.runtime import Runtime, config_fingerprint

__all__ = [
    "PROFILE_KEY",
    "chat_session",
    "new_chat",
    "pop_action",
    "request_action",
    "runtime",
]

PROFILE_KEY = "assistant"  # the selected profile id (the picker's widget key)
_CHAT_KEY = "chat"  # the current ChatSession
_ACTION_KEY = "action"  # a button's request for the next run: ("retry", message id)


@st.cache_resource(show_spinner=False, max_entries=2)
def _runtime(fingerprint: tuple[object, ...]) -> Runtime:
    return Runtime.load()


def runtime() -> Runtime:
    """The runtime for the current configuration (rebuilt when a config file changes)."""
    return _runtime(config_fingerprint())


def selected_profile(rt: Runtime) -> Profile:
    profiles = rt.profiles
    chosen = st.session_state.get(PROFILE_KEY)
    profile = rt.config.profile(chosen) if chosen else None
    if profile is None:
        profile = profiles[0]
        st.session_state[PROFILE_KEY] = profile.id
    return profile


def chat_session(rt: Runtime, profile: Profile) -> ChatSession:
    """The conversation shown on the page; a new one when the assistant changed.

    Raises `BackendError` when the profile's backend cannot be built.
    """
    chat: ChatSession | None = st.session_state.get(_CHAT_KEY)
    if chat is not None and chat.profile == profile:
        return chat
    if chat is not None and chat.active is not None:
        chat.active.close()
    try:
        backend = rt.backend(profile)
    except BackendError:
        st.session_state.pop(_CHAT_KEY, None)
        raise
    chat = ChatSession(profile, backend)
    st.session_state[_CHAT_KEY] = chat
    return chat


def new_chat() -> None:
    """Forget the current conversation (the next run starts a new one)."""
    chat: ChatSession | None = st.session_state.pop(_CHAT_KEY, None)
    if chat is not None and chat.active is not None:
        chat.active.close()
    st.session_state.pop(_ACTION_KEY, None)


def request_action(name: str, *args: Any) -> None:
    st.session_state[_ACTION_KEY] = (name, *args)


def pop_action() -> tuple[Any, ...] | None:
    action: tuple[Any, ...] | None = st.session_state.pop(_ACTION_KEY, None)
    return action
