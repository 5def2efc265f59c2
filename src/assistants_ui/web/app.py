"""The Streamlit page: configuration problems, the sidebar, the conversation.

The only layer that imports Streamlit. It holds no logic of its own: it asks
the runtime for profiles and backends and the chat session for answers, and
paints what they return.
"""

from __future__ import annotations

import streamlit as st

from assistants_ui.backends.base import BackendError
from assistants_ui.runtime import Runtime
from assistants_ui.web import state
from assistants_ui.web.chat_view import render_chat
from assistants_ui.web.sidebar import render_sidebar

__all__ = ["main"]


def _problems(rt: Runtime) -> None:
    problems = rt.config.problems
    if problems:
        lines = "\n".join(f"- **{p.setting}**: {p.message}" for p in problems)
        st.error(f"The configuration has problems:\n\n{lines}", icon="⚙️")


def main() -> None:
    rt = state.runtime()
    profile = state.selected_profile(rt) if rt.profiles else None
    st.set_page_config(
        page_title=profile.title if profile else "Assistants UI",
        page_icon=profile.icon if profile else "🤖",
        layout="centered",
    )
    _problems(rt)
    if profile is None:
        st.info("No assistant is usable until the configuration above is fixed.")
        return
    profile = render_sidebar(rt)
    st.title(f"{profile.icon} {profile.title}")
    try:
        chat = state.chat_session(rt, profile)
    except BackendError as exc:
        st.error(exc.reason, icon="🚨")
        return
    render_chat(chat)
