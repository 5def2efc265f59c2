"""The page's language: the browser's by default, changeable per user, remembered.

Each run starts with `start_run()`, which makes sure this browser session has a
language (`LANGUAGE_KEY`): the one chosen in this session, else the
language cookie this browser keeps (guests, and the login page), else the
browser's own (`st.context.locale`), else English. Once someone is signed in
(`adopt_user`), the language saved with their account wins. The selector
(`selector`, in the sidebar) changes it for this session, writes the cookie,
and saves it on the account of a signed-in user (`users.language`); guests keep
theirs in the browser only.

`i18n` reads the session's language through a resolver installed here, so that
callbacks (which run before the page script) and `core/` speak it too.

Session-state keys: `LANGUAGE_KEY` (which a sign-out keeps, `login_view`), and the
selector's own (prefix `language_`).
"""

from __future__ import annotations

import logging

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from assistants_ui import i18n
from assistants_ui.i18n import _
from assistants_ui.storage import UNSAVED_USER, NotFound, Repository, StorageError, UserInfo
from assistants_ui.web import cookie_jar

__all__ = ["COOKIE", "LANGUAGE_KEY", "adopt_user", "selector", "start_run"]

log = logging.getLogger(__name__)

LANGUAGE_KEY = "language"  # the interface language of this browser session
COOKIE = "assistants_ui_language"
COOKIE_DAYS = 400  # the longest lifetime browsers allow a cookie
_WIDGET_KEY = "language_select"  # the selector's own key (a widget's state is dropped
# on a run that does not draw it: the language itself lives in LANGUAGE_KEY)
_ADOPTED_KEY = "language_adopted"  # the user id whose saved language was applied


def _session_language() -> str | None:
    if get_script_run_ctx(suppress_warning=True) is None:
        return None  # not a page run (a worker thread, a test): no session to ask
    return i18n.normalize(st.session_state.get(LANGUAGE_KEY))


def _browser_language() -> str | None:
    try:
        cookie = st.context.cookies.get(COOKIE)
        tag = st.context.locale
    except Exception:  # no browser behind this run (bare mode)
        return None
    return i18n.normalize(cookie) or i18n.negotiate(tag)


def start_run() -> str:
    """The language of this run (and of this session from now on, until changed)."""
    i18n.set_resolver(_session_language)
    code = _session_language()
    if code is None:
        code = _browser_language() or i18n.DEFAULT
        st.session_state[LANGUAGE_KEY] = code
    return code


def adopt_user(user: UserInfo) -> None:
    """A signed-in user's saved language, applied once per session and user."""
    if st.session_state.get(_ADOPTED_KEY) == user.id:
        return
    st.session_state[_ADOPTED_KEY] = user.id
    saved = i18n.normalize(user.language)
    if saved is not None:
        st.session_state[LANGUAGE_KEY] = saved


def _remembers(user: UserInfo | None) -> bool:
    """Whose choice is kept with the account: signed-in people, not guests."""
    return user is not None and user.id != UNSAVED_USER and user.auth_provider != "anonymous"


def _changed(repo: Repository | None, user: UserInfo | None) -> None:
    code = i18n.normalize(st.session_state.get(_WIDGET_KEY)) or i18n.DEFAULT
    st.session_state[LANGUAGE_KEY] = code
    cookie_jar.write(COOKIE, code, COOKIE_DAYS * 86400)
    if repo is not None and user is not None and _remembers(user):
        try:
            repo.set_language(user_id=user.id, language=code)
        except (StorageError, NotFound) as exc:  # this session keeps it all the same
            log.warning("language: not saved with the account: %s", exc)
        st.session_state[_ADOPTED_KEY] = user.id


def selector(repo: Repository | None = None, user: UserInfo | None = None) -> None:
    """The language picker (each language named in itself)."""
    st.session_state[_WIDGET_KEY] = start_run()
    st.selectbox(
        _("Language"),
        options=list(i18n.LANGUAGES),
        format_func=i18n.LANGUAGES.__getitem__,
        key=_WIDGET_KEY,
        placeholder=_("Choose a language"),
        on_change=_changed,
        args=(repo, user),
    )
