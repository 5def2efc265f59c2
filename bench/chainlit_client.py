"""A Chainlit client without a browser: what Chainlit's own page does, over HTTP and
Socket.IO, so that bench/load.py drives a hundred Chainlit sessions as it drives
Streamlit's (`tests/streamlit_client.py`).

What its page does (Chainlit 2.12's frontend, `@chainlit/react-client`, as shipped in the
wheel: `chainlit/frontend/dist`, read from its source map):

- on load it asks for `/project/translations`, `/auth/config`, `/user` and
  `/project/settings` (JSON; the static files and the templated index.html are not
  fetched, as Streamlit's are not by the Streamlit client), then posts its session id
  to `/set-session-cookie` (a cookie for sticky load balancers);
- it connects Socket.IO (socket.io-client 4.8: Engine.IO 4, long-polling first, then
  the upgrade to a websocket) at `/ws/socket.io` with the `auth` payload
  `{clientType: "webapp", sessionId, threadId: "", userEnv: "{}", chatProfile: ""}`;
  once connected it emits `connection_successful` (the server answers `task_end`,
  `clear_ask`, `clear_call_fn`, then runs `on_chat_start` between a `task_start` and a
  `task_end`) and `fetch_favorites`; its input is off while a task runs, so the page is
  ready at that `task_end`;
- a message is `client_message` `{message: {threadId: "", id: uuid4, name: "User",
  type: "user_message", output, createdAt, metadata: {location}}, fileReferences: []}`;
- the answer comes as `task_start`, `stream_start` (the message with its first token),
  `stream_token` `{id, token, isSequence, isInput}` for each further token,
  `update_message` (or `new_message`) with the whole text, and `task_end`, which is what
  turns the page's input back on.

python-socketio's client speaks the same protocol (Socket.IO 5 over Engine.IO 4,
polling then websocket).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import socketio

# The same record of a run as the Streamlit client's, so that bench/load.py reads both
# alike: `changed` is the text the last event painted; `status` is Streamlit's
# FINISHED_SUCCESSFULLY once the page's task ended.
from streamlit_client import Run

__all__ = ["ChainlitSession"]

FINISHED = "FINISHED_SUCCESSFULLY"
_closing: set[asyncio.Task[None]] = set()
LANGUAGE = "en-US"


class ChainlitSession:
    """One browser tab of a Chainlit app, without the browser."""

    def __init__(self, url: str, http: aiohttp.ClientSession, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.http = http
        self.session_id = str(uuid.uuid4())
        self.sio = socketio.AsyncClient(
            reconnection=False,
            handle_sigint=False,
            http_session=http,
            request_timeout=timeout,
        )
        self.sio.on("*", self._event)
        self.texts: dict[str, str] = {}  # message id -> its text, as the page holds it
        self._run: Run | None = None
        self._on_text: Callable[[Run], None] | None = None
        self._connected = False  # connection_successful answered
        self._tasks = 0  # task_start not yet ended: the page's input is off meanwhile
        self._ready = asyncio.Event()
        self._ended = asyncio.Event()

    @classmethod
    async def open(
        cls, url: str, *, timeout: float = 60, local_address: str | None = None
    ) -> ChainlitSession:
        """A tab on `url` (from `local_address`, e.g. 127.0.0.7, to look like another
        machine); `run()` then loads the page."""
        connector = aiohttp.TCPConnector(local_addr=(local_address, 0) if local_address else None)
        http = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for 127.0.0.1 too
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        return cls(url, http, timeout)

    async def run(self, *, timeout: float = 60) -> None:
        """Load the page as the browser does, until its input is on (the app's
        `on_chat_start` ended: the bench's page has one, as Chainlit's example)."""
        async with asyncio.timeout(timeout):
            await asyncio.gather(
                self._get(f"/project/translations?language={LANGUAGE}"),
                self._get("/auth/config"),
                self._get("/user"),
            )
            await self._get(f"/project/settings?language={LANGUAGE}")
            async with self.http.post(
                f"{self.url}/set-session-cookie", json={"session_id": self.session_id}
            ) as answer:
                answer.raise_for_status()
            await self.sio.connect(
                self.url,
                auth={
                    "clientType": "webapp",
                    "sessionId": self.session_id,
                    "threadId": "",
                    "userEnv": json.dumps({}),
                    "chatProfile": "",
                },
                socketio_path="/ws/socket.io",
                wait_timeout=timeout,
            )
            await self.sio.emit("connection_successful")
            await self.sio.emit("fetch_favorites")
            await self._ready.wait()  # on_chat_start's task ended: the input is on

    async def chat(
        self, text: str, *, on_text: Callable[[Run], None] | None = None, timeout: float = 120
    ) -> Run:
        """Send `text` as the message composer does and read until the task ends."""
        run = self._run = Run()
        self._on_text = on_text
        self._ended.clear()
        message = {
            "threadId": "",
            "id": str(uuid.uuid4()),
            "name": "User",
            "type": "user_message",
            "output": text,
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "metadata": {"location": self.url + "/"},
        }
        self.texts[message["id"]] = text  # the composer adds it to the page itself
        await self.sio.emit("client_message", {"message": message, "fileReferences": []})
        async with asyncio.timeout(timeout):
            await self._ended.wait()
        run.finished = time.monotonic()
        run.status = FINISHED
        self._run = None
        return run

    async def close(self) -> None:
        try:
            await self.sio.disconnect()
        finally:
            await self.http.close()

    def abort(self) -> None:
        """Drop the connection, as a closed tab would (the loop finishes closing it)."""
        task = asyncio.get_running_loop().create_task(self.close())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def _get(self, path: str) -> None:
        async with self.http.get(self.url + path) as answer:
            answer.raise_for_status()
            await answer.read()

    # -- receiving: the page's handlers of useChatSession ----------------------------

    def _event(self, event: str, data: Any = None) -> None:
        run = self._run
        if event == "clear_call_fn":  # the last answer to connection_successful
            self._connected = True
        elif event == "task_start":
            self._tasks += 1
        elif event == "task_end":
            self._tasks = max(0, self._tasks - 1)
            if self._connected and self._tasks == 0:
                self._ready.set()  # the input is on (on_chat_start ended)
                if run is not None and run.messages:
                    self._ended.set()
        elif event in ("stream_start", "new_message", "update_message"):
            self._paint(data["id"], data.get("output") or "", error=data.get("isError", False))
        elif event == "stream_token":
            old = self.texts.get(data["id"], "")
            new = data["token"] if data.get("isSequence") else old + data["token"]
            self._paint(data["id"], new)
        if run is not None:
            run.messages += 1

    def _paint(self, message_id: str, text: str, *, error: bool = False) -> None:
        self.texts[message_id] = text
        run = self._run
        if run is None:
            return
        run.texts[(list(self.texts).index(message_id),)] = run.changed = text
        if error:
            run.errors.append(text)
        if self._on_text is not None:
            self._on_text(run)
