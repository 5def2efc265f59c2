"""Who may upload: only sessions that someone is signed in to (an ASGI middleware).

Streamlit takes a file at `PUT /_stcore/upload_file/<session id>/<file id>` for
any session that is connected, under any file id, and keeps its bytes in
memory until that session shuts down; a session that expires from the
reconnect store (`server.disconnectedSessionTTL`) never does, so its files
stay for the process's life. From the login page, with no account, six 20 MB
uploads under made-up ids grew the process by 120 MB, for good.

So the page says which sessions have someone signed in (`allow`, `forbid`:
`login_view` calls them on every run; a guest counts, which happens only when
no login is required), and `UploadGate`, in front of Streamlit's routes
(`web/server.py`), answers 403 to an upload for any other session before
reading its body: nothing of it is held. An allowed session's files are
dropped when it signs out, and once it has been gone longer than a reconnect
may take (`sweep`, run by each upload). Sizes are Streamlit's own
`server.maxUploadSize` (set by `assistants-ui run` from the configuration's
largest `max_upload_mb`) and, behind the proxy, nginx's.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from streamlit import config, runtime

__all__ = ["UploadGate", "allow", "allowed", "forbid", "sweep"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_UPLOAD = re.compile(r"/_stcore/upload_file/([^/]+)/[^/]+$")
_REFUSAL = b"Sign in to upload files."
# session id -> None while connected, else when it was first seen gone (monotonic)
_signed_in: dict[str, float | None] = {}
_lock = threading.Lock()
_SWEEP_EVERY = 60.0  # seconds between sweeps started by page runs (uploads sweep each time)
_last_sweep = 0.0


def allow(session_id: str) -> None:
    """Someone is signed in to this session: it may upload."""
    with _lock:
        _signed_in[session_id] = None
        due = time.monotonic() - _last_sweep > _SWEEP_EVERY
    if due:
        sweep()


def forbid(session_id: str) -> None:
    """Nobody is signed in to this session (any more): no upload, and its files go."""
    with _lock:
        was = session_id in _signed_in
        _signed_in.pop(session_id, None)
    if was:
        _drop_files(session_id)


def allowed(session_id: str) -> bool:
    with _lock:
        return session_id in _signed_in


def sweep() -> list[str]:
    """Forget the sessions gone for longer than a reconnect may take, and drop their files
    (Streamlit never drops the files of a session that expired from its reconnect
    store). Returns the sessions forgotten."""
    global _last_sweep
    if not runtime.exists():
        return []
    rt = runtime.get_instance()
    now = time.monotonic()
    ttl = float(config.get_option("server.disconnectedSessionTTL"))
    gone: list[str] = []
    with _lock:
        _last_sweep = now
        for session_id, since in list(_signed_in.items()):
            if rt.is_active_session(session_id):
                _signed_in[session_id] = None
            elif since is None:
                _signed_in[session_id] = now  # gone since at most now
            elif now - since > ttl:
                del _signed_in[session_id]
                gone.append(session_id)
    for session_id in gone:
        _drop_files(session_id)
    return gone


def _drop_files(session_id: str) -> None:
    if runtime.exists():
        runtime.get_instance().uploaded_file_mgr.remove_session_files(session_id)


class UploadGate:
    """ASGI middleware: an upload for a session nobody is signed in to gets 403, unread."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _UPLOAD.search(scope.get("path", "")) if scope["type"] == "http" else None
        if found is None or scope.get("method") != "PUT":
            await self.app(scope, receive, send)
            return
        if not allowed(found.group(1)):
            log.warning("upload refused: its session has nobody signed in")
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(_REFUSAL)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _REFUSAL})
            return
        sweep()
        await self.app(scope, receive, send)
