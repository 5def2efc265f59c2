"""The Responses backend, unchanged, against OGX 1.5.0 over llama.cpp's server.

Assertions are on protocol outcomes (what the server stored, which parts and
statuses the message has), never on the small model's words.
"""

from __future__ import annotations

import time
from typing import Any

import openai

from assistants_ui.backends.responses import ResponsesBackend, create
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, ErrorPart, Message
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import load_settings
from interop.servers import OGX_MODEL, Server


def connect(server: Server, **values: Any) -> Connection:
    return Connection(
        id=f"ogx{time.monotonic_ns()}",
        type="openai",
        base_url=server.url,
        max_retries=0,
        timeout=120,
        **values,
    )


def make(server: Server, **profile: Any) -> tuple[ChatSession, ResponsesBackend]:
    conn = connect(server)
    values: dict[str, Any] = {
        "id": "ogx",
        "title": "OGX",
        "backend": "responses",
        "connection": conn.id,
        "model": OGX_MODEL,
        "max_output_tokens": 24,
        "temperature": 0,
        **profile,
    }
    prof = Profile(**values)
    backend = create(prof, conn, load_settings()[0])
    backend.index_poll_interval = 0.2
    return ChatSession(prof, backend), backend


def ask(chat: ChatSession, text: str, attachments: list[Attachment] | None = None) -> Message:
    chat.submit(text, attachments or [])
    return chat.reply().run_to_end()


def errors(message: Message) -> list[str]:
    return [p.reason for p in message.parts if isinstance(p, ErrorPart)]


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(getattr(part, "text", "") for part in content)


def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="none", max_retries=0)


def test_two_turns_are_held_by_the_servers_conversation(ogx_server: Server) -> None:
    chat, _ = make(ogx_server)
    first = ask(chat, "Name a colour.")
    assert errors(first) == [] and first.status == "complete", first.parts
    second = ask(chat, "Name another one.")
    assert errors(second) == [] and second.status == "complete", second.parts
    conversation = chat.remote["conversation"]
    items = list(client(ogx_server).conversations.items.list(conversation, order="asc"))
    roles = [getattr(i, "role", None) for i in items if i.type == "message"]
    assert roles == ["user", "assistant", "user", "assistant"]
    texts = [content_text(i.content) for i in items if i.type == "message"]
    assert texts[0] == "Name a colour." and texts[2] == "Name another one."
    assert texts[1] == first.text and texts[3] == second.text
