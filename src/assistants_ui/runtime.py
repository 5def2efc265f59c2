"""The process-wide runtime: configuration plus the backends built from it.

Built once per process (the web layer caches it; the CLI builds its own) and
shared by every browser session. Backends are created lazily, the first time
someone picks their profile, and kept: they hold clients and engines, never
per-user state.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistants_ui import telemetry
from assistants_ui.backends import registry
from assistants_ui.backends.transcription import can_transcribe, transcribe
from assistants_ui.core.backend import Backend, BackendError
from assistants_ui.logs import configure_logging
from assistants_ui.profiles import Config, Connection, Profile, load_config
from assistants_ui.settings import SECRETS_FILES, Problem, load_settings

__all__ = ["Runtime", "config_fingerprint", "probe"]

log = logging.getLogger(__name__)


def _stamp(path: Path) -> tuple[str, int | None]:
    try:
        return str(path), path.stat().st_mtime_ns
    except OSError:
        return str(path), None


# The settings last read, and what they were read from: the environment, the working
# directory and the files beside it. Reading them (pydantic-settings) costs about
# 2.4 ms, an eighth of a page's run; comparing what they come from costs 0.03 ms.
_last_read: tuple[tuple[object, ...], tuple[str, Path]] | None = None


def config_fingerprint() -> tuple[object, ...]:
    """Changes when a configuration file changes, so the runtime can be rebuilt."""
    global _last_read
    files = tuple(_stamp(path) for path in (Path(".env"), *SECRETS_FILES))
    source = (tuple(sorted(os.environ.items())), os.getcwd(), files)
    last = _last_read
    if last is None or last[0] != source:
        settings, _ = load_settings()
        last = _last_read = (source, (settings.model_dump_json(), settings.assistants_file))
    dump, assistants_file = last[1]
    return (dump, _stamp(assistants_file), *files)


def _model_file_problems(config: Config) -> list[Problem]:
    """A local model file that is missing or not a GGUF, said at start-up (cheap checks)."""
    from assistants_ui.backends.chat.local_engine import LocalModelError, check_model_file

    problems: list[Problem] = []
    seen: set[str] = set()
    for profile in config.profiles:
        conn = config.connection_for(profile)
        if conn.type != "local" or conn.id in seen:
            continue
        seen.add(conn.id)
        setting = (
            "LOCAL_MODEL_PATH"
            if conn.model_path == config.settings.local_model_path
            else f"connections.{conn.id}.model_path"
        )
        try:
            check_model_file(conn.model_path, setting=setting)
        except LocalModelError as exc:
            message = str(exc)
            prefix = f"{setting}: "
            problems.append(Problem(setting, message.removeprefix(prefix)))
    return problems


def probe(connection: Connection, *, timeout: float = 3.0) -> str | None:
    """One sentence if a remote endpoint cannot be used at all (down, refused key), else None.

    A real request (`GET /models`) with no retries. Other answers (a server
    without `/models`, an unknown model) are left for the first message to tell.
    """
    if connection.type == "local":
        return None
    key = connection.resolved_key()
    if connection.type == "azure" and not key:
        return None  # Entra ID: nothing to probe without signing in
    import openai

    from assistants_ui.backends.clients import PLACEHOLDER_KEY, describe_error, endpoint_of

    client = openai.OpenAI(
        api_key=key or PLACEHOLDER_KEY,
        base_url=endpoint_of(connection),
        max_retries=0,
        timeout=timeout,
    )
    try:
        client.models.list()
    except openai.OpenAIError as exc:
        failed = describe_error(exc, connection)
        if failed.code in ("connection", "timeout", "key_refused", "forbidden"):
            return failed.reason
    finally:
        client.close()
    return None


@dataclass
class Runtime:
    config: Config
    _backends: dict[str, Backend] = field(default_factory=dict)
    _errors: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls) -> Runtime:
        settings, problems = load_settings()
        config = load_config(settings, problems)
        keys = (c.resolved_key() for c in config.connections.values())
        configure_logging(settings, extra_secrets=[k for k in keys if k])
        config.problems.extend(_model_file_problems(config))
        config.problems.extend(telemetry.problems(settings))
        return cls(config=config)

    @property
    def profiles(self) -> list[Profile]:
        return self.config.profiles

    def transcriber(self, profile: Profile) -> Callable[[bytes, str], str] | None:
        """Voice input for this assistant, if its connection can transcribe (None: the
        page offers no microphone). The callable raises `BackendError` with one sentence."""
        connection = self.config.connection_for(profile)
        if not can_transcribe(profile, connection):
            return None
        return lambda data, mime: transcribe(profile, connection, data, mime=mime)

    def backend(self, profile: Profile) -> Backend:
        """The profile's backend, or `BackendError` saying why it cannot be built."""
        with self._lock:
            if profile.id in self._backends:
                return self._backends[profile.id]
            if profile.id in self._errors:
                raise BackendError(self._errors[profile.id])
            try:
                backend = registry.create(
                    profile, self.config.connection_for(profile), self.config.settings
                )
            except BackendError as exc:
                self._errors[profile.id] = exc.reason
                raise
            self._backends[profile.id] = backend
            return backend
