"""A real MCP server for tests, written with the SDK's own server side (`MCPServer`,
formerly FastMCP). Run over stdio (`python -m fakes.mcp_server`) or streamable HTTP
(`python -m fakes.mcp_server --http PORT`, on 127.0.0.1; with `--token T` it wants
`Authorization: Bearer T`)."""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("test-tools")


@server.tool()
def city_time(city: str) -> str:
    """The local time in a city (always noon here)."""
    return f"It is 12:00 in {city}."


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def fail(reason: str) -> str:
    """A tool that always raises."""
    raise RuntimeError(f"broken on purpose: {reason}")


@server.tool()
def sleep(seconds: float) -> str:
    """A tool that takes its time."""
    time.sleep(seconds)
    return "awake"


@server.tool()
def huge(chars: int) -> str:
    """A tool that returns a lot of text."""
    return "x" * chars


@server.tool()
def vanish() -> str:
    """A tool whose server process dies while it runs."""
    os._exit(3)


def main(argv: list[str]) -> None:
    if "--http" in argv:
        import uvicorn
        from starlette.middleware.base import BaseHTTPMiddleware
        from starlette.responses import PlainTextResponse

        port = int(argv[argv.index("--http") + 1])
        app = server.streamable_http_app()
        if "--token" in argv:
            expected = "Bearer " + argv[argv.index("--token") + 1]

            async def check(request, call_next):  # type: ignore[no-untyped-def]
                if request.headers.get("authorization") != expected:
                    return PlainTextResponse("unauthorized", status_code=401)
                return await call_next(request)

            app.add_middleware(BaseHTTPMiddleware, dispatch=check)
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    else:
        server.run("stdio")


if __name__ == "__main__":
    main(sys.argv[1:])
