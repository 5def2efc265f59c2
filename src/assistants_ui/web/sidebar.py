"""The sidebar: which assistant, and a new conversation."""

from __future__ import annotations

import streamlit as st

from assistants_ui.profiles import Profile
from assistants_ui.runtime import Runtime
from assistants_ui.web import state

__all__ = ["render_sidebar"]


def render_sidebar(rt: Runtime) -> Profile:
    """Draw the sidebar; returns the selected profile."""
    profile = state.selected_profile(rt)
    with st.sidebar:
        profiles = {p.id: p for p in rt.profiles}
        if len(profiles) > 1:
            st.selectbox(
                "Assistant",
                options=list(profiles),
                format_func=lambda pid: f"{profiles[pid].icon} {profiles[pid].title}",
                key=state.PROFILE_KEY,
                on_change=state.new_chat,
                help="Switching assistant starts a new conversation.",
            )
        st.button(
            "New chat",
            icon=":material/add_comment:",
            on_click=state.new_chat,
            width="stretch",
            key="new_chat",
        )
        st.caption(
            f"{profile.backend} · {rt.config.connection_for(profile).describe()}"
            + (f" · {profile.model}" if profile.model else "")
        )
    return state.selected_profile(rt)
