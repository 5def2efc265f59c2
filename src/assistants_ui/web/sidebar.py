"""The sidebar: which assistant, a new conversation, and the user's history.

History lists the signed-in user's conversations, pinned ones first, then
newest activity first, a page at a time; the search box filters by title and message text (both done
by the repository, scoped to the user).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistants_ui.core.safe_markdown import literal
from assistants_ui.i18n import _, format_datetime
from assistants_ui.runtime import Runtime
from assistants_ui.storage import ConversationInfo, ConversationPage, Repository, UserInfo
from assistants_ui.storage.repository import MAX_PAGE
from assistants_ui.web import chat_state, deps

__all__ = ["render_history", "render_sidebar"]

SEARCH_KEY = "history_query"  # the search box
_LIST_KEY = "history_limit"  # how many conversations the list shows
HISTORY_STEP = 30  # conversations listed at first, and added by each "More"


def _open(conversation_id: str) -> None:
    st.query_params["c"] = conversation_id
    st.query_params.pop("share", None)  # leaving a shared snapshot's page
    chat_state.forget_chat()  # the run loads it from the deep link


def history_limit() -> int:
    limit: int = st.session_state.get(_LIST_KEY, HISTORY_STEP)
    return limit


def show_more_history() -> None:
    st.session_state[_LIST_KEY] = history_limit() + HISTORY_STEP


def history_page(repo: Repository, user: UserInfo, query: str) -> ConversationPage:
    """The first `history_limit()` conversations (matching `query`).

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


@st.fragment
def _history(titles: dict[str, str], repo: Repository, user: UserInfo, max_chars: int) -> None:
    """The list and its search box: a fragment, so that searching or paging reruns
    only the sidebar, not the conversation on the page."""
    # MAX_SEARCH_CHARS: the browser stops typing there, and Streamlit cuts whatever a
    # crafted client sends to it on the server, before this code sees it.
    query = st.text_input(
        _("Search conversations"),
        key=SEARCH_KEY,
        placeholder=_("Search titles and messages"),
        label_visibility="collapsed",
        icon=":material/search:",
        max_chars=max_chars,
    ).strip()
    page = history_page(repo, user, query)
    current = chat_state.current_chat()
    current_id = current.conversation_id if current is not None else None
    if not page.items:
        st.caption(_("No conversation matches.") if query else _("Your conversations appear here."))
    for info in page.items:
        if _history_item(info, info.id == current_id, titles.get(info.profile_id)):
            _open(info.id)
            st.rerun(scope="app")
    if page.next_offset is not None:
        st.button(_("More"), key="history_more", on_click=show_more_history, type="tertiary")


def _history_item(info: ConversationInfo, current: bool, assistant: str | None) -> bool:
    return st.button(
        # A title is user text: a button label renders Markdown.
        literal(info.title) or _("Untitled"),
        key=f"conv-{info.id}",
        type="secondary" if current else "tertiary",
        width="stretch",
        icon=":material/keep:" if info.pinned else None,
        help=f"{assistant or info.profile_id} · {format_datetime(info.updated_at)}",
    )


def render_sidebar(
    rt: Runtime,
    *,
    account: Callable[[], None] | None = None,
) -> DeltaGenerator:
    """Draw the sidebar's controls; returns the slot where `render_history` goes.

    The history is painted at the end of the run (`render_history`), into a slot
    made here, so that a conversation created by this run's answer is listed
    without running the page twice.
    """
    profile = deps.selected_profile(rt)
    with st.sidebar:
        profiles = {p.id: p for p in rt.profiles}
        if len(profiles) > 1:
            st.selectbox(
                _("Assistant"),
                options=list(profiles),
                format_func=lambda pid: f"{profiles[pid].icon} {profiles[pid].title}",
                key=deps.PROFILE_KEY,
                on_change=chat_state.new_chat,
                help=_("Switching assistant starts a new conversation."),
            )
        st.button(
            _("New chat"),
            icon=":material/add_comment:",
            on_click=chat_state.new_chat,
            width="stretch",
            key="new_chat",
        )
        st.caption(
            f"{profile.backend} · {rt.config.connection_for(profile).describe()}"
            + (f" · {profile.model}" if profile.model else "")
        )
        st.divider()
        slot = st.container()
        if account is not None:
            st.divider()
            account()
    return slot


def render_history(slot: DeltaGenerator, rt: Runtime, repo: Repository, user: UserInfo) -> None:
    """The user's conversations, into the slot `render_sidebar` made."""
    with slot:
        titles = {p.id: p.title for p in rt.profiles}
        _history(titles, repo, user, rt.config.settings.max_search_chars)
