"""The person on the page: their storage row (a guest's made at its first save), the
recorder and documents library their chats save with, their client address, and the
daily limits they have reached.

Session-state key: `_USER_KEY` (the identity and its storage row).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from assistants_ui.auth import Identity
from assistants_ui.auth.sessions import server_key
from assistants_ui.storage import UNSAVED_USER, NotFound, Repository, StorageRecorder, UserInfo
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.library import StorageLibrary
from assistants_ui.storage.models import utcnow
from assistants_ui.web.resources import runtime

__all__ = [
    "client_address",
    "guest_address",
    "library",
    "limit_refusal",
    "recorder",
    "saved_user",
    "saved_user_id",
    "signed_in_user",
]

_USER_KEY = "user"  # (identity, UserInfo) of the signed-in user
_ADDRESS_KEY = "guest-address"  # app_keys: keys the digest of guests' addresses


def signed_in_user(
    repo: Repository, identity: Identity, *, on_switch: Callable[[], None] | None = None
) -> UserInfo:
    """The storage user for an identity (looked up once per browser session).

    A guest browser's row is made only when it first saves something: until
    then it is an unsaved user (`UNSAVED_USER`, no history), looked up again
    each run. `on_switch` is called when another user signs in in this browser
    session (what the previous one had open must be forgotten).
    """
    cached: tuple[Identity, UserInfo] | None = st.session_state.get(_USER_KEY)
    if cached is not None and cached[0] == identity and cached[1].id != UNSAVED_USER:
        return cached[1]
    user: UserInfo | None
    if identity.auth_provider == "anonymous":
        user = repo.find_user(auth_provider=identity.auth_provider, subject=identity.subject)
        if user is None:
            now = utcnow()
            user = UserInfo(
                UNSAVED_USER, identity.auth_provider, identity.subject, "", "", now, now
            )
        else:
            user = _ensure(repo, identity)
    else:
        user = _ensure(repo, identity)
    if cached is not None and cached[0] != identity and on_switch is not None:
        on_switch()
    st.session_state[_USER_KEY] = (identity, user)
    return user


def saved_user(user: UserInfo) -> UserInfo:
    """`user`, or the row made for it since (a guest's first save, during this run)."""
    cached: tuple[Identity, UserInfo] | None = st.session_state.get(_USER_KEY)
    if user.id == UNSAVED_USER and cached is not None and cached[1].subject == user.subject:
        return cached[1]
    return user


def share_row(repo: Repository, recorder: object) -> None:
    """A guest's row, made since by the page (a setting, a project: `saved_user_id`) or
    by their chat's recorder (the first message, which an answer's own thread may save
    after this page's run let go of it: `ChatSession.ask` with `later`), known to both
    from then on. No query, but once when the recorder has just made it."""
    cached: tuple[Identity, UserInfo] | None = st.session_state.get(_USER_KEY)
    if cached is None or not isinstance(recorder, StorageRecorder):
        return
    identity, known = cached
    made = recorder.user_id
    if known.id != UNSAVED_USER and made == UNSAVED_USER:
        recorder.user_id = known.id  # what the answer reads before its question is saved
    elif known.id == UNSAVED_USER and made != UNSAVED_USER:
        found = repo.find_user(auth_provider=identity.auth_provider, subject=identity.subject)
        if found is not None:
            st.session_state[_USER_KEY] = (identity, found)


def saved_user_id(repo: Repository, user: UserInfo) -> int:
    """The reader's row id, made now for a guest that never saved anything (what they
    keep for later, a setting or a project, needs it before any message)."""
    user = saved_user(user)
    if user.id != UNSAVED_USER:
        return user.id
    made = recorder(repo, user).create_user
    return made() if made is not None else user.id


def limit_refusal(repo: Repository, user: UserInfo, profile_id: str) -> str | None:
    """Why `user` may not send to `profile_id` now (a daily limit reached), or None.

    A guest's limits count per browser (its cookie), or with GUEST_LIMITS_PER_ADDRESS
    per client address (`guest_address`), so that deleting the cookie starts no new
    count."""
    now = utcnow()
    guest = user.auth_provider == "anonymous"
    saved = None if user.id == UNSAVED_USER else user.id
    address = guest_address(repo) if guest else None
    admin = Admin(repo.db, clock=lambda: now)
    if address is not None and saved is not None:
        admin.note_guest_address(user_id=saved, address=address)
    exceeded = admin.check_limits(
        user_id=saved, guest=guest, profile_id=profile_id, address=address
    )
    return exceeded.message(now) if exceeded is not None else None


def client_address(trusted_proxies: int) -> str:
    """The address of the browser behind this run's connection.

    Behind `trusted_proxies` proxies that each append the address they saw to
    X-Forwarded-For (nginx's `$proxy_add_x_forwarded_for`), the entry the outermost
    one appended: whatever the browser itself put before it is not believed. With
    fewer entries than that, or no trusted proxy, the connection's own address."""
    if trusted_proxies > 0:
        seen = [
            entry.strip()
            for header in st.context.headers.get_all("X-Forwarded-For")
            for entry in header.split(",")
            if entry.strip()
        ]
        if len(seen) >= trusted_proxies:
            return seen[-trusted_proxies].lower()
    return (st.context.ip_address or "127.0.0.1").lower()  # None: the machine itself


def guest_address(repo: Repository) -> str | None:
    """This guest's client address as the database keeps it (a keyed digest, so that
    no address is stored), when GUEST_LIMITS_PER_ADDRESS is on; else None."""
    settings = runtime().config.settings
    if not settings.guest_limits_per_address:
        return None
    key = server_key(repo.db, _ADDRESS_KEY).encode()
    address = client_address(settings.trusted_proxies)
    return hmac.new(key, f"address\0{address}".encode(), hashlib.sha256).hexdigest()[:32]


def _ensure(repo: Repository, identity: Identity) -> UserInfo:
    return repo.ensure_user(
        auth_provider=identity.auth_provider,
        subject=identity.subject,
        display_name=identity.display_name,
        email=identity.email,
    )


def recorder(repo: Repository, user: UserInfo) -> StorageRecorder:
    """A chat's recorder; for an unsaved guest it makes the users row on the first save.

    That save may come after the page's run, on the answer's own thread
    (`ChatSession.ask` with `later`: the tab closed before its first words), so
    what it needs of the page, the identity and the client's address, is read now."""
    cached: tuple[Identity, UserInfo] | None = st.session_state.get(_USER_KEY)
    identity = cached[0] if cached is not None else None
    guest = user.id == UNSAVED_USER and identity is not None
    address = guest_address(repo) if guest and user.auth_provider == "anonymous" else None

    def create() -> int:
        if identity is None:
            raise NotFound("user")
        saved = _ensure(repo, identity)
        if get_script_run_ctx(suppress_warning=True) is not None:  # this run sees it
            st.session_state[_USER_KEY] = (identity, saved)
        if address is not None and saved.auth_provider == "anonymous":
            # Its first message counts for its address too.
            Admin(repo.db).note_guest_address(user_id=saved.id, address=address)
        return saved.id

    return StorageRecorder(repo, user_id=user.id, create_user=create)


def library(recorder: StorageRecorder) -> StorageLibrary:
    """A chat's documents, kept with the conversation its recorder saves."""
    return StorageLibrary(recorder.repository.db, recorder)
