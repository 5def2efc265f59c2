"""Share links: the owner's part of the conversation menu, and the page a link opens.

A link (`?share=<token>`) shows a snapshot of the conversation, painted by
the same read-only path as stored messages (`render_messages`), so that its
text is as inert as everywhere else. Its files' bytes are read through the
link one at a time, an image when it is painted and any other file when its
download is clicked (`Repository.share_file`), so a conversation of large
files is never in memory whole. Who may open it is `SHARE_LINKS_PUBLIC`'s
business in `app.py`, and the assistant's: a conversation with a restricted
assistant (`allowed_users`, `allowed_groups`) shows only to those who may use
it (`may_see`); what it shows is storage's (`Repository.open_share`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from assistants_ui.core.safe_markdown import literal
from assistants_ui.i18n import N_, _, format_datetime, format_number, ngettext
from assistants_ui.storage import (
    NotFound,
    Repository,
    ShareInfo,
    ShareRevoked,
    Snapshot,
    TooManyShares,
    UserInfo,
)
from assistants_ui.web.chat_view import render_messages
from assistants_ui.web.render import FileSource, LazyFile

__all__ = ["QUERY_KEY", "REVOKED", "UNKNOWN", "render_share_menu", "render_shared"]

QUERY_KEY = "share"
UNKNOWN = N_("This share link does not exist: it may be mistyped, or its conversation was deleted.")
REVOKED = N_("This share link was revoked by its owner.")
NOT_FOR_YOU = N_(
    "This share link shows a conversation with an assistant you may not use, so it does not "
    "open for you: ask the app's administrator for access to that assistant."
)


def share_url(token: str) -> str:
    """The link as the browser will need it: this page's address with `?share=`."""
    base = (st.context.url or "").split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{QUERY_KEY}={token}"


def render_shared(
    repo: Repository,
    token: str,
    *,
    may_see: Callable[[str], bool] = lambda profile_id: True,
    sign_in: bool = False,
) -> bool:
    """The snapshot behind `token`, read-only, or one sentence saying why not; True.

    `may_see(profile_id)`: whether the reader may see a conversation with that
    assistant. If not: with `sign_in`, nothing is drawn and False returned (the page
    asks who is reading first); else one sentence."""
    try:
        snapshot = repo.open_share(token=token)
    except NotFound:
        st.error(_(UNKNOWN), icon="🔗")
        return True
    except ShareRevoked:
        st.error(_(REVOKED), icon="🔗")
        return True
    if not may_see(snapshot.profile_id):
        if sign_in:
            return False
        st.error(_(NOT_FOR_YOU), icon="🔒")
        return True
    st.title(literal(snapshot.info.title) or _("Shared conversation"))
    st.info(
        _("A read-only snapshot shared on %(when)s: what was said after it is not shown.")
        % {"when": format_datetime(snapshot.info.created_at)},
        icon=":material/share:",
    )
    render_messages(snapshot.messages, files=_files(repo, token, snapshot))
    return True


def _files(repo: Repository, token: str, snapshot: Snapshot) -> FileSource:
    """Each file of the snapshot, read through the link when it is wanted."""

    def source(message_id: str, slot: str, position: int) -> LazyFile | None:
        found = snapshot.files.get((message_id, slot, position))
        if found is None:
            return None
        read = partial(repo.share_file, token=token, file_id=found.id)
        return LazyFile(size=found.size, stored=found.stored, read=read)

    return source


def _create(repo: Repository, user: UserInfo, conversation_id: str) -> None:
    try:
        repo.create_share(user_id=user.id, conversation_id=conversation_id)
    except NotFound:
        st.toast(_("This conversation is not saved any more: nothing was shared."), icon="🔎")
        return
    except TooManyShares as refused:
        st.toast(str(refused), icon=":material/block:")
        return
    st.toast(_("Share link made: copy it from the menu."), icon=":material/share:")


def _revoke(repo: Repository, user: UserInfo, token: str) -> None:
    try:
        repo.revoke_share(user_id=user.id, token=token)
    except NotFound:
        return
    st.toast(_("Share link revoked: it no longer opens."), icon=":material/link_off:")


def _listed(share: ShareInfo) -> str:
    wording = ngettext(
        "Snapshot of %(when)s, %(count)s message:",
        "Snapshot of %(when)s, %(count)s messages:",
        share.message_count,
    )
    return wording % {
        "when": format_datetime(share.created_at),
        "count": format_number(share.message_count),
    }


def render_share_menu(
    repo: Repository, user: UserInfo, conversation_id: str, *, key_prefix: str = ""
) -> None:
    """In a conversation's menu: make a snapshot link; the working ones, each revocable.
    `key_prefix` keeps the keys of the history entry's menu apart from the page's."""
    st.button(
        _("Share a read-only snapshot"),
        icon=":material/share:",
        key=f"{key_prefix}share",
        on_click=_create,
        args=(repo, user, conversation_id),
        help=_("Later messages will not show through the link."),
    )
    for share in repo.list_shares(user_id=user.id, conversation_id=conversation_id):
        st.caption(_listed(share))
        st.code(share_url(share.token), language=None, wrap_lines=True)
        st.button(
            _("Revoke"),
            icon=":material/link_off:",
            key=f"{key_prefix}revoke-{share.token}",
            on_click=_revoke,
            args=(repo, user, share.token),
        )
