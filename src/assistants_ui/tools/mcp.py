"""MCP servers' tools, through the official `mcp` SDK, for callers that are not async.

A profile's `mcp_servers` name servers by a command (stdio: started as a
subprocess) or a URL (streamable HTTP, headers read from environment
variables). `server_for(settings)` returns the process-wide `McpServer` for
one of them: it holds one live session in an event loop of its own (a daemon
thread), because the SDK is async (anyio) while a backend's `send` runs in a
plain worker thread. `tools()` lists the server's tools (connecting first);
`call(name, arguments)` runs one, bounded by the server's `timeout`, and
never raises: a tool error, a timeout or a server gone mid-call come back as
a `ToolResult` with `ok=False`. A server that cannot be reached raises
`McpUnavailable` from `tools()` with one sentence; the next attempt waits
`RETRY_SECONDS` so that an answer is not slowed by a server known to be down.
`start()` does the first connection in the background when a backend is
built, so that the tools are listed before the first answer needs them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx2

from assistants_ui.profiles import McpServerSettings
from assistants_ui.tools.functions import ToolResult, timed_out

if TYPE_CHECKING:
    from mcp import Client
    from mcp_types import CallToolResult

__all__ = ["McpServer", "McpTool", "McpUnavailable", "result_text", "server_for"]

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0
CONNECT_SECONDS = 30.0  # at least this long to start (a subprocess importing its SDK) and list
T = TypeVar("T")


class McpUnavailable(Exception):
    """The server cannot be reached or listed; the message says why, in one sentence."""


@dataclass(frozen=True, slots=True)
class McpTool:
    server: str
    name: str
    description: str
    parameters: dict[str, Any]


def result_text(result: CallToolResult) -> str:
    """What the model is told: the text blocks, structured content, a line per other block."""
    pieces: list[str] = []
    for block in result.content:
        if block.type == "text":
            pieces.append(block.text)
        elif block.type in ("image", "audio"):
            size = len(getattr(block, "data", "")) * 3 // 4
            pieces.append(f"[{block.type} {getattr(block, 'mime_type', '')}, {size} bytes]")
        else:
            pieces.append(f"[{block.type} content]")
    if not pieces and result.structured_content is not None:
        pieces.append(json.dumps(result.structured_content, default=str))
    return "\n".join(pieces)


def _why(exc: BaseException) -> str:
    """The innermost useful message of an exception (anyio wraps them in groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:299] + "…"


class McpServer:
    """One configured server: one session, reopened after it broke."""

    def __init__(self, settings: McpServerSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._stop: asyncio.Event | None = None
        self._tools: list[McpTool] | None = None
        self._down: tuple[float, str] | None = None

    # -- the event loop thread ---------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name=f"mcp-{self.name}", daemon=True).start()
            self._loop = loop
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def _headers(self) -> dict[str, str]:
        env = self.settings.headers_env
        missing = [var for var in env.values() if not os.environ.get(var)]
        if missing:
            raise McpUnavailable(f"{', '.join(missing)} is not set (its headers_env)")
        return {header: os.environ[var] for header, var in env.items()}

    async def _transport(self, stack: AsyncExitStack) -> Any:
        from mcp import StdioServerParameters
        from mcp.client.streamable_http import streamable_http_client

        s = self.settings
        if s.url:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(headers=self._headers(), timeout=httpx2.Timeout(30, read=300))
            )
            return streamable_http_client(s.url, http_client=http)
        command, *args = s.command
        return StdioServerParameters(command=command, args=args, env=dict(s.env) or None)

    async def _open(self) -> Client:
        """Start the task that holds the session (anyio scopes stay in one task)."""
        from mcp import Client

        ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
        stop = self._stop = asyncio.Event()
        self._headers()  # a missing variable is said before anything starts

        async def hold() -> None:
            try:
                async with AsyncExitStack() as stack:
                    transport = await self._transport(stack)
                    client = await stack.enter_async_context(Client(transport))
                    ready.set_result(client)
                    await stop.wait()
            except BaseException as exc:  # the server went away, or never came
                if not ready.done():
                    ready.set_exception(exc)
                else:
                    log.info("MCP server %r: session ended (%s)", self.name, _why(exc))

        asyncio.get_running_loop().create_task(hold())
        return await ready

    def _close_session(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._client = None
        self._stop = None

    def _connect(self) -> Client:
        """The live session, opened (and its tools listed) if needed. Lock held."""
        if self._client is not None:
            return self._client
        if self._down is not None and time.monotonic() - self._down[0] < RETRY_SECONDS:
            raise McpUnavailable(self._down[1])
        timeout = max(self.settings.timeout, CONNECT_SECONDS)
        try:
            client = self._run(self._open(), timeout)
            listed = self._run(client.list_tools(), timeout)
        except McpUnavailable as exc:
            self._down = (time.monotonic(), str(exc))
            raise
        except TimeoutError:
            self._close_session()
            why = f"it did not answer within {timeout:g} s"
            self._down = (time.monotonic(), why)
            raise McpUnavailable(why) from None
        except BaseException as exc:
            self._close_session()
            self._down = (time.monotonic(), _why(exc))
            raise McpUnavailable(self._down[1]) from exc
        self._client, self._down = client, None
        self._tools = [
            McpTool(self.name, t.name, t.description or "", dict(t.input_schema))
            for t in listed.tools
        ]
        return client

    # -- public ------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and list the tools in the background (at start, so that the first
        answer does not wait); a failure is kept for the next `tools()` to say."""

        def connect() -> None:
            try:
                self.tools()
            except McpUnavailable as exc:
                log.warning("MCP server %r is unavailable: %s", self.name, exc)

        if self._client is None and self._down is None:
            threading.Thread(target=connect, name=f"mcp-start-{self.name}", daemon=True).start()

    def tools(self) -> list[McpTool]:
        """The server's tools; `McpUnavailable` when it cannot be reached."""
        with self._lock:
            self._connect()
            return list(self._tools or [])

    def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run one tool; never raises."""
        timeout = self.settings.timeout
        with self._lock:
            try:
                client = self._connect()
            except McpUnavailable as exc:
                return ToolResult(
                    f"Error: the MCP server {self.name!r} is unavailable: {exc}", False
                )
        try:
            call = client.call_tool(name, arguments, read_timeout_seconds=timeout)
            result = self._run(call, timeout + 1)
        except BaseException as exc:
            # A timeout, a protocol error, a server gone mid-call: reconnect on the next call.
            with self._lock:
                if self._client is client:
                    self._close_session()
            if isinstance(exc, TimeoutError) or "timed out" in _why(exc):
                return timed_out(name, timeout, f"the timeout of the MCP server {self.name!r}")
            return ToolResult(
                f"Error: {name} failed on the MCP server {self.name!r}: {_why(exc)}", False
            )
        text = result_text(result)
        return ToolResult(text if text else "(no output)", not result.is_error)

    def close(self) -> None:
        with self._lock:
            self._close_session()
            self._tools = None


_servers_lock = threading.Lock()
_servers: dict[str, McpServer] = {}


def server_for(settings: McpServerSettings) -> McpServer:
    """The process-wide server for these settings (one session shared by every profile)."""
    key = settings.model_dump_json()
    with _servers_lock:
        server = _servers.get(key)
        if server is None:
            server = _servers[key] = McpServer(settings)
        return server
