"""What the page depends on: the runtime, the repository, the signed-in user, the
reachability probes, the selected assistant, and the background remote deleter.

The runtime (configuration + backends) and the database are built once per
process with `st.cache_resource`; everything per user lives in session state
and storage. The conversation on the page is `chat_state`'s.

Session-state keys: `PROFILE_KEY` (the assistant picker's widget key) and
this module's own `_USER_KEY`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable, Sequence

import streamlit as st

from assistants_ui import i18n
from assistants_ui.auth import Identity
from assistants_ui.auth.sessions import server_key
from assistants_ui.core.backend import distinct_remotes
from assistants_ui.core.live import LiveAnswers
from assistants_ui.profiles import Profile, public_url
from assistants_ui.runtime import Runtime, config_fingerprint, probe
from assistants_ui.storage import (
    UNSAVED_USER,
    Database,
    NotFound,
    Repository,
    StorageRecorder,
    UserInfo,
    database_url,
    open_database,
)
from assistants_ui.storage.admin import Admin
from assistants_ui.storage.library import StorageLibrary
from assistants_ui.storage.models import utcnow

__all__ = [
    "PROFILE_KEY",
    "client_address",
    "delete_remote_later",
    "guest_address",
    "library",
    "limit_refusal",
    "live_answers",
    "reachability_problem",
    "recorder",
    "repository",
    "runtime",
    "saved_user",
    "saved_user_id",
    "select_profile",
    "selected_profile",
    "server_urls",
    "signed_in_user",
]

log = logging.getLogger(__name__)


PROFILE_KEY = "assistant"  # the selected profile id (the sidebar picker's widget key)
_USER_KEY = "user"  # (identity, UserInfo) of the signed-in user


@st.cache_resource(show_spinner=False, max_entries=2)
def _runtime(fingerprint: tuple[object, ...]) -> Runtime:
    return Runtime.load()


def runtime() -> Runtime:
    """The runtime for the current configuration (rebuilt when a config file changes)."""
    return _runtime(config_fingerprint())


@st.cache_resource(show_spinner=False)
def _live_answers(unattended_seconds: float, checkpoint_seconds: float) -> LiveAnswers:
    # The app's shutdown stops them, each saved as stopped by it (web/server.py).
    return LiveAnswers(checkpoint_seconds=checkpoint_seconds, unattended_seconds=unattended_seconds)


def live_answers(rt: Runtime) -> LiveAnswers:
    """The answers being written in this process (they outlive the pages that asked)."""
    settings = rt.config.settings
    return _live_answers(
        settings.unattended_answer_minutes * 60, settings.answer_checkpoint_seconds
    )


@st.cache_resource(show_spinner=False, max_entries=2)
def _database(url: str, _rt: Runtime) -> Database:
    return open_database(_rt.config.settings)


def repository(rt: Runtime) -> Repository:
    """The process-wide repository; `StorageError` if the database cannot be used."""
    return Repository(_database(database_url(rt.config.settings).render_as_string(), rt))


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


_ADDRESS_KEY = "guest-address"  # app_keys: keys the digest of guests' addresses


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
    """A chat's recorder; for an unsaved guest it makes the users row on the first save."""
    cached: tuple[Identity, UserInfo] | None = st.session_state.get(_USER_KEY)

    def create() -> int:
        if cached is None:
            raise NotFound("user")
        saved = _ensure(repo, cached[0])
        st.session_state[_USER_KEY] = (cached[0], saved)
        address = guest_address(repo) if saved.auth_provider == "anonymous" else None
        if address is not None:  # its first message counts for its address too
            Admin(repo.db).note_guest_address(user_id=saved.id, address=address)
        return saved.id

    return StorageRecorder(repo, user_id=user.id, create_user=create)


def library(recorder: StorageRecorder) -> StorageLibrary:
    """A chat's documents, kept with the conversation its recorder saves."""
    return StorageLibrary(recorder.repository.db, recorder)


@st.cache_data(ttl=60, show_spinner=False, max_entries=32)
def _probe(connection_json: str, _rt: Runtime, connection_id: str, language: str) -> str | None:
    with i18n.use(language):  # the sentence is cached per language
        return probe(_rt.config.connections[connection_id])


def reachability_problem(rt: Runtime, profile: Profile) -> str | None:
    """Why the profile's server cannot be used right now (checked at most once a minute)."""
    conn = rt.config.connection_for(profile)
    return _probe(conn.model_dump_json(), rt, conn.id, i18n.current())


def server_urls(rt: Runtime) -> list[str]:
    """Every way a sentence may name a configured server: its base URL and its
    endpoint, with and without the user and password a URL may carry."""
    from assistants_ui.backends.clients import endpoint_of

    urls: list[str] = []
    for connection in rt.config.connections.values():
        if connection.type == "local":
            continue
        for url in (connection.base_url, endpoint_of(connection)):
            if url:
                urls += [url, public_url(url)]
    return urls


def selected_profile(rt: Runtime) -> Profile:
    """The assistant picked in the sidebar (the first one until then)."""
    chosen = st.session_state.get(PROFILE_KEY)
    profile = rt.config.profile(chosen) if chosen else None
    if profile is None:
        profile = rt.profiles[0]
        select_profile(profile.id)
    return profile


def select_profile(profile_id: str) -> None:
    """Make `profile_id` the selected assistant (an opened conversation's)."""
    st.session_state[PROFILE_KEY] = profile_id


def delete_remote_later(rt: Runtime, profile_id: str, remotes: Sequence[dict[str, str]]) -> None:
    """Delete every branch's remote conversation/thread/vector store in the
    background (best effort)."""
    profile = rt.config.profile(profile_id)
    distinct = distinct_remotes(remotes)
    if profile is None or not distinct:
        return

    def work() -> None:
        for remote in distinct:
            try:
                rt.backend(profile).delete(remote)
            except Exception:
                log.warning("could not delete the remote side of a conversation", exc_info=True)

    threading.Thread(target=work, name="delete-remote", daemon=True).start()
