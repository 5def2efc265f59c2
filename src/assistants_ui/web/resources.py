"""What the page shares with every other page of the process: the runtime (configuration
and backends), the answers being written, the database, the servers' reachability and
names, and the background deleter of remote state.

Built once per process (`st.cache_resource`, `st.cache_data`); nothing here is per
reader (that is `web/reader.py`) or per run (`web/picker.py`, `chat_state`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Generic, TypeVar

import streamlit as st

from assistants_ui import i18n
from assistants_ui.core.backend import distinct_remotes
from assistants_ui.core.live import LiveAnswers
from assistants_ui.profiles import Profile, public_url
from assistants_ui.runtime import Runtime, config_fingerprint, probe
from assistants_ui.storage import Database, Repository, database_url, open_database

__all__ = [
    "LastBuilt",
    "delete_remote_later",
    "live_answers",
    "reachability_problem",
    "repository",
    "runtime",
    "server_urls",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


class LastBuilt(Generic[T]):
    """What was built for the last key asked for (a configuration's fingerprint): every
    page run asks, and comparing the key costs a tenth of `st.cache_resource`'s lookup,
    which hashes it. A new key is built (through the cache) and kept instead."""

    def __init__(self) -> None:
        self._last: tuple[object, T] | None = None

    def get(self, key: object, build: Callable[[], T]) -> T:
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        value = build()
        self._last = (key, value)
        return value


@st.cache_resource(show_spinner=False, max_entries=2)
def _runtime(fingerprint: tuple[object, ...]) -> Runtime:
    return Runtime.load()


_this_run = threading.local()  # within `one_reading`: the runtime this run read


@contextmanager
def one_reading() -> Iterator[None]:
    """Within (a page's run), the configuration is looked at once, by the first
    `runtime()`: each look is a handful of system calls (the files' times, the working
    directory), and under load every one of them waits for its turn on the GIL again."""
    _this_run.runtime = None
    try:
        yield
    finally:
        del _this_run.runtime


_runtimes: LastBuilt[Runtime] = LastBuilt()


def _current() -> Runtime:
    fingerprint = config_fingerprint()
    return _runtimes.get(fingerprint, partial(_runtime, fingerprint))


def runtime() -> Runtime:
    """The runtime for the current configuration (rebuilt when a config file changes)."""
    if not hasattr(_this_run, "runtime"):
        return _current()
    if _this_run.runtime is None:
        _this_run.runtime = _current()
    rt: Runtime = _this_run.runtime
    return rt


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


_url: tuple[weakref.ref[Runtime], str] | None = None  # the last runtime's DATABASE_URL


def repository(rt: Runtime) -> Repository:
    """The process-wide repository; `StorageError` if the database cannot be used."""
    global _url
    last = _url
    if last is not None and last[0]() is rt:
        url = last[1]
    else:  # once per configuration: a SQLite path is resolved on the disk
        url = database_url(rt.config.settings).render_as_string()
        _url = (weakref.ref(rt), url)
    return Repository(_database(url, rt))


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
