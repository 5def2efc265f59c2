"""When what a run painted has left for the browser.

Streamlit hands every element a run paints to the server's one event loop (a
callback each), which queues it for the session and later writes the queue to
its websocket, one message at a time. With fifty page runs painting at once,
an answer's first words were painted 1.4 s after the send but written to the
websocket at 6.9 s, behind the other pages' sidebars and menus
(docs/benchmarks.md, "2026-12-07: first words first"). So `after_sent` tells
when everything this run painted so far
has been written, which is when an answer's first words are out
(`core.first_words`): until then the rest of every page steps aside.

Streamlit has no public hook for this; it reads its session's queue. On a
Streamlit without one, `after_sent` calls at once (the first words count as
out when painted, as before).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

__all__ = ["after_sent"]

log = logging.getLogger(__name__)

# How often the event loop looks again at a queue not yet written out, and for how long
# (a session painting all the time may never have an empty queue).
RECHECK_SECONDS = 0.005
GIVE_UP_SECONDS = 2.0


def _session() -> Any:
    """This run's Streamlit session, or None (not in a run, or no such internals)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not runtime.exists():
        return None
    manager = getattr(runtime.get_instance(), "_session_mgr", None)
    info = manager.get_active_session_info(ctx.session_id) if manager is not None else None
    session = getattr(info, "session", None)
    has = all(hasattr(session, name) for name in ("_event_loop", "_browser_queue"))
    return session if has else None


def after_sent(callback: Callable[[], None]) -> None:
    """Call `callback` (on the server's event loop) once what this run painted so far
    has been written to the browser's connection; at once when that cannot be told."""
    session = _session()
    if session is None:
        callback()
        return
    loop: asyncio.AbstractEventLoop = session._event_loop
    deadline = time.monotonic() + GIVE_UP_SECONDS

    def check() -> None:
        # Scheduled after the callbacks carrying this run's elements (the loop runs
        # them in order): those are in the queue now, or written already.
        if session._browser_queue.is_empty() or time.monotonic() > deadline:
            callback()
        else:
            loop.call_later(RECHECK_SECONDS, check)

    try:
        loop.call_soon_threadsafe(check)
    except RuntimeError:  # the server is shutting down
        log.debug("no event loop to tell when the first words were sent", exc_info=True)
        callback()
