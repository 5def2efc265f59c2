"""The sidebar: which assistant, a new conversation, and the user's history.

History lists the signed-in user's conversations, a page at a time, in date
groups (Pinned, Today, Yesterday, Previous 7 days, Previous 30 days, Older: by
last activity, in the reader's time zone). The search box filters as one types
(a pause of `SEARCH_PAUSE`) by title and message text, both done by the
repository, scoped to the user; each hit shows the words around the match. Each
entry has its own menu: rename, pin, share, delete (the controls of
`conversation_menu`, the same as above the open conversation).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistants_ui.core.safe_markdown import code_span, literal
from assistants_ui.i18n import N_, _, format_datetime
from assistants_ui.runtime import Runtime
from assistants_ui.storage import ConversationInfo, ConversationPage, Repository, UserInfo
from assistants_ui.storage.conversations import MAX_PAGE, SNIPPET_BEFORE, SNIPPET_CHARS
from assistants_ui.storage.models import utcnow
from assistants_ui.web import chat_state, picker, projects_view
from assistants_ui.web.conversation_menu import (
    ActionKeys,
    delete_control,
    pin_button,
    rename_field,
    share_controls,
)

__all__ = ["date_groups", "marked_snippet", "reader_timezone", "render_history", "render_sidebar"]

SEARCH_KEY = "history_query"  # the search box
SEARCH_PAUSE = "300ms"  # the search runs once typing pauses this long
_LIST_KEY = "history_limit"  # how many conversations the list shows
_RERUN_KEY = "history_rerun_page"  # an entry's action changed the conversation on the page
HISTORY_STEP = 30  # conversations listed at first, and added by each "More"

PINNED = N_("Pinned")
TODAY = N_("Today")
YESTERDAY = N_("Yesterday")
WEEK = N_("Previous 7 days")
MONTH = N_("Previous 30 days")
OLDER = N_("Older")
_GROUPS = (PINNED, TODAY, YESTERDAY, WEEK, MONTH, OLDER)


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
    project = projects_view.selected()  # the sidebar's project filter (None: all)
    items: list[ConversationInfo] = []
    offset: int | None = 0
    while offset is not None and len(items) < limit:
        size = min(MAX_PAGE, limit - len(items))
        if query:
            page = repo.search_conversations(
                user_id=user.id, query=query, limit=size, offset=offset, project_id=project
            )
        else:
            page = repo.list_conversations(
                user_id=user.id, limit=size, offset=offset, project_id=project
            )
        items += page.items
        offset = page.next_offset
    return ConversationPage(items=items, next_offset=offset)


def reader_timezone() -> dt.tzinfo:
    """The browser's time zone (`st.context.timezone`), else UTC."""
    try:
        name = st.context.timezone
    except Exception:  # no browser behind this run (bare mode)
        name = None
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # what the browser sent is not a zone
            pass
    return dt.UTC


def date_groups(
    items: Sequence[ConversationInfo], now: dt.datetime, zone: dt.tzinfo
) -> list[tuple[str, list[ConversationInfo]]]:
    """The conversations under their headings (msgids), in the headings' order:
    Pinned, then by the day of their last activity in `zone`."""
    today = now.astimezone(zone).date()
    found: dict[str, list[ConversationInfo]] = {}
    for info in items:
        days = (today - info.updated_at.astimezone(zone).date()).days
        if info.pinned:
            group = PINNED
        elif days <= 0:
            group = TODAY
        elif days == 1:
            group = YESTERDAY
        elif days <= 7:
            group = WEEK
        elif days <= 30:
            group = MONTH
        else:
            group = OLDER
        found.setdefault(group, []).append(info)
    return [(group, found[group]) for group in _GROUPS if group in found]


_BEFORE = 30  # characters of a snippet shown before the match
_AFTER = 90  # and after it


def _shown(text: str) -> str:
    """`text` as literal Markdown, keeping a space at either end (words stay apart)."""
    if not text.strip():
        return " " if text else ""
    lead = " " if text[0].isspace() else ""
    trail = " " if text[-1].isspace() else ""
    return f"{lead}{literal(text)}{trail}"


def marked_snippet(snippet: str, query: str) -> str:
    """A search hit's words around the match, as inert Markdown: the text shown as it
    is (never read as Markdown or HTML), each word searched for marked as code, cut
    at whole words, with "…" where the message goes on."""
    terms = [t for t in query.casefold().split() if t]
    first = snippet.find(terms[0]) if terms else -1
    if first < 0:
        return ""
    cut_before = first >= SNIPPET_BEFORE  # the database's window began inside the message
    cut_after = len(snippet) >= SNIPPET_CHARS
    start = max(0, first - _BEFORE)
    end = min(len(snippet), first + len(terms[0]) + _AFTER)
    if start > 0 or cut_before:
        space = snippet.find(" ", start, first)
        start = space + 1 if space >= 0 else start
        cut_before = True
    if end < len(snippet) or cut_after:
        space = snippet.rfind(" ", first + len(terms[0]), end)
        end = space if space >= 0 else end
        cut_after = True
    text = " ".join(snippet[start:end].split())
    found = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    pieces: list[str] = []
    at = 0
    for match in found.finditer(text):
        pieces.append(_shown(text[at : match.start()]))
        pieces.append(code_span(match.group()))
        at = match.end()
    pieces.append(_shown(text[at:]))
    return ("…" if cut_before else "") + "".join(pieces) + ("…" if cut_after else "")


def _rerun_page() -> None:
    """An entry's action changed the conversation on the page (renamed, pinned,
    deleted it): the whole page runs again, not only the list."""
    st.session_state[_RERUN_KEY] = True


@st.fragment
def _history(rt: Runtime, repo: Repository, user: UserInfo) -> None:
    """The list and its search box: a fragment, so that searching, paging or an entry's
    menu reruns only the sidebar, not the conversation on the page."""
    if st.session_state.pop(_RERUN_KEY, False):
        st.rerun(scope="app")
    max_chars = rt.config.settings.max_search_chars
    query = st.text_input(
        _("Search conversations"),
        key=SEARCH_KEY,
        type="search",
        live=SEARCH_PAUSE,  # as one types: no Enter, no "Press Enter to apply"
        placeholder=_("Search titles and messages"),
        label_visibility="collapsed",
        icon=":material/search:",
    )
    # MAX_SEARCH_CHARS, cut here rather than by the box (whose counter would show).
    query = (query or "")[:max_chars].strip()
    page = history_page(repo, user, query)
    current = chat_state.current_chat()
    current_id = current.conversation_id if current is not None else None
    if not page.items:
        if query:
            st.caption(_("No conversation matches."))
        elif projects_view.selected() is not None:
            st.caption(_("No conversation in this project yet: a new chat goes into it."))
        else:
            st.caption(_("Your conversations appear here."))
    titles = {p.id: p.title for p in picker.usable_profiles(rt)}  # no restricted one's name
    for heading, items in date_groups(page.items, utcnow(), reader_timezone()):
        st.caption(f"**{_(heading)}**")
        for info in items:
            _history_item(rt, repo, user, info, info.id == current_id, titles, query)
    if page.next_offset is not None:
        st.button(_("More"), key="history_more", on_click=show_more_history, type="tertiary")


def _history_item(
    rt: Runtime,
    repo: Repository,
    user: UserInfo,
    info: ConversationInfo,
    current: bool,
    titles: dict[str, str],
    query: str,
) -> None:
    """One conversation: its title (opens it) and its menu."""
    assistant = titles.get(info.profile_id) or info.profile_id
    with st.container(horizontal=True, gap=None, vertical_alignment="center"):
        opened = st.button(
            # A title is user text: a button label renders Markdown.
            literal(info.title) or _("Untitled"),
            key=f"conv-{info.id}",
            type="secondary" if current else "tertiary",
            width="stretch",
            icon=":material/keep:" if info.pinned else None,
            help=f"{literal(assistant)} · {format_datetime(info.updated_at)}",
        )
        menu = st.popover(
            "",
            icon=":material/more_horiz:",
            type="tertiary",
            key=f"menu-{info.id}",
            on_change="rerun",  # drawn only while open: no query per entry per run
            help=_("Rename, pin, share or delete"),
        )
    if menu.open:
        keys = ActionKeys.entry(info.id)
        done = _rerun_page if current else None
        with menu:
            rename_field(repo, user, info, keys, done)
            projects_view.move_control(repo, user, info, keys.prefix)
            pin_button(repo, user, info, keys, done)
            share_controls(repo, user, keys)
            delete_control(rt, repo, user, info, keys, done)
    if query and info.snippet:
        st.caption(marked_snippet(info.snippet, query))
    if opened:
        _open(info.id)
        st.rerun(scope="app")


def render_sidebar(
    rt: Runtime,
    *,
    account: Callable[[], None] | None = None,
    internals: bool = False,
    projects: Callable[[], None] | None = None,
) -> DeltaGenerator:
    """Draw the sidebar's controls; returns the slot where `render_history` goes.
    `projects` draws the project filter above the history (when an assistant is usable).

    `internals`: the assistant's backend, server and model are shown (to admins, or
    to everyone with SHOW_CONNECTION_DETAILS); never to other readers.

    The history is painted at the end of the run (`render_history`), into a slot
    made here, so that a conversation created by this run's answer is listed
    without running the page twice.
    """
    profile = picker.selected_profile(rt)
    with st.sidebar:
        # Only the assistants this person may use: the others are not even named.
        profiles = {p.id: p for p in picker.usable_profiles(rt)}
        if len(profiles) > 1:
            st.selectbox(
                _("Assistant"),
                options=list(profiles),
                format_func=lambda pid: f"{profiles[pid].icon} {profiles[pid].title}",
                key=picker.PROFILE_KEY,
                placeholder=_("Choose an assistant"),
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
        if internals and profile is not None:
            details = f"{profile.backend} · {rt.config.connection_for(profile).describe()}"
            # A code span: the URL stays text (escaped, Markdown would still link it).
            st.caption(code_span(details + (f" · {profile.model}" if profile.model else "")))
        st.divider()
        if projects is not None and profile is not None:  # with an assistant to chat with
            projects()
        slot = st.container()
        if account is not None:
            st.divider()
            account()
    return slot


def render_history(slot: DeltaGenerator, rt: Runtime, repo: Repository, user: UserInfo) -> None:
    """The user's conversations, into the slot `render_sidebar` made."""
    with slot:
        _history(rt, repo, user)
