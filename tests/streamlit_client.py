"""A Streamlit client without a browser: the page's websocket and its protobuf messages.

The browser talks to Streamlit over one websocket, `/_stcore/stream`, in the
protobuf messages of `streamlit.proto`: it sends `BackMsg`s (a `rerun_script`
carrying the widgets' state: a chat input's submitted text is a
`chat_input_value`) and receives `ForwardMsg`s (`new_session`, `delta`s that
add or replace elements, `script_finished`). This client does the same, so a
benchmark can drive a hundred sessions from one process and a test can open a
session, send, and drop the connection mid-answer.

    async with await PageSession.open(url) as page:
        await page.run()                                  # the page's first run
        await page.chat("Hello", until=lambda t: "END" in t)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Common_pb2 import ChatInputValue
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

__all__ = ["PageSession", "Run", "run_isolated", "ws_url"]

T = TypeVar("T")


def run_isolated(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)` in a thread of its own: the calling thread may already run
    an event loop (Playwright's sync API does, for the browser tests of the same
    pytest process), where `asyncio.run` refuses to start."""
    done: list[T] = []
    failed: list[BaseException] = []

    def main() -> None:
        try:
            done.append(asyncio.run(coro))
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=main, name="streamlit-client")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return done[0]


def ws_url(url: str) -> str:
    """The websocket of the page at `url` (http://host:port)."""
    return (
        url.replace("http://", "ws://", 1).replace("https://", "wss://", 1).rstrip("/")
        + "/_stcore/stream"
    )


@dataclass
class Run:
    """What one script run painted, as it arrived."""

    started: float = field(default_factory=time.monotonic)
    texts: dict[tuple[int, ...], str] = field(default_factory=dict)  # delta path -> text
    changed: str = ""  # the text the last message painted
    errors: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)  # the labels of the buttons painted
    finished: float | None = None
    status: str = ""
    messages: int = 0
    bytes: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.texts[k] for k in sorted(self.texts))


class PageSession:
    """One browser tab's session, without the browser."""

    def __init__(self, ws: websockets.ClientConnection, url: str) -> None:
        self.ws = ws
        self.url = url
        self.page_script_hash = ""
        self.chat_input_id: str | None = None
        self.session_id = ""
        self.query_string = ""  # what follows the page's "?", sent with every rerun

    @classmethod
    async def open(
        cls, url: str, *, timeout: float = 60, local_address: str | None = None
    ) -> PageSession:
        """Connect (from `local_address`, e.g. 127.0.0.7, to look like another machine)."""
        ws = await websockets.connect(
            ws_url(url),
            subprotocols=[websockets.Subprotocol("streamlit")],
            open_timeout=timeout,
            max_size=None,
            ping_interval=None,
            local_addr=(local_address, 0) if local_address else None,
        )
        return cls(ws, url)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.ws.close()

    def abort(self) -> None:
        """Drop the connection at once, as a closed tab or a lost network would."""
        self.ws.transport.abort()

    # -- sending --------------------------------------------------------------------

    async def rerun(self, widgets: list[WidgetState] | None = None) -> None:
        state = ClientState(
            query_string=self.query_string,
            page_script_hash=self.page_script_hash,
            widget_states=WidgetStates(widgets=widgets or []),
            context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US"),
        )
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())

    def chat_value(self, text: str) -> WidgetState:
        if self.chat_input_id is None:
            raise RuntimeError("the page has no chat input (yet)")
        return WidgetState(id=self.chat_input_id, chat_input_value=ChatInputValue(data=text))

    # -- receiving ------------------------------------------------------------------

    async def run(
        self,
        widgets: list[WidgetState] | None = None,
        *,
        on_text: Callable[[Run], None] | None = None,
        timeout: float = 60,
    ) -> Run:
        """Rerun the script with `widgets` and read until the run finishes.

        `on_text(run)` is called after each message that changed a painted text
        (`run.changed`: the text it painted).
        Raises TimeoutError when the run does not finish in `timeout` seconds.
        """
        run = Run()
        await self.rerun(widgets)
        async with asyncio.timeout(timeout):
            while run.finished is None:
                raw = await self.ws.recv()
                run.messages += 1
                run.bytes += len(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
                if self._apply(msg, run) and on_text is not None:
                    on_text(run)
        return run

    async def chat(
        self, text: str, *, on_text: Callable[[Run], None] | None = None, timeout: float = 120
    ) -> Run:
        """Send `text` through the chat input and read the run that answers it."""
        return await self.run([self.chat_value(text)], on_text=on_text, timeout=timeout)

    def _apply(self, msg: ForwardMsg, run: Run) -> bool:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_script_hash = msg.new_session.page_script_hash
            self.session_id = msg.new_session.initialize.session_id
        elif kind == "script_finished":
            run.finished = time.monotonic()
            run.status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            path = tuple(msg.metadata.delta_path)
            which = element.WhichOneof("type")
            if which == "chat_input":
                self.chat_input_id = element.chat_input.id
            elif which == "markdown":
                run.texts[path] = run.changed = element.markdown.body
                return True
            elif which == "code":
                run.texts[path] = run.changed = element.code.code_text
                return True
            elif which == "button":
                run.buttons.append(element.button.label)
            elif which == "exception":
                run.errors.append(f"{element.exception.type}: {element.exception.message}")
            elif which == "alert" and element.alert.format == Alert.ERROR:
                run.errors.append(element.alert.body)
            elif path in run.texts:  # an element replaced by something else (st.empty)
                del run.texts[path]
                run.changed = ""
                return True
        return False
