"""Temporary chats on the page, and the process's housekeeping thread.

A "Temporary chat" switch above a new conversation: while it is on, the
conversations the reader starts are kept out of history (never listed nor
found, never in the address bar) and deleted, remote state included, when
the page closes them: a new chat, another conversation opened, the
assistant switched, or the browser session gone (Streamlit drops a
disconnected session's state after a while; a finalizer on this module's
marker hands the conversation to the housekeeping thread then). Whatever
happens, a temporary chat is deleted at the latest TEMPORARY_CHAT_HOURS
after it began, by any replica's housekeeping (`assistants_ui.housekeeping`),
which also runs RETENTION_DAYS.

Session-state keys: `_MODE_KEY` (the switch, kept while it is not drawn),
`_SWITCH_KEY` (its widget), `_OPEN_KEY` (the temporary chat on the page).
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref

import streamlit as st

from assistants_ui.core.backend import Remote
from assistants_ui.core.session import ChatSession
from assistants_ui.housekeeping import Housekeeping
from assistants_ui.i18n import _, format_number
from assistants_ui.runtime import Runtime
from assistants_ui.storage import Database, Repository, StorageError, UserInfo, database_url
from assistants_ui.storage.models import utcnow
from assistants_ui.storage.recorder import Placement, StorageRecorder
from assistants_ui.web import resources

__all__ = ["housekeeping", "is_temporary", "placement", "switch", "track"]

log = logging.getLogger(__name__)

_MODE_KEY = "temporary-mode"
_SWITCH_KEY = "temporary-switch"
_OPEN_KEY = "temporary-open"


@st.cache_resource(show_spinner=False)
def _housekeeping(url: str, _db: Database) -> Housekeeping:
    # One per database for the process's life (started by `housekeeping`, below).
    return Housekeeping(_db, delete_remote=lambda profile_id, remote: False)


# The runtime and database the housekeeping was last given (each run asks; the answer is
# the same until the configuration changes).
_given: tuple[weakref.ref[Runtime], Database, Housekeeping] | None = None


def housekeeping(rt: Runtime, repo: Repository) -> Housekeeping:
    """The process's housekeeping, started by the first run; each run gives it the
    configuration as it is now (RETENTION_DAYS, the backends that delete remote state,
    the answers being written), once per configuration."""
    global _given
    last = _given
    if last is not None and last[0]() is rt and last[1] is repo.db:
        return last[2]
    settings = rt.config.settings
    keeper = _housekeeping(database_url(settings).render_as_string(), repo.db)

    def delete_remote(profile_id: str, remote: Remote) -> bool:
        profile = rt.config.profile(profile_id)
        if profile is None:
            return False
        rt.backend(profile).delete(remote)
        return True

    keeper.delete_remote = delete_remote
    keeper.retention_days = settings.retention_days or None
    keeper.live = resources.live_answers(rt)
    _given = (weakref.ref(rt), repo.db, keeper)
    return keeper.start()


def is_temporary(chat: object) -> bool:
    """Whether `chat` is (or will be, once its first message is saved) a temporary chat."""
    recorder = getattr(chat, "recorder", None)
    return isinstance(recorder, StorageRecorder) and recorder.placement.expires_at is not None


def _on() -> bool:
    return bool(st.session_state.get(_MODE_KEY, False))


def _flip() -> None:
    st.session_state[_MODE_KEY] = bool(st.session_state.get(_SWITCH_KEY, False))


def placement(chat: ChatSession, hours: float, project_id: str | None = None) -> None:
    """Where `chat`'s conversation goes when its first message is saved: out of history
    while the switch is on, and in `project_id`. Nothing for a saved conversation."""
    recorder = chat.recorder
    if chat.conversation_id is not None or not isinstance(recorder, StorageRecorder):
        return
    expires = utcnow() + dt.timedelta(hours=hours) if _on() else None
    recorder.placement = Placement(project_id=project_id, expires_at=expires)


def switch(chat: ChatSession, hours: float) -> None:
    """The switch above a new conversation; what a temporary one is, above it."""
    if chat.conversation_id is None and not chat.messages:
        st.toggle(
            _("Temporary chat"),
            value=_on(),
            key=_SWITCH_KEY,
            on_change=_flip,
            help=_(
                "Not kept in your history; deleted when you close it (a new chat, another "
                "conversation, leaving the page), at the latest after %(hours)s hours."
            )
            % {"hours": format_number(hours)},
        )
    elif is_temporary(chat):
        st.caption(
            _(
                ":material/timer: Temporary chat: not in your history, deleted when you close "
                "it, at the latest after %(hours)s hours."
            )
            % {"hours": format_number(hours)}
        )


class _Open:
    """The temporary chat on this session's page. Closed by the page (`track`), or, if
    the session's state is dropped first (the browser session ended), by its finalizer
    through the housekeeping thread."""

    def __init__(self, keeper: Housekeeping, user_id: int, conversation_id: str) -> None:
        self.keeper = keeper
        self.user_id = user_id
        self.conversation_id = conversation_id
        self.finalizer = weakref.finalize(self, keeper.discard_soon, user_id, conversation_id)

    def close(self, repo: Repository) -> None:
        """Delete it now (the answer still being written in it stopped first)."""
        self.finalizer.detach()
        live = self.keeper.live
        stream = live.get(self.conversation_id) if live is not None else None
        if stream is not None:
            stream.cancel("user")
        try:
            repo.discard_temporary(user_id=self.user_id, conversation_id=self.conversation_id)
            self.keeper.wake()  # its remote state, queued, is deleted now
        except StorageError:  # the housekeeping thread tries again
            log.warning("a closed temporary chat could not be deleted now", exc_info=True)
            self.keeper.discard_soon(self.user_id, self.conversation_id)


def track(rt: Runtime, repo: Repository, user: UserInfo, chat: object) -> None:
    """Note which conversation the page shows: a temporary chat it no longer shows is
    deleted now; a temporary chat it shows is remembered (with its finalizer)."""
    held: _Open | None = st.session_state.get(_OPEN_KEY)
    current = getattr(chat, "conversation_id", None)
    if held is not None and held.conversation_id != current:
        st.session_state.pop(_OPEN_KEY, None)
        held.close(repo)
        held = None
    if held is None and current is not None and is_temporary(chat):
        recorder = getattr(chat, "recorder", None)
        user_id = recorder.user_id if isinstance(recorder, StorageRecorder) else user.id
        st.session_state[_OPEN_KEY] = _Open(housekeeping(rt, repo), user_id, current)
