"""A scripted OpenAI-compatible server on 127.0.0.1, for tests and benchmarks.

Real HTTP (FastAPI + uvicorn in a thread, random port), so the official SDK is
exercised exactly as in production. Tests queue *replies* per route; every
JSON object and SSE event the server sends names the OpenAPI schema it must
match and is validated before it leaves (`violations` collects mismatches and
the pytest fixture fails the test if any occurred).

    with FakeOpenAI() as fake:
        fake.expect("chat.completions", chat_text(["Hel", "lo"]))
        client = OpenAI(base_url=fake.base_url, api_key="k")

Route modules (`chat_routes`, `responses_routes`, ...) add endpoints through
`FakeOpenAI.add_routes`; a route with nothing queued plays its default reply.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from fakes.openapi import SchemaError, validate

__all__ = [
    "SSE",
    "Bytes",
    "Error",
    "FakeOpenAI",
    "Hang",
    "Json",
    "Recorded",
    "Reply",
    "Stream",
]


@dataclass(frozen=True)
class SSE:
    """One server-sent event: `data` validated against `schema` (if named)."""

    data: Any
    schema: str | None = None
    event: str | None = None


@dataclass(frozen=True)
class Stream:
    """An SSE response. `cut_after=n` drops the connection after n events;
    `hang_after=n` stops sending (without closing) after n events; `pause_after=n`
    waits after n events until the test sets `resume` (to look at a state that
    would otherwise pass by)."""

    events: list[SSE]
    delay: float = 0.0
    done_marker: bool = True
    cut_after: int | None = None
    hang_after: int | None = None
    status: int = 200
    pause_after: int | None = None
    resume: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class Json:
    payload: Any
    schema: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bytes:
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Error:
    """An OpenAI-shaped error response."""

    status: int
    message: str = "error"
    type: str = "invalid_request_error"
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hang:
    """Accept the request and never answer (until the server stops)."""


Reply = Stream | Json | Bytes | Error | Hang


@dataclass
class Recorded:
    method: str
    path: str
    route: str
    body: Any
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class _Cut(Exception):
    """Raised inside a streaming body to drop the connection mid-response."""


class _HideCuts(logging.Filter):
    """uvicorn logs a dropped stream as an error; here it is the point."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _Cut))


logging.getLogger("uvicorn.error").addFilter(_HideCuts())


# Each module defines `install(fake)`, adding its endpoints and default replies.
_ROUTE_MODULES = (
    "chat_routes",
    "files_routes",
    "assistants_routes",
    "responses_routes",
    "audio_routes",
)


class FakeOpenAI:
    """The server. Use as a context manager, or `start()` / `stop()`."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._defaults: dict[str, Callable[[Recorded], Reply]] = {}
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = asyncio.Event()
        self.port = 0
        self.state: dict[str, Any] = {}  # shared by route modules (files, conversations, ...)
        for module in _ROUTE_MODULES:
            importlib.import_module(f"fakes.{module}").install(self)

    # -- scripting ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def expect(self, route: str, *replies: Reply) -> None:
        """Queue replies for the next requests to `route`, in order."""
        with self._lock:
            self._queues[route].extend(replies)

    def set_default(self, route: str, make: Callable[[Recorded], Reply]) -> None:
        self._defaults[route] = make

    def calls(self, route: str) -> list[Recorded]:
        return [r for r in self.requests if r.route == route]

    def check(self, schema: str, payload: Any) -> None:
        try:
            validate(schema, payload)
        except SchemaError as exc:
            self.violations.append(str(exc))

    # -- serving ------------------------------------------------------------------------

    def add_route(
        self,
        method: str,
        path: str,
        route: str,
        split: Callable[[Any], str | None] | None = None,
    ) -> None:
        """Serve `method path` from the queue (or default) named `route`; `split(body)`
        may name another route for some requests (the app's title requests)."""

        async def handler(request: Request) -> Response:
            raw = await request.body()
            body: Any
            content_type = request.headers.get("content-type", "")
            if content_type.startswith("multipart/"):
                form = await request.form()
                body = {}
                for key, value in form.multi_items():
                    if hasattr(value, "read"):
                        body[key] = {
                            "filename": value.filename,
                            "data": await value.read(),
                            "content_type": value.content_type,
                        }
                    else:
                        body[key] = value
            else:
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
            name = (split(body) if split is not None else None) or route
            rec = Recorded(request.method, request.url.path, name, body, dict(request.headers))
            rec.headers["x-path-params"] = json.dumps(request.path_params)
            rec.headers["x-query"] = str(request.url.query)
            self.requests.append(rec)
            with self._lock:
                queue = self._queues[name]
                reply = queue.popleft() if queue else None
            if reply is None:
                make = self._defaults.get(name)
                if make is None:
                    return JSONResponse(
                        {
                            "error": {
                                "message": f"fake: nothing scripted for {name}",
                                "type": "fake",
                                "code": None,
                                "param": None,
                            }
                        },
                        status_code=501,
                    )
                reply = make(rec)
            return await self._respond(reply)

        self.app.add_api_route(path, handler, methods=[method])

    async def _respond(self, reply: Reply) -> Response:
        if isinstance(reply, Error):
            payload = {
                "error": {
                    "message": reply.message,
                    "type": reply.type,
                    "param": None,
                    "code": reply.code,
                }
            }
            self.check("ErrorResponse", payload)
            return JSONResponse(payload, status_code=reply.status, headers=reply.headers)
        if isinstance(reply, Json):
            if reply.schema:
                self.check(reply.schema, reply.payload)
            return JSONResponse(reply.payload, status_code=reply.status, headers=reply.headers)
        if isinstance(reply, Bytes):
            return Response(reply.data, media_type=reply.content_type)
        if isinstance(reply, Hang):
            await self._stopping.wait()
            return Response(status_code=503)
        return StreamingResponse(
            self._sse(reply), status_code=reply.status, media_type="text/event-stream"
        )

    async def _sse(self, reply: Stream) -> AsyncIterator[bytes]:
        for index, sse in enumerate(reply.events):
            if reply.cut_after is not None and index >= reply.cut_after:
                raise _Cut("fake: connection dropped on purpose")
            if reply.hang_after is not None and index >= reply.hang_after:
                await self._stopping.wait()
                return
            if index == reply.pause_after:
                while not reply.resume.is_set() and not self._stopping.is_set():
                    await asyncio.sleep(0.02)
            if sse.schema:
                self.check(sse.schema, sse.data)
            head = f"event: {sse.event}\n" if sse.event else ""
            data = sse.data if isinstance(sse.data, str) else json.dumps(sse.data)
            yield f"{head}data: {data}\n\n".encode()
            if reply.delay:
                await asyncio.sleep(reply.delay)
        if reply.cut_after is not None and reply.cut_after >= len(reply.events):
            raise _Cut("fake: connection dropped on purpose")
        if reply.done_marker:
            yield b"data: [DONE]\n\n"

    def start(self) -> FakeOpenAI:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            timeout_graceful_shutdown=1,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        loop_ready = threading.Event()

        def serve() -> None:
            async def main() -> None:
                self._stopping = asyncio.Event()
                self._loop = asyncio.get_running_loop()
                loop_ready.set()
                assert self._server is not None
                await self._server.serve()

            asyncio.run(main())

        self._thread = threading.Thread(target=serve, name="fake-openai", daemon=True)
        self._thread.start()
        loop_ready.wait(10)
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)
        sockets = self._server.servers[0].sockets
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stopping.set)
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def events(items: Iterable[tuple[Any, str | None]]) -> list[SSE]:
    return [SSE(data, schema) for data, schema in items]
