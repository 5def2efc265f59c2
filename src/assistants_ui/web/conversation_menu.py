"""A conversation's actions: rename, pin, share, delete (asked once more), and in the
menu above the open conversation its usage and exports (Markdown, JSON).

The menu above the conversation (`render_menu`) and each entry of the sidebar's
history list (`web/sidebar.py`) draw the same controls (`rename_field`,
`pin_button`, `share_controls`, `delete_control`), keyed apart by `ActionKeys`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistants_ui.core.usage import NO_PRICES, Prices, describe
from assistants_ui.i18n import _
from assistants_ui.runtime import Runtime
from assistants_ui.storage import (
    ConversationInfo,
    NotFound,
    Repository,
    UserInfo,
    export_filename,
    write_json,
    write_markdown,
)
from assistants_ui.web import chat_state, projects_view, resources
from assistants_ui.web.share_view import render_share_menu

__all__ = [
    "ActionKeys",
    "delete_control",
    "pin_button",
    "rename_field",
    "render_menu",
    "render_usage",
    "share_controls",
]

_CONFIRM_KEY = "confirm_delete"  # the conversation id whose deletion awaits confirmation

Done = Callable[[], None] | None  # what an action does once it changed something


@dataclass(frozen=True, slots=True)
class ActionKeys:
    """The widget keys of one set of a conversation's controls. The menu above the
    conversation keeps short keys (`ActionKeys.menu`); a history entry's are its own."""

    prefix: str
    conversation_id: str

    @classmethod
    def menu(cls, conversation_id: str) -> ActionKeys:
        return cls("", conversation_id)

    @classmethod
    def entry(cls, conversation_id: str) -> ActionKeys:
        return cls(f"entry-{conversation_id}-", conversation_id)

    def __call__(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def rename(self) -> str:
        return f"{self.prefix}rename-{self.conversation_id}"


def _renamed(repo: Repository, user: UserInfo, key: str, conversation_id: str, done: Done) -> None:
    title = str(st.session_state.get(key, "")).strip()
    if not title:
        return
    try:
        repo.rename_conversation(user_id=user.id, conversation_id=conversation_id, title=title)
    except NotFound:
        return
    for other in (ActionKeys.menu(conversation_id), ActionKeys.entry(conversation_id)):
        if other.rename != key:  # the other field shows the new title when next drawn
            st.session_state.pop(other.rename, None)
    if done is not None:
        done()


def _pin(repo: Repository, user: UserInfo, conversation_id: str, pinned: bool, done: Done) -> None:
    try:
        repo.set_pinned(user_id=user.id, conversation_id=conversation_id, pinned=pinned)
    except NotFound:
        return
    if done is not None:
        done()


def _delete(
    rt: Runtime, repo: Repository, user: UserInfo, info: ConversationInfo, done: Done
) -> None:
    try:
        remotes = repo.delete_conversation(user_id=user.id, conversation_id=info.id)
    except NotFound:
        remotes = []
    resources.delete_remote_later(rt, info.profile_id, remotes)
    st.session_state.pop(_CONFIRM_KEY, None)
    chat = chat_state.current_chat()
    if chat is not None and chat.conversation_id == info.id:
        chat_state.new_chat()  # the conversation on the page is gone: a new one instead
    st.toast(_("Conversation deleted."), icon=":material/delete:")
    if done is not None:
        done()


def rename_field(
    repo: Repository, user: UserInfo, info: ConversationInfo, keys: ActionKeys, done: Done = None
) -> None:
    """The title, saved when changed (Enter or leaving the field)."""
    st.text_input(
        _("Title"),
        value=info.title,
        key=keys.rename,
        on_change=_renamed,
        args=(repo, user, keys.rename, info.id, done),
        max_chars=200,
    )


def pin_button(
    repo: Repository, user: UserInfo, info: ConversationInfo, keys: ActionKeys, done: Done = None
) -> None:
    """Pin to the top of the history, or unpin."""
    st.button(
        _("Unpin") if info.pinned else _("Pin to the top"),
        icon=":material/keep_off:" if info.pinned else ":material/keep:",
        key=keys("pin"),
        on_click=_pin,
        args=(repo, user, info.id, not info.pinned, done),
    )


def share_controls(repo: Repository, user: UserInfo, keys: ActionKeys) -> None:
    """Make a read-only snapshot link; the working ones, each revocable."""
    render_share_menu(repo, user, keys.conversation_id, key_prefix=keys.prefix)


def delete_control(
    rt: Runtime,
    repo: Repository,
    user: UserInfo,
    info: ConversationInfo,
    keys: ActionKeys,
    done: Done = None,
) -> None:
    """Delete…, then a warning with Delete and Cancel: nothing goes on one click."""
    if st.session_state.get(_CONFIRM_KEY) == info.id:
        st.warning(_("Delete this conversation and its files? This cannot be undone."))
        yes, no = st.columns(2)
        yes.button(
            _("Delete"),
            type="primary",
            key=keys("delete-yes"),
            on_click=_delete,
            args=(rt, repo, user, info, done),
            width="stretch",
        )
        no.button(
            _("Cancel"),
            key=keys("delete-no"),
            on_click=lambda: st.session_state.pop(_CONFIRM_KEY, None),
            width="stretch",
        )
    else:
        st.button(
            _("Delete…"),
            icon=":material/delete:",
            key=keys("delete"),
            on_click=lambda: st.session_state.__setitem__(_CONFIRM_KEY, info.id),
        )


def _export(repo: Repository, user: UserInfo, conversation_id: str, kind: str) -> BinaryIO:
    """The export, written a batch of messages at a time to a temporary file.

    Streamlit reads the file once into its media store; before, the whole
    conversation was loaded, every file base64-encoded in one document, that
    dumped to a string and the string encoded: several copies of everything.
    """
    info = repo.get_conversation(user_id=user.id, conversation_id=conversation_id)
    # Markdown is for reading: the branch shown. JSON keeps every branch (parent links).
    batches = repo.iter_messages(
        user_id=user.id, conversation_id=conversation_id, branch=kind == "md"
    )
    fd, path = tempfile.mkstemp(prefix="assistants-ui-export-")
    try:
        with os.fdopen(fd, "wb") as out:
            if kind == "md":
                write_markdown(info, batches, out)
            else:
                write_json(info, batches, out)
        reader = open(path, "rb")  # noqa: SIM115 - Streamlit reads it, then drops it
    finally:
        os.unlink(path)  # the open file stays readable; nothing is left on disk
    return reader


def render_usage(
    slot: DeltaGenerator | None,
    repo: Repository,
    user: UserInfo,
    conversation_id: str,
    prices: Prices = NO_PRICES,
) -> None:
    """The conversation's total usage (its cost with prices), into the menu's slot.

    Called once the page's answer has ended, so that the total counts it.
    """
    if slot is None:
        return
    try:
        tokens_in, tokens_out = repo.usage_totals(user_id=user.id, conversation_id=conversation_id)
    except NotFound:
        return
    total = describe(tokens_in, tokens_out, prices=prices)
    slot.caption(
        _("This conversation: %(usage)s") % {"usage": total}
        if total
        else _("No tokens counted yet.")
    )


def render_menu(
    rt: Runtime,
    repo: Repository,
    user: UserInfo,
    conversation_id: str,
    *,
    on_title: Callable[[str], None] | None = None,
) -> DeltaGenerator | None:
    """A popover with the conversation's actions (only for a saved conversation);
    `on_title` is given the conversation's title.

    Returns the slot in it where `render_usage` puts the conversation's total.
    """
    try:
        info = repo.get_conversation(user_id=user.id, conversation_id=conversation_id)
    except NotFound:
        return None
    if on_title is not None:
        on_title(info.title)
    keys = ActionKeys.menu(conversation_id)
    with st.popover(_("Conversation"), icon=":material/more_horiz:"):
        rename_field(repo, user, info, keys)
        usage = st.empty()
        projects_view.move_control(repo, user, info, keys.prefix)
        pin_button(repo, user, info, keys)
        share_controls(repo, user, keys)
        left, right = st.columns(2)
        left.download_button(
            "Markdown",
            data=lambda: _export(repo, user, conversation_id, "md"),
            file_name=export_filename(info, "md"),
            mime="text/markdown",
            icon=":material/download:",
            key="export-md",
            on_click="ignore",
            width="stretch",
        )
        right.download_button(
            "JSON",
            data=lambda: _export(repo, user, conversation_id, "json"),
            file_name=export_filename(info, "json"),
            mime="application/json",
            icon=":material/download:",
            key="export-json",
            on_click="ignore",
            width="stretch",
        )
        delete_control(rt, repo, user, info, keys)
    return usage
