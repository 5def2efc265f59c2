"""Start the test MCP server (`fakes.mcp_server`) over stdio or streamable HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistants_ui.profiles import McpServerSettings

__all__ = ["http_server", "stdio_settings"]

TESTS = Path(__file__).resolve().parent.parent
START_SECONDS = 60.0


def stdio_settings(name: str = "clock", **options: Any) -> McpServerSettings:
    """A stdio server: the test server run with this interpreter, from tests/."""
    return McpServerSettings(
        name=name,
        command=(sys.executable, str(TESTS / "fakes" / "mcp_server.py")),
        **options,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def http_server(token: str | None = None) -> Iterator[str]:
    """The test server on 127.0.0.1 over streamable HTTP; yields its URL."""
    port = _free_port()
    args = [sys.executable, str(TESTS / "fakes" / "mcp_server.py"), "--http", str(port)]
    if token:
        args += ["--token", token]
    process = subprocess.Popen(args, cwd=TESTS)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the MCP test server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)
