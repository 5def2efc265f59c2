"""The settings page: personal instructions, the memory and what it keeps (and, from
`prompt_library`, the reader's prompts).

A third `st.navigation` page (`/settings`), linked from the sidebar for
everyone signed in (and guests, whose row is made by their first save).
"About me" and "How to answer" are added to the instructions of every answer
on every assistant (`web/turns.py`); each is at most
PERSONAL_INSTRUCTIONS_MAX_CHARS, and a longer one is refused with one
sentence, what was typed staying in its field. Memory is off until the reader
turns it on: then assistants whose model calls tools are offered the
`remember` tool, and what it kept is listed here, each fact deletable (or
all at once). Nothing here is shown to anyone else.

Session-state keys: `_ABOUT_KEY`, `_HOW_KEY`, `_MEMORY_KEY` (the form's fields).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from assistants_ui.core.personal import check_personal
from assistants_ui.i18n import N_, _, format_datetime, format_number
from assistants_ui.settings import Settings
from assistants_ui.storage import UNSAVED_USER, Repository, UserInfo
from assistants_ui.web import reader

__all__ = ["PAGE_TITLE", "URL_PATH", "render_settings"]

PAGE_TITLE = N_("Settings")
URL_PATH = "settings"
_ABOUT_KEY = "personal-about"
_HOW_KEY = "personal-how"
_MEMORY_KEY = "personal-memory"
_FORM_KEY = "personal-form"


def _instructions(repo: Repository, user: UserInfo, settings: Settings) -> None:
    st.subheader(_("Personal instructions"))
    st.caption(
        _(
            "Added to the instructions of every assistant you talk to, in every "
            "conversation. Only you see them."
        )
    )
    saved = repo.personal(user_id=user.id) if user.id != UNSAVED_USER else None
    st.session_state.setdefault(_ABOUT_KEY, saved.about_me if saved else "")
    st.session_state.setdefault(_HOW_KEY, saved.how_to_answer if saved else "")
    st.session_state.setdefault(_MEMORY_KEY, saved.memory_enabled if saved else False)
    limit = settings.personal_instructions_max_chars
    # No `max_chars`: a longer text is refused with a sentence and stays in the field.
    with st.form(_FORM_KEY, clear_on_submit=False, border=False):
        st.text_area(
            _("About me"),
            key=_ABOUT_KEY,
            placeholder=_("What assistants should know about you: your work, your field…"),
            help=_("At most %(limit)s characters.") % {"limit": format_number(limit)},
        )
        st.text_area(
            _("How to answer"),
            key=_HOW_KEY,
            placeholder=_("How you like answers: short, with sources, in a language…"),
            help=_("At most %(limit)s characters.") % {"limit": format_number(limit)},
        )
        st.toggle(
            _("Memory: assistants may save facts you ask them to remember"),
            key=_MEMORY_KEY,
            help=_(
                "Only with assistants whose model can call tools. What is kept is listed "
                "below, and you can delete it."
            ),
        )
        submitted = st.form_submit_button(_("Save"), type="primary")
    if submitted:
        about, how = str(st.session_state[_ABOUT_KEY]), str(st.session_state[_HOW_KEY])
        problem = check_personal(about, how, max_chars=limit)
        if problem is not None:
            st.error(problem, icon="✋")
            return
        repo.set_personal(
            user_id=reader.saved_user_id(repo, user),
            about_me=about,
            how_to_answer=how,
            memory_enabled=bool(st.session_state[_MEMORY_KEY]),
            max_chars=limit,
        )
        st.toast(_("Saved: your next answers use them."), icon=":material/check:")
    if saved is not None and (saved.about_me or saved.how_to_answer):
        st.button(
            _("Delete my personal instructions"),
            icon=":material/delete:",
            key="personal-delete",
            on_click=_clear,
            args=(repo, user.id, saved.memory_enabled, limit),
            type="tertiary",
        )


def _clear(repo: Repository, user_id: int, memory: bool, limit: int) -> None:
    repo.set_personal(
        user_id=user_id, about_me="", how_to_answer="", memory_enabled=memory, max_chars=limit
    )
    for key in (_ABOUT_KEY, _HOW_KEY):
        st.session_state.pop(key, None)


def _forget(repo: Repository, user_id: int, memory_id: int | None) -> None:
    repo.forget(user_id=user_id, memory_id=memory_id)


def _memory(repo: Repository, user: UserInfo, settings: Settings) -> None:
    st.subheader(_("Memory"))
    facts = repo.memories(user_id=user.id) if user.id != UNSAVED_USER else []
    enabled = user.id != UNSAVED_USER and repo.personal(user_id=user.id).memory_enabled
    if not enabled:
        st.caption(_("Memory is off: assistants neither save nor read facts about you."))
    if not facts:
        st.caption(_("Nothing is kept."))
        return
    st.caption(
        _("Kept: %(count)s of at most %(limit)s facts, given to assistants while memory is on.")
        % {"count": format_number(len(facts)), "limit": format_number(settings.memory_max_facts)}
    )
    for fact in facts:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.text(fact.text, width="stretch")  # the model's words: text, never Markdown
            st.caption(format_datetime(fact.created_at))
            st.button(
                "",
                icon=":material/delete:",
                key=f"forget-{fact.id}",
                help=_("Delete this fact"),
                type="tertiary",
                on_click=_forget,
                args=(repo, user.id, fact.id),
            )
    st.button(
        _("Delete everything kept"),
        icon=":material/delete_sweep:",
        key="forget-all",
        on_click=_forget,
        args=(repo, user.id, None),
    )


def render_settings(
    repo: Repository,
    user: UserInfo,
    settings: Settings,
    *,
    more: Callable[[UserInfo], None] | None = None,
) -> None:
    """The settings page for `user`; `more(user)` draws further sections (prompts)."""
    st.title(_(PAGE_TITLE))
    user = reader.saved_user(user)
    _instructions(repo, reader.saved_user(user), settings)
    st.divider()
    _memory(repo, reader.saved_user(user), settings)
    if more is not None:
        st.divider()
        more(reader.saved_user(user))
