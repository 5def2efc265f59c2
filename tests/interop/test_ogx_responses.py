"""The Responses backend, unchanged, against OGX 1.5.0 over llama.cpp's server.

Assertions are on protocol outcomes (what the server stored, which parts and
statuses the message has), never on the small model's words.
"""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest

from assistants_ui.backends.responses.backend import ResponsesBackend, create
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import Attachment, ErrorPart, Message, ToolPart
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import load_settings
from interop.servers import OGX_MODEL, Server, content_text


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
        "max_output_tokens": 16,
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


def tool_parts(message: Message, tool: str) -> list[ToolPart]:
    return [p for p in message.parts if isinstance(p, ToolPart) and p.tool == tool]


NOTE = b"The launch code of the blue rocket is 7731.\nThe red rocket has no code.\n"


def test_an_uploaded_text_file_is_indexed_searched_and_answered(ogx_server: Server) -> None:
    chat, backend = make(
        ogx_server, tools=("file_search",), tool_choice="file_search", upload_types=("txt",)
    )
    answer = ask(chat, "What is the launch code?", [Attachment("rockets.txt", "text/plain", NOTE)])
    assert errors(answer) == [], answer.parts
    store = chat.remote["vector_store"]
    api = client(ogx_server)
    files = list(api.vector_stores.files.list(store))
    assert [f.status for f in files] == ["completed"]
    indexing, *searches = tool_parts(answer, "file_search")
    assert indexing.status == "completed"
    assert searches and all(s.status == "completed" for s in searches), answer.parts
    assert answer.status in ("complete", "incomplete") and answer.text.strip()
    # Searched before answering: the text comes after the search.
    kinds = [type(p).__name__ for p in answer.parts]
    assert kinds.index("TextPart") > kinds.index("ToolPart")
    assert backend.capabilities.known()["tool:file_search"].supported


def test_a_function_tool_round_trip(ogx_server: Server) -> None:
    chat, _ = make(
        ogx_server, functions=("fakes.sample_functions:get_weather",), tool_choice="get_weather"
    )
    answer = ask(chat, "What is the weather in Oslo?")
    assert errors(answer) == [], answer.parts
    [call] = tool_parts(answer, "function")
    assert call.name == "get_weather" and call.status == "completed"
    assert call.output.startswith("Sunny in ")
    items = list(client(ogx_server).conversations.items.list(chat.remote["conversation"]))
    kinds = {i.type for i in items}
    assert {"function_call", "function_call_output"} <= kinds
    # The next turn works on the same conversation (no call left open).
    again = ask(chat, "Thanks.")
    assert errors(again) == [], again.parts


def test_stop_mid_answer_keeps_the_partial_answer_and_the_next_message_works(
    ogx_server: Server,
) -> None:
    # Long enough to still be written when it is stopped: the worker folds on its own.
    chat, _ = make(ogx_server, max_output_tokens=256)
    chat.submit("Tell me a long story about a dragon.")
    stream = chat.reply()
    while len(stream.message.text) < 10:
        assert not stream.poll(0.05), stream.message.parts
    stream.cancel()
    assert stream.message.status == "stopped"
    assert stream.message.text  # what arrived is kept
    following = ask(chat, "Name a colour.")
    assert errors(following) == [] and following.status == "complete", following.parts


def test_delete_removes_what_the_app_created_on_the_server(ogx_server: Server) -> None:
    chat, backend = make(ogx_server, tools=("file_search",), upload_types=("txt",))
    ask(chat, "Hello", [Attachment("notes.txt", "text/plain", NOTE)])
    remote = dict(chat.remote)
    api = client(ogx_server)
    [file_id] = [f.id for f in api.vector_stores.files.list(remote["vector_store"])]
    backend.delete(remote)
    # OGX answers 400 "Vector_store '...' not found" for a deleted store, 404 for a
    # conversation, and drops the connection on GET /files/{a deleted id}: listed instead.
    assert file_id not in {f.id for f in api.files.list()}
    for lookup in (
        lambda: api.conversations.retrieve(remote["conversation"]),
        lambda: api.vector_stores.retrieve(remote["vector_store"]),
    ):
        with pytest.raises(openai.APIStatusError) as gone:
            lookup()
        assert gone.value.status_code in (400, 404)
        assert "not found" in str(gone.value.body).lower()


def test_a_refused_request_shows_the_servers_own_words(ogx_server: Server) -> None:
    chat, _ = make(ogx_server, model="no-such-model")
    answer = ask(chat, "Hello")
    [reason] = errors(answer)
    assert "Model 'no-such-model' not found" in reason, reason
