"""`python llama_server.py --config_file F`: llama-cpp-python's own server
(`python -m llama_cpp.server`), with one bridge, as small as it can be:

Its request models take `content` only as a string for system, assistant and tool
messages, and refuse `"content": null` next to `tool_calls` (HTTP 500, "Input should
be a valid string"); with `tools`, a user message whose content is a list of text
parts fails too (HTTP 500, "can only concatenate str (not \"list\") to str"). The
Chat Completions protocol allows lists of text parts, and OGX sends them (the
file_search results go back as a `tool` message of text parts; a Responses
`input_text` list becomes a user list), so text-only lists are joined into one
string before the server sees the request.
"""

from __future__ import annotations

import json
import runpy
from typing import Any

import llama_cpp.server.app as server_app


def _flatten(body: dict[str, Any]) -> None:
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list) and all(
            isinstance(p, dict) and p.get("type") == "text" for p in content
        ):
            message["content"] = "".join(
                str(p.get("text", "")) for p in content if isinstance(p, dict)
            )
        elif content is None and message.get("tool_calls"):
            message["content"] = ""


class _StringContent:
    """ASGI middleware: text-only content lists -> one string."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/chat/completions"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            body = json.loads(raw)
            if isinstance(body, dict):
                _flatten(body)
                raw = json.dumps(body).encode()
        except ValueError:
            pass  # the server says what is wrong with it
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        await self.app({**scope, "headers": headers}, replay, send)


_create_app = server_app.create_app


def _app(*args: Any, **kwargs: Any) -> Any:
    return _StringContent(_create_app(*args, **kwargs))


server_app.create_app = _app  # type: ignore[assignment]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
