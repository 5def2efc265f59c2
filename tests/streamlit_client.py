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

It can also do what no browser does: open a websocket naming an existing
session (Streamlit's reconnect: the subprotocol `streamlit, <x>, <session id>`)
with the cookies it chooses, or none (`PageSession.open(url, session_id=...,
cookies=...)`), fill text inputs and press buttons by their label
(`page.widgets`), and read the cookies the page asked the browser to store
(`page.cookie_writes`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Common_pb2 import ChatInputValue, FileUploaderState, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

__all__ = ["PageSession", "Run", "run_isolated", "ws_url"]

COOKIE_JAR = "cookie_jar"  # the app's cookie-writing component (web/login_view.py)
XSRF = "_streamlit_xsrf"  # the cookie (and header) Streamlit checks on uploads

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
    alerts: list[str] = field(default_factory=list)  # every alert's text (error, info, ...)
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
        self.page_name = ""  # the page asked for (an st.navigation url_path, e.g. "admin")
        self.widgets: dict[str, str] = {}  # label -> id of the text inputs and buttons painted
        self.widget_ids: list[str] = []  # every widget painted, in order
        self.fragments: dict[str, str] = {}  # widget id -> the fragment that painted it
        self.cookie_writes: dict[str, str] = {}  # name -> value the page asked to store

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        timeout: float = 60,
        local_address: str | None = None,
        session_id: str | None = None,
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> PageSession:
        """Connect (from `local_address`, e.g. 127.0.0.7, to look like another machine).

        `session_id`: ask to resume that session, as Streamlit's page does when its
        websocket reconnects (the subprotocol's third entry); `cookies`: the Cookie
        header to send (none by default, unlike a browser); `headers`: more headers
        (e.g. X-Forwarded-For, as a proxy would add)."""
        protocols = ["streamlit"] + (["x", session_id] if session_id else [])
        extra = dict(headers or {})
        if cookies:
            extra["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        ws = await websockets.connect(
            ws_url(url),
            subprotocols=[websockets.Subprotocol(p) for p in protocols],
            additional_headers=extra or None,
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
        """Ask for a run with `widgets`; only their fragment's, when they all belong to one
        (as the browser does for a widget inside an `st.fragment`)."""
        fragments = {self.fragments.get(w.id, "") for w in widgets or []}
        state = ClientState(
            query_string=self.query_string,
            page_script_hash=self.page_script_hash,
            page_name=self.page_name,
            widget_states=WidgetStates(widgets=widgets or []),
            context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US"),
            fragment_id=fragments.pop() if len(fragments) == 1 else "",
        )
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())

    def widget(self, key: str) -> str:
        """The id of the last widget painted whose key starts with `key` (Streamlit puts
        the key at the end of the id: `$$ID-<hash>-<key>`)."""
        found = [i for i in self.widget_ids if f"-{key}" in i]
        if not found:
            raise KeyError(f"no widget with a key like {key!r} was painted")
        return found[-1]

    def press(self, widget_id: str) -> WidgetState:
        """A button's press, by its id (see `widget`)."""
        return WidgetState(id=widget_id, trigger_value=True)

    def go(self, page: str) -> None:
        """Ask for another page of `st.navigation` (its url_path) from the next run on."""
        self.page_name, self.page_script_hash = page, ""

    def text_value(self, label: str, text: str) -> WidgetState:
        """A text input's value, by the input's label."""
        return WidgetState(id=self.widgets[label], string_value=text)

    def click(self, label: str) -> WidgetState:
        """A button's (or a form's submit button's) press, by its label."""
        return WidgetState(id=self.widgets[label], trigger_value=True)

    def chat_value(self, text: str, files: Sequence[UploadedFileInfo] = ()) -> WidgetState:
        """What the chat input sends: `text`, and `files` uploaded first (`upload`)."""
        if self.chat_input_id is None:
            raise RuntimeError("the page has no chat input (yet)")
        value = ChatInputValue(data=text)
        if files:
            value.file_uploader_state.CopyFrom(FileUploaderState(uploaded_file_info=files))
        return WidgetState(id=self.chat_input_id, chat_input_value=value)

    def upload(self, name: str, data: bytes, mime: str) -> UploadedFileInfo:
        """PUT a file to this session's uploads as the page's uploader does (multipart,
        with Streamlit's XSRF cookie and header; blocking): the file for `chat_value`."""
        with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=30) as answer:
            cookie = answer.headers.get("Set-Cookie", "")
        xsrf = cookie.split(f"{XSRF}=", 1)[1].split(";", 1)[0] if XSRF in cookie else ""
        file_id = uuid.uuid4().hex
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: {mime}\r\n\r\n'.encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        request = urllib.request.Request(
            f"{self.url}/_stcore/upload_file/{self.session_id}/{file_id}",
            data=body,
            method="PUT",
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "X-Xsrftoken": xsrf,
                "Cookie": f"{XSRF}={xsrf}",
            },
        )
        with urllib.request.urlopen(request, timeout=120):
            pass
        return UploadedFileInfo(file_id=file_id, name=name, size=len(data))

    # -- receiving ------------------------------------------------------------------

    async def run(
        self,
        widgets: list[WidgetState] | None = None,
        *,
        on_text: Callable[[Run], None] | None = None,
        timeout: float = 60,
    ) -> Run:
        """Rerun the script with `widgets` and read until the run finishes.

        A run that ends early for a rerun (`st.rerun`, as after a login) is followed,
        as a browser follows it: what is returned is the run that finished.
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
                if run.status == "FINISHED_EARLY_FOR_RERUN":
                    run = Run(started=run.started, messages=run.messages, bytes=run.bytes)
        return run

    async def chat(
        self,
        text: str,
        *,
        files: Sequence[UploadedFileInfo] = (),
        on_text: Callable[[Run], None] | None = None,
        timeout: float = 120,
    ) -> Run:
        """Send `text` (and `files`, uploaded first) through the chat input and read the
        run that answers it."""
        return await self.run([self.chat_value(text, files)], on_text=on_text, timeout=timeout)

    def _apply(self, msg: ForwardMsg, run: Run) -> bool:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_script_hash = msg.new_session.page_script_hash
            self.session_id = msg.new_session.initialize.session_id
        elif kind == "navigation":  # the st.navigation page this run showed
            self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "script_finished":
            run.finished = time.monotonic()
            run.status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            path = tuple(msg.metadata.delta_path)
            which = element.WhichOneof("type")
            widget_id = getattr(getattr(element, which or "", None), "id", None)
            if isinstance(widget_id, str) and widget_id.startswith("$$ID"):
                self.widget_ids.append(widget_id)
                if msg.delta.fragment_id:
                    self.fragments[widget_id] = msg.delta.fragment_id
            if which == "chat_input":
                self.chat_input_id = element.chat_input.id
            elif which == "markdown":
                run.texts[path] = run.changed = element.markdown.body
                return True
            elif which == "heading":
                run.texts[path] = run.changed = element.heading.body
                return True
            elif which == "code":
                run.texts[path] = run.changed = element.code.code_text
                return True
            elif which == "text":  # what the user typed (`st.text`)
                run.texts[path] = run.changed = element.text.body
                return True
            elif which == "button":
                run.buttons.append(element.button.label)
                self.widgets[element.button.label] = element.button.id
            elif which == "text_input":
                self.widgets[element.text_input.label] = element.text_input.id
            elif which == "bidi_component" and COOKIE_JAR in element.bidi_component.component_name:
                ops = json.loads(element.bidi_component.json or "{}").get("ops", [])
                self.cookie_writes.update({op["name"]: op["value"] for op in ops})
            elif which == "exception":
                run.errors.append(f"{element.exception.type}: {element.exception.message}")
            elif which == "alert":
                run.alerts.append(element.alert.body)
                if element.alert.format == Alert.ERROR:
                    run.errors.append(element.alert.body)
            elif path in run.texts:  # an element replaced by something else (st.empty)
                del run.texts[path]
                run.changed = ""
                return True
        return False
