"""The current conversation's menu: rename, its usage, pin, share, export (Markdown, JSON),
delete."""

from __future__ import annotations

import os
import tempfile
from typing import BinaryIO

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistants_ui.core.usage import NO_PRICES, Prices, describe
from assistants_ui.i18n import _
from assistants_ui.runtime import Runtime
from assistants_ui.storage import (
    NotFound,
    Repository,
    UserInfo,
    export_filename,
    write_json,
    write_markdown,
)
from assistants_ui.web import chat_state, deps
from assistants_ui.web.share_view import render_share_menu

__all__ = ["render_menu", "render_usage"]

_CONFIRM_KEY = "confirm_delete"  # the conversation id whose deletion awaits confirmation


def _rename(repo: Repository, user: UserInfo, conversation_id: str) -> None:
    title = str(st.session_state.get(f"rename-{conversation_id}", "")).strip()
    if title:
        repo.rename_conversation(user_id=user.id, conversation_id=conversation_id, title=title)


def _pin(repo: Repository, user: UserInfo, conversation_id: str, pinned: bool) -> None:
    repo.set_pinned(user_id=user.id, conversation_id=conversation_id, pinned=pinned)


def _delete(rt: Runtime, repo: Repository, user: UserInfo, conversation_id: str) -> None:
    chat = chat_state.current_chat()
    profile_id = getattr(getattr(chat, "profile", None), "id", None) or getattr(
        getattr(chat, "info", None), "profile_id", ""
    )
    try:
        remotes = repo.delete_conversation(user_id=user.id, conversation_id=conversation_id)
    except NotFound:
        remotes = []
    deps.delete_remote_later(rt, str(profile_id), remotes)
    st.session_state.pop(_CONFIRM_KEY, None)
    chat_state.new_chat()
    st.toast(_("Conversation deleted."), icon=":material/delete:")


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
    rt: Runtime, repo: Repository, user: UserInfo, conversation_id: str
) -> DeltaGenerator | None:
    """A popover with the conversation's actions (only for a saved conversation).

    Returns the slot in it where `render_usage` puts the conversation's total.
    """
    try:
        info = repo.get_conversation(user_id=user.id, conversation_id=conversation_id)
    except NotFound:
        return None
    with st.popover(_("Conversation"), icon=":material/more_horiz:"):
        st.text_input(
            _("Title"),
            value=info.title,
            key=f"rename-{conversation_id}",
            on_change=_rename,
            args=(repo, user, conversation_id),
            max_chars=200,
        )
        usage = st.empty()
        st.button(
            _("Unpin") if info.pinned else _("Pin to the top"),
            icon=":material/keep_off:" if info.pinned else ":material/keep:",
            key="pin",
            on_click=_pin,
            args=(repo, user, conversation_id, not info.pinned),
        )
        render_share_menu(repo, user, conversation_id)
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
        if st.session_state.get(_CONFIRM_KEY) == conversation_id:
            st.warning(_("Delete this conversation and its files? This cannot be undone."))
            yes, no = st.columns(2)
            yes.button(
                _("Delete"),
                type="primary",
                key="delete-yes",
                on_click=_delete,
                args=(rt, repo, user, conversation_id),
                width="stretch",
            )
            no.button(
                _("Cancel"),
                key="delete-no",
                on_click=lambda: st.session_state.pop(_CONFIRM_KEY, None),
                width="stretch",
            )
        else:
            st.button(
                _("Delete…"),
                icon=":material/delete:",
                key="delete",
                on_click=lambda: st.session_state.__setitem__(_CONFIRM_KEY, conversation_id),
            )
    return usage
