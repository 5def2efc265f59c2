"""Maps a profile's `backend` name to a factory that builds the backend.

The built-in backends register themselves exactly the way a third-party
package would: through the `assistants_ui.backends` entry-point group, whose
entries name a factory `(profile, connection, settings) -> Backend`. Tests
register fakes with `register()`.

Factories import their protocol modules lazily, so that choosing the local
model does not import the OpenAI client and vice versa.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from importlib.metadata import entry_points

from assistants_ui.core.backend import Backend, BackendError
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import Settings

__all__ = ["BackendFactory", "available", "create", "register", "unregister"]

BackendFactory = Callable[[Profile, Connection, Settings], Backend]

ENTRY_POINT_GROUP = "assistants_ui.backends"

# Built in, referenced by import path so that nothing heavy loads at start-up.
_BUILTIN: dict[str, str] = {
    "chat": "assistants_ui.backends.chat.backend:create",
    "responses": "assistants_ui.backends.responses.backend:create",
    "assistants": "assistants_ui.backends.assistants.backend:create",
}

_lock = threading.Lock()
_registered: dict[str, BackendFactory] = {}


def register(name: str, factory: BackendFactory) -> None:
    with _lock:
        _registered[name] = factory


def unregister(name: str) -> None:
    with _lock:
        _registered.pop(name, None)


def _load(path: str) -> BackendFactory:
    module_name, _, attr = path.partition(":")
    module = importlib.import_module(module_name)
    factory: BackendFactory = getattr(module, attr)
    return factory


def _from_entry_points(name: str) -> BackendFactory | None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            factory: BackendFactory = ep.load()
            return factory
    return None


def available() -> list[str]:
    names = set(_BUILTIN) | set(_registered)
    names |= {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def create(profile: Profile, connection: Connection, settings: Settings) -> Backend:
    """Build the backend for a profile, or raise `BackendError` saying why not."""
    with _lock:
        factory = _registered.get(profile.backend)
    if factory is None and profile.backend in _BUILTIN:
        factory = _load(_BUILTIN[profile.backend])
    if factory is None:
        factory = _from_entry_points(profile.backend)
    if factory is None:
        raise BackendError(
            f"Assistant {profile.id!r}: no backend named {profile.backend!r} is installed."
        )
    return factory(profile, connection, settings)
