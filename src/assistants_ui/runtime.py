"""The process-wide runtime: configuration plus the backends built from it.

Built once per process (the web layer caches it; the CLI builds its own) and
shared by every browser session. Backends are created lazily, the first time
someone picks their profile, and kept: they hold clients and engines, never
per-user state.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from assistants_ui.backends import registry
from assistants_ui.backends.base import Backend, BackendError
from assistants_ui.profiles import Config, Profile, load_config
from assistants_ui.settings import SECRETS_FILES, load_settings

__all__ = ["Runtime", "config_fingerprint"]

log = logging.getLogger(__name__)


def config_fingerprint() -> tuple[object, ...]:
    """Changes when a configuration file changes, so the runtime can be rebuilt."""
    settings, _ = load_settings()
    stamps: list[object] = [settings.model_dump_json()]
    for path in (settings.assistants_file, Path(".env"), *SECRETS_FILES):
        try:
            stamps.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            stamps.append((str(path), None))
    return tuple(stamps)


@dataclass
class Runtime:
    config: Config
    _backends: dict[str, Backend] = field(default_factory=dict)
    _errors: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls) -> Runtime:
        settings, problems = load_settings()
        logging.getLogger("assistants_ui").setLevel(settings.log_level)
        return cls(config=load_config(settings, problems))

    @property
    def profiles(self) -> list[Profile]:
        return self.config.profiles

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
