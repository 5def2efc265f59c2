"""Branches on the page: "‹ 2 / 3 ›" between a message's versions, and editing a question.

Editing a sent question or regenerating an answer (`answer_actions`) forks
the conversation there (`ChatSession.edit` / `regenerate`); the earlier
versions stay and these controls step through them. Stepping to a version
shows the newest message under it (`Repository.switch_branch`) and reloads
the branch. While an answer streams they are painted but refuse to act (the
page says why): a click reruns the page, which leaves the answer running.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from assistants_ui.core.safe_markdown import literal
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.i18n import _
from assistants_ui.web import chat_state

__all__ = ["edit_button", "edit_form", "edit_key", "edited", "version_switcher"]

OnBranch = Callable[[str], None]


def version_switcher(chat: ChatSession, message: Message, on_branch: OnBranch | None) -> None:
    """‹ n / m › under a message that has other versions; a click shows that version."""
    versions = chat.siblings(message)
    if on_branch is None or len(versions) < 2 or message.id not in versions:
        return
    index = versions.index(message.id)
    # One unit ("‹ 2 / 3 ›"), as wide as its content: not spread across the row.
    with st.container(horizontal=True, vertical_alignment="center", gap=None, width="content"):
        st.button(
            "‹",
            key=f"version-prev-{message.id}",
            help=_("Previous version"),
            type="tertiary",
            disabled=index == 0,
            on_click=on_branch,
            args=(versions[index - 1] if index else message.id,),
        )
        st.caption(f"{index + 1} / {len(versions)}", width="content")
        st.button(
            "›",
            key=f"version-next-{message.id}",
            help=_("Next version"),
            type="tertiary",
            disabled=index == len(versions) - 1,
            on_click=on_branch,
            args=(versions[min(index + 1, len(versions) - 1)],),
        )


def edit_key(message_id: str) -> str:
    """The widget key of a question's edit box."""
    return f"edit-text-{message_id}"


def edit_button(message: Message) -> None:
    st.button(
        _("Edit"),
        key=f"edit-{message.id}",
        icon=":material/edit:",
        type="tertiary",
        help=_("Edit this message: the conversation goes on from it on a new branch"),
        on_click=chat_state.start_editing,
        args=(message.id,),
    )


def edit_form(message: Message) -> None:
    """The question as an editable text, its files as checkboxes (kept or removed)."""
    with st.form(key=f"edit-form-{message.id}", border=False):
        st.text_area(_("Edit your message"), value=message.text, key=edit_key(message.id))
        for index, att in enumerate(message.attachments):
            st.checkbox(
                _("Keep %(file)s") % {"file": literal(att.name)},
                value=True,
                key=f"edit-keep-{message.id}-{index}",
            )
        with st.container(horizontal=True):
            st.form_submit_button(
                _("Send edited message"),
                type="primary",
                icon=":material/send:",
                on_click=chat_state.request_action,
                args=(chat_state.Edit(message.id),),
            )
            st.form_submit_button(_("Cancel"), on_click=chat_state.stop_editing)


def edited(message: Message) -> tuple[str, list[Attachment]]:
    """What the edit form holds: the new text and the files kept."""
    text = str(st.session_state.get(edit_key(message.id), message.text))
    kept = [
        att
        for index, att in enumerate(message.attachments)
        if st.session_state.get(f"edit-keep-{message.id}-{index}", True)
    ]
    return text, kept
