"""The Streamlit page: configuration problems, sign-in, the sidebar, the conversation.

The only layer that imports Streamlit. It holds no logic of its own: it asks
the runtime for profiles and backends, storage for history and the chat
session for answers, and paints what they return.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial

import streamlit as st

from assistants_ui.auth import Identity
from assistants_ui.core.backend import BackendError
from assistants_ui.core.first_words import FIRST_WORDS
from assistants_ui.core.safe_markdown import inert, literal
from assistants_ui.core.session import ChatSession
from assistants_ui.i18n import N_, _
from assistants_ui.profiles import Profile
from assistants_ui.runtime import Runtime
from assistants_ui.storage import NotFound, Repository, StorageError, UserInfo
from assistants_ui.storage.admin import Admin
from assistants_ui.web import (
    chat_state,
    language,
    personal_view,
    picker,
    projects_view,
    prompt_library,
    reader,
    render,
    resources,
    temporary,
)
from assistants_ui.web.admin_view import PAGE_TITLE, URL_PATH, render_admin
from assistants_ui.web.chat_view import MessageCaps, prices_of, render_chat, render_messages
from assistants_ui.web.conversation_menu import render_menu, render_usage
from assistants_ui.web.login_view import (
    current_identity,
    is_admin,
    logout_control,
    signed_in_as,
)
from assistants_ui.web.share_view import QUERY_KEY, render_shared
from assistants_ui.web.sidebar import render_history, render_sidebar

__all__ = ["main"]

log = logging.getLogger(__name__)

NOT_CONFIGURED = N_(
    "The assistant of this conversation (%(assistant)s) is not configured any more: it is "
    "shown, but it cannot be continued."
)
NOT_ALLOWED = N_(
    "You may no longer use the assistant of this conversation (%(assistant)s): it is shown, "
    "but it cannot be continued. Ask the app's administrator if you need it."
)
NO_ASSISTANT = N_(
    "No assistant here is open to you. Ask the app's administrator for access; your earlier "
    "conversations are still listed in the sidebar."
)


# How long the rest of a page waits, at most, while other answers wait for their first
# words (core.first_words).
REST_WAITS_SECONDS = 3.0


def _answer_of(chat: object) -> object:
    """The answer being written in `chat`, if any (it need not wait for itself)."""
    return chat.active if isinstance(chat, ChatSession) else None


def _usable(rt: Runtime, profile_id: str, *, may: Callable[[Profile], bool]) -> bool:
    """Whether a conversation with `profile_id` may be shown: `may(profile)`; one whose
    assistant is no longer configured can only be read, as before."""
    profile = rt.config.profile(profile_id)
    return profile is None or may(profile)


def _open_to_all(profile: Profile) -> bool:
    return not profile.restricted


def _problems(rt: Runtime) -> None:
    problems = rt.config.problems
    if problems:
        lines = "\n".join(f"- **{p.setting}**: {p.message}" for p in problems)
        st.error(_("The configuration has problems:") + f"\n\n{lines}", icon="⚙️")


def _not_found() -> None:
    st.error(
        _("Conversation not found. It may have been deleted, or the link is wrong."), icon="🔎"
    )
    st.button(_("Start a new chat"), on_click=chat_state.new_chat, key="not-found-new")


def _open_linked(rt: Runtime, repo: Repository, user: UserInfo) -> bool:
    """Open the deep-linked conversation (`?c=<id>`) if it is not the one on the page.

    Called before the sidebar draws the assistant picker: opening selects the
    conversation's assistant, which a widget's key cannot take once it is drawn.
    False when the link names no conversation of this user."""
    wanted = st.query_params.get("c")
    chat = chat_state.current_chat()
    if not wanted or (chat is not None and chat.conversation_id == wanted):
        return True
    try:
        chat_state.open_conversation(rt, repo, user, wanted)
    except NotFound:
        return False
    return True


def _conversation(
    rt: Runtime, repo: Repository, user: UserInfo
) -> Callable[[], Callable[[], None]] | None:
    """The conversation on the page (opened by `_open_linked`), or a new one.

    Lays the main area out (empty slots in reading order), takes what was sent and
    starts its answer, paints the answer's first words; then returns the rest of
    the page's main area (the title, the menu, the history, then the answer
    followed to its end and the conversation's total usage), which the page calls
    after the sidebar."""
    chat = chat_state.current_chat()
    if isinstance(chat, ChatSession) and not picker.may_use(chat.profile):
        chat = chat_state.refuse(rt, repo, user, chat)  # its assistant was taken away
    if isinstance(chat, chat_state.ReadOnlyChat):
        _tab_title(chat.info.title)
        st.title(literal(chat.info.title) or _("Conversation"))
        why = NOT_ALLOWED if chat.refused else NOT_CONFIGURED
        st.warning(_(why) % {"assistant": repr(chat.info.profile_id)}, icon="🗄️")
        usage = render_menu(rt, repo, user, chat.info.id)
        render_usage(usage, repo, user, chat.info.id)
        render_messages(chat.messages)
        return None
    profile = picker.selected_profile(rt)
    if profile is None:
        st.info(_(NO_ASSISTANT), icon="🔒")
        return None
    try:
        chat = chat_state.chat_session(rt, profile, repo, user)
    except BackendError as exc:
        st.title(f"{profile.icon} {profile.title}")
        st.error(inert(exc.reason), icon="🚨")
        return None
    reader.share_row(repo, chat.recorder)  # made for a setting: a send's answer reads it
    # The title, a warning, the menu and the project's header: one place, filled after the
    # first words (four places would be four more messages to send before them).
    top = st.container()
    settings = rt.config.settings
    temporary.placement(chat, settings.temporary_chat_hours, projects_view.selected())
    prompt_library.prefill()  # a prompt chosen in the previous run, into the input
    page = render_chat(
        chat,
        older=chat_state.older_cursor() is not None,
        on_older=lambda: chat_state.load_older(repo, user),
        caps=MessageCaps(settings.max_message_chars, settings.max_files_per_message),
        speed=rt.config.connection_for(profile).type == "local",
        on_branch=lambda message_id: chat_state.switch_branch(
            rt, repo, reader.saved_user(user), message_id
        ),
        quota=lambda: reader.limit_refusal(repo, reader.saved_user(user), profile.id),
        transcribe=rt.transcriber(profile),
        on_command=prompt_library.command(repo, user),
    )
    page.first_words()

    def rest() -> Callable[[], None]:
        page.save()  # the question sent: what follows reads it (the menu, the history)
        reader.share_row(repo, chat.recorder)  # a guest's row, made by the answer's end
        prompt_library.render_picker(repo, user)
        temporary.track(rt, repo, reader.saved_user(user), chat)  # made by this run's question?
        with top:
            # A legacy assistant configured by id alone is titled with its name on the server.
            title = chat.backend.display_title()
            st.title(f"{profile.icon} {literal(title)}")  # a legacy name is the server's
            warning_slot = st.empty()
            menu = st.container(horizontal=True, vertical_alignment="center", gap="small")
            # Drawn once this run's question is saved (it may make the chat).
            with st.container():
                projects_view.header(repo, reader.saved_user(user), chat.conversation_id)
                with st.container(horizontal=True, vertical_alignment="center"):
                    temporary.switch(chat, settings.temporary_chat_hours)
                    prompt_library.menu_button()
        unreachable = resources.reachability_problem(rt, profile)
        if unreachable:  # the server named to admins only (render.hide_servers)
            warning_slot.warning(inert(render.without_servers(unreachable)), icon="🔌")
        usage = None
        if chat.conversation_id and not temporary.is_temporary(chat):  # saved, or made now
            with menu:
                usage = render_menu(
                    rt, repo, reader.saved_user(user), chat.conversation_id, on_title=_tab_title
                )
                # Also here, not only in the sidebar: a phone hides the sidebar.
                st.button(
                    _("New chat"),
                    icon=":material/add_comment:",
                    on_click=chat_state.new_chat,
                    key="new_chat_top",
                    type="tertiary",
                )
        page.paint()
        if chat.active is None and chat.messages and chat.messages[-1].status == "streaming":
            _written_elsewhere(repo, reader.saved_user(user), chat)

        def last() -> None:
            page.follow()
            if chat.conversation_id:  # the total, once the answer has ended
                render_usage(
                    usage, repo, reader.saved_user(user), chat.conversation_id, prices_of(profile)
                )
            if chat.titling is not None:
                if chat.titling.is_alive() or chat.titled is not None:
                    st.session_state[_TITLE_TICKED] = False
                    _title_written(chat)
                else:  # it wrote none: the first words stay, nothing to paint
                    chat.titling = None

        return last

    return rest


_TITLE_TICKED = "title-ticked"  # whether `_title_written` ran since the page drew it


@st.fragment(run_every=timedelta(seconds=1))
def _title_written(chat: ChatSession) -> None:
    """The model is writing the conversation's title (core/titles.py): once it is done,
    the page runs again, so that the history list and the tab show the title; that run
    draws this fragment no more, which is what ends its timer (else an idle page would
    run every second, and each run is a request of the session's). Drawn by the run that
    answered, it waits for its first tick: a title written already would otherwise cut
    that run short (ended for a rerun) just as its answer ends."""
    if not st.session_state.get(_TITLE_TICKED):
        st.session_state[_TITLE_TICKED] = True
        return
    if chat.titling is not None and chat.titling.is_alive():
        return
    chat.titling = None
    st.rerun(scope="app")


def _tab_title(title: str) -> None:
    """The browser tab says the open conversation's title (plain text, one line)."""
    title = " ".join(title.split())
    if title:
        st.set_page_config(page_title=title)


@st.fragment(run_every=timedelta(seconds=2))
def _written_elsewhere(repo: Repository, user: UserInfo, chat: ChatSession) -> None:
    """The last answer is being written by another process (a replica behind the same
    proxy): shown as saved, and loaded again whenever its saved copy changes."""
    shown = chat.messages[-1]
    st.caption(_("This answer is still being written elsewhere; it updates by itself."))
    if chat.conversation_id is None:
        return
    try:
        page = repo.load_messages(user_id=user.id, conversation_id=chat.conversation_id, limit=1)
    except NotFound:
        return
    saved = page.messages[-1] if page.messages else None
    if saved is None or (saved.id, saved.status, saved.parts) != (
        shown.id,
        shown.status,
        shown.parts,
    ):
        chat_state.reload(chat)
        st.rerun(scope="app")


def _account(repo: Repository, user: UserInfo, links: Sequence[st.Page] = ()) -> None:
    """The sidebar's account controls: log out, the interface language, and `links`
    to the reader's other pages (settings, or back to the chat)."""
    for page in links:
        st.page_link(page)
    logout_control()
    language.selector(repo, user)


def _chat_page(
    rt: Runtime,
    repo: Repository,
    user: UserInfo,
    shared: str | None,
    internals: bool,
    settings: st.Page,
) -> None:
    temporary.housekeeping(rt, repo)  # the process's sweeps (retention), started once
    found = shared is not None or _open_linked(rt, repo, user)
    # A temporary chat the page no longer shows (a new chat, another one opened) goes now.
    temporary.track(rt, repo, reader.saved_user(user), chat_state.current_chat())
    # First what was sent, its answer started and its first words painted: what a run
    # paints leaves in that order (ChatPage).
    rest = _conversation(rt, repo, user) if shared is None and found else None
    # The rest of the page is for the reader here; others' first words come first.
    FIRST_WORDS.step_aside(REST_WAITS_SECONDS, me=_answer_of(chat_state.current_chat()))
    history = render_sidebar(
        rt,
        account=lambda: _account(repo, user, [settings]),
        internals=internals,
        projects=lambda: projects_view.picker(repo, reader.saved_user(user), rt.config.settings),
    )
    last = None
    if shared is not None:
        # A conversation with a restricted assistant is for those who may use it.
        render_shared(repo, shared, may_see=partial(_usable, rt, may=picker.may_use))
    elif not found:
        _not_found()
    elif rest is not None:
        last = rest()
    # Before the answer is followed: the list is usable (not greyed) while it streams,
    # and lists a conversation this run's question made.
    render_history(history, rt, repo, reader.saved_user(user))
    if last is not None:
        last()


def _settings_page(
    rt: Runtime, repo: Repository, user: UserInfo, chat: st.Page, actor: str
) -> None:
    with st.sidebar:
        _account(repo, user, [chat])
    personal_view.render_settings(
        repo,
        user,
        rt.config.settings,
        more=lambda person: prompt_library.render_manager(
            repo,
            person,
            # Asked again by each action: the configuration read now (as the admin page).
            allowed=lambda: is_admin(resources.runtime().config.settings),
            actor=actor,
        ),
    )


def _actor(identity: Identity) -> str:
    """How an admin is named in what they change (the audit log, a published prompt)."""
    return f"{identity.label} ({identity.auth_provider}:{identity.subject})"


def _admin_page(rt: Runtime, repo: Repository, user: UserInfo, identity: Identity) -> None:
    with st.sidebar:
        _account(repo, user)
    render_admin(
        Admin(repo.db),
        actor=_actor(identity),
        # Asked again when drawn and by each action: the configuration read now, not
        # the one of the run that drew the button.
        allowed=lambda: is_admin(resources.runtime().config.settings),
        profiles=[p.id for p in rt.profiles],
        assistants=rt.profiles,
    )


_frozen_modules = 0


def _freeze_long_lived() -> None:
    """Keep full garbage collections cheap.

    Streamlit runs `gc.collect(2)` after each script and fragment run unless
    `runner.postScriptGC` is off (as `assistants-ui run` and the repository's
    `.streamlit/config.toml` set it); Python runs its own from time to time
    anyway. With the SDK, SQLAlchemy and llama.cpp imported
    a full collection walks ~230,000 objects, ~110 ms.
    Almost all of them are modules, classes and functions that live
    as long as the process, so whenever a run has imported new modules they
    are collected once and frozen (`gc.freeze`): later collections walk only
    what the sessions create. The price is that objects alive at that moment
    are never collected as cycles (plain reference counting still frees them);
    it happens a handful of times per process, when a backend is first used.
    """
    global _frozen_modules
    if len(sys.modules) != _frozen_modules:
        gc.collect()
        gc.freeze()
        _frozen_modules = len(sys.modules)


def main() -> None:
    try:
        with resources.one_reading():
            _page()
    finally:
        _freeze_long_lived()


def _page() -> None:
    rt = resources.runtime()
    # Before anyone is known: an assistant open to everyone names the tab, never a
    # restricted one (the login page would tell its name to anyone).
    shown = next((p for p in rt.profiles if not p.restricted), None)
    st.set_page_config(
        page_title=shown.title if shown else "Assistants UI",
        page_icon=shown.icon if shown else "🤖",
        layout="centered",
    )
    language.start_run()
    render.hide_servers(resources.server_urls(rt))  # until the reader is known to be an admin
    _problems(rt)
    if not rt.profiles:
        st.info(_("No assistant is usable until the configuration above is fixed."))
        return
    try:
        repo = resources.repository(rt)
        shared = st.query_params.get(QUERY_KEY)
        if shared is not None and rt.config.settings.share_links_public:
            # SHARE_LINKS_PUBLIC: the link alone, no sign-in; but a conversation with a
            # restricted assistant is for those who may use it, who sign in first.
            public = partial(_usable, rt, may=_open_to_all)
            if render_shared(repo, shared, may_see=public, sign_in=True):
                return
        identity = current_identity(rt.config.settings, repo)
        if identity is None:
            with st.sidebar:
                language.selector()  # the login page in the reader's language
            return  # the login form is on the page
        user = reader.signed_in_user(repo, identity, on_switch=chat_state.forget_chat)
        language.adopt_user(user)
        picker.allow(rt, repo, user, *signed_in_as(rt.config.settings))
        profile = picker.selected_profile(rt)
        if profile is not None and profile is not shown:  # now that the reader is known
            st.set_page_config(page_title=profile.title, page_icon=profile.icon)
        admin = is_admin(rt.config.settings)
        # Backend, server URL and model: for admins, or everyone if the operator says so.
        internals = admin or rt.config.settings.show_connection_details
        if internals:
            render.hide_servers(())
        chat = st.Page(
            lambda: _chat_page(rt, repo, user, shared, internals, settings),
            title=profile.title if profile else "Assistants UI",
            icon=profile.icon if profile else "🤖",
            url_path="chat",
            default=True,
        )
        settings = st.Page(
            lambda: _settings_page(rt, repo, user, chat, _actor(identity)),
            title=_(personal_view.PAGE_TITLE),
            icon=":material/tune:",
            url_path=personal_view.URL_PATH,
        )
        pages = [chat, settings]
        if admin:  # the page exists only for admins: any other session has no such URL
            pages.append(
                st.Page(
                    lambda: _admin_page(rt, repo, user, identity),
                    title=_(PAGE_TITLE),
                    icon=":material/admin_panel_settings:",
                    url_path=URL_PATH,
                )
            )
        st.navigation(pages, position="sidebar" if admin else "hidden").run()
    except StorageError as exc:
        log.error("storage: %s", exc)
        st.error(str(exc), icon="💾")
    except Exception as exc:  # a bug: one sentence on the page, the traceback in the log
        log.exception("the page failed")
        st.error(
            _(
                "Something went wrong on this page (%(error)s). "
                "It was logged; reload the page to carry on."
            )
            % {"error": f"{type(exc).__name__}: {exc}"},
            icon="🚨",
        )
