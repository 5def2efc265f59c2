"""What `assistants-ui run` serves: Streamlit's page (`entry.py`) with security headers
and an upload gate.

`streamlit run` finds the `app` below (an `st.App`, Streamlit's ASGI application)
and serves it on the same Starlette server it uses for a plain script, with
`headers.SecurityHeaders` in front of every HTTP response. So a deployment
without a proxy gets the same policy as one behind the nginx template.
Websocket messages carry no headers; the page that opens the websocket does.
`upload_gate.UploadGate` refuses uploads for sessions nobody is signed in to.

Its lifespan starts the telemetry an operator configured (`assistants_ui.telemetry`:
traces and the metrics port) and warms the backends up in the background (`_warm`),
and ends with the server (SIGTERM, Ctrl-C): the answers still being written are
stopped then, each saved, marked stopped by the shutdown, the in-process model
finishes what it is generating (a title), and the traces still queued are sent.
(The server re-raises the signal once it has stopped, so `atexit` never runs.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit import runtime

from assistants_ui import telemetry
from assistants_ui.backends.chat.local_engine import LocalEngine
from assistants_ui.backends.clients import client_for
from assistants_ui.core.backend import BackendError
from assistants_ui.core.live import LiveAnswers
from assistants_ui.logs import configure_logging
from assistants_ui.runtime import Runtime
from assistants_ui.settings import load_settings
from assistants_ui.web.headers import SecurityHeaders
from assistants_ui.web.upload_gate import UploadGate

__all__ = ["app"]

log = logging.getLogger(__name__)

# How long the shutdown waits for the in-process model to finish what it is generating
# (a title takes about a second; `docker stop` waits 10 s before SIGKILL by default).
SHUTDOWN_MODEL_SECONDS = 5.0


def _warm() -> None:
    """What the first answer after a start would otherwise wait for: the SDK's client
    of each server the configuration names (its TLS context alone took 0.4 s here) and
    every assistant's backend. Best effort: the page builds what is missing."""
    try:
        rt = Runtime.load()
        for connection in rt.config.connections.values():
            if connection.type != "local":
                client_for(connection)
        for profile in rt.profiles:
            with contextlib.suppress(BackendError):
                rt.backend(profile)
    except Exception:  # a broken configuration is the page's to show, not the server's
        log.debug("could not warm the backends up", exc_info=True)


def _sessions() -> int:
    """The browser sessions connected to this server (the metrics' gauge; Streamlit has
    no public count, its session manager does)."""
    if not runtime.exists():
        return 0
    manager = runtime.get_instance()._session_mgr
    return int(manager.num_active_sessions())


@asynccontextmanager
async def _lifespan(_app: st.App) -> AsyncIterator[None]:
    settings = load_settings()[0]
    configure_logging(settings)  # what telemetry says at start is logged like the rest
    telemetry.start(settings, sessions=_sessions)
    # In the background: the server answers at once, the first answer finds them ready.
    warming = asyncio.get_running_loop().run_in_executor(None, _warm)
    yield
    await warming
    stopped = await asyncio.to_thread(LiveAnswers.stop_every, "shutdown")
    if stopped:
        log.info("shutdown: %d answer(s) being written were stopped and saved", stopped)
    # The in-process model ends what it is writing (a title, a stopped answer's last
    # token) before the interpreter tears it down.
    busy = await asyncio.to_thread(LocalEngine.close_all, SHUTDOWN_MODEL_SECONDS)
    if busy:
        log.warning(
            "shutdown: the local model was still generating after %g s", SHUTDOWN_MODEL_SECONDS
        )
    await asyncio.to_thread(telemetry.stop)


app = st.App(
    Path(__file__).with_name("entry.py"),
    middleware=[Middleware(SecurityHeaders), Middleware(UploadGate)],
    lifespan=_lifespan,
)
