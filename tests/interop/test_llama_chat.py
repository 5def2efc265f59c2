"""The chat backend, unchanged, against llama.cpp's own OpenAI-compatible server.

Asserted on protocol outcomes: what the app sent and the server accepted (every
`content` a string: the server refuses lists for system and assistant messages),
statuses, no error part. The server reports no usage when streaming (it ignores
`stream_options`), which the connection's capabilities record.
"""

from __future__ import annotations

import json
import time
from typing import Any

from assistants_ui.backends.capabilities import capabilities_for
from assistants_ui.backends.chat.backend import create
from assistants_ui.backends.clients import client_for
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, ErrorPart, Message, ToolPart
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import load_settings
from interop.servers import CHAT_MODEL, Server

Sent = list[list[dict[str, Any]]]


def make(server: Server, **profile: Any) -> tuple[ChatSession, Sent]:
    """A session, and the `messages` of every request it sends."""
    conn = Connection(
        id=f"llama{time.monotonic_ns()}",
        type="openai",
        base_url=server.url,
        max_retries=0,
        timeout=120,
    )
    prof = Profile(
        id="llama",
        title="llama.cpp",
        backend="chat",
        connection=conn.id,
        model=CHAT_MODEL,
        instructions="You answer in one short sentence.",
        max_output_tokens=12,
        temperature=0,
        upload_types=("txt",),
        **profile,
    )
    sent: Sent = []
    api = client_for(conn)
    real = api.chat.completions.create

    def spy(**kwargs: Any) -> Any:
        sent.append(kwargs["messages"])
        return real(**kwargs)

    api.chat.completions.create = spy  # type: ignore[method-assign]
    return ChatSession(prof, create(prof, conn, load_settings()[0])), sent


def ask(chat: ChatSession, text: str, attachments: list[Attachment] | None = None) -> Message:
    chat.submit(text, attachments or [])
    return chat.reply().run_to_end()


def ok(message: Message) -> None:
    assert not [p for p in message.parts if isinstance(p, ErrorPart)], message.parts
    assert message.status in ("complete", "incomplete") and message.text.strip()


def test_multi_turn_resends_the_history(llama_server: Server) -> None:
    chat, sent = make(llama_server)
    first = ask(chat, "Name a colour.")
    ok(first)
    second = ask(chat, "Name another one.")
    ok(second)
    roles = [m["role"] for m in sent[-1]]
    assert roles == ["system", "user", "assistant", "user"]
    assert sent[-1][2]["content"] == first.text
    assert all(isinstance(m["content"], str) for m in sent[-1])
    caps = capabilities_for(chat.backend.connection)  # type: ignore[attr-defined]
    assert caps.known()["stream_usage"].supported is False


def test_a_text_file_is_inlined(llama_server: Server) -> None:
    chat, sent = make(llama_server)
    note = b"The launch code of the blue rocket is 7731.\n"
    answer = ask(chat, "What is the launch code?", [Attachment("rockets.txt", "text/plain", note)])
    ok(answer)
    question = sent[-1][-1]
    assert question["role"] == "user" and isinstance(question["content"], str)
    assert "rockets.txt" in question["content"] and note.decode() in question["content"]


def test_a_forced_function_call_round_trip(llama_server: Server) -> None:
    """A Python function through the one tool loop: llama.cpp's server honours a named
    `tool_choice` (a grammar), streams the call as `tool_calls` deltas, and takes the
    output back as a `tool` message."""
    chat, sent = make(
        llama_server,
        functions=("fakes.sample_functions:get_weather",),
        tool_choice="get_weather",
    )
    answer = ask(chat, "What is the weather in Paris?")
    [call] = [p for p in answer.parts if isinstance(p, ToolPart)]
    assert (call.tool, call.name, call.status) == ("function", "get_weather", "completed")
    assert set(json.loads(call.arguments)) == {"city"}
    assert call.output.startswith("Sunny in ")
    assert answer.status in ("complete", "incomplete")
    assert not [p for p in answer.parts if isinstance(p, ErrorPart)], answer.parts
    first, second = sent[0], sent[1]
    assert [m["role"] for m in first] == ["system", "user"]
    assistant, tool = second[-2:]
    assert assistant["role"] == "assistant" and isinstance(assistant["content"], str)
    assert assistant["tool_calls"][0]["function"]["name"] == "get_weather"
    assert tool == {
        "role": "tool",
        "tool_call_id": assistant["tool_calls"][0]["id"],
        "content": call.output,
    }
