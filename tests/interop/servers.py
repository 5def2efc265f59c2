"""The interop suite's servers: what a test needs to know of them (URL, log, names)
and how the session fixtures in conftest.py start and stop them."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CHAT_MODEL = "smollm2"  # the alias llama.cpp's server answers to
EMBED_MODEL = "smollm2-embed"
OGX_MODEL = f"llama-cpp/{CHAT_MODEL}"  # OGX names a model provider_id/model_id


@dataclass
class Server:
    url: str  # the OpenAI-style base URL, ending in /v1
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_ready(server: Server, path: str, *, timeout: float) -> None:
    """Until `path` answers 200; fails with the server's last log lines if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"{server.url}: exited with {server.process.returncode}:\n{server.tail()}")
        try:
            with urllib.request.urlopen(server.url + path, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{server.url} did not answer {path} within {timeout:g} s:\n{server.tail()}")


def start(command: list[str], url: str, log: Path, env: dict[str, str]) -> Server:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    return Server(url, process, log)


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def content_text(content: Any) -> str:
    """A stored message's text: OGX keeps a string input as a string, parts as parts."""
    if isinstance(content, str):
        return content
    return "".join(getattr(part, "text", "") for part in content)
