"""Chat Completions and Models endpoints of the fake server, and reply builders."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from fakes.server import SSE, Json, Recorded, Reply, Stream

if TYPE_CHECKING:
    from fakes.server import FakeOpenAI

__all__ = [
    "DEFAULT_MODEL",
    "chat_chunks",
    "chat_text",
    "chat_title",
    "chat_tool_calls",
    "install",
    "models_list",
]

DEFAULT_MODEL = "fake-model"
CHUNK_SCHEMA = "CreateChatCompletionStreamResponse"
_ids = itertools.count(1)


def chat_chunks(
    pieces: list[str],
    *,
    finish: str | None = "stop",
    usage: tuple[int, int] | None = (10, 20),
    model: str = DEFAULT_MODEL,
    refusal: str | None = None,
    tool_calls: list[tuple[str, str, str]] | None = None,
) -> list[SSE]:
    """SSE chunks of a streamed chat completion (role, content pieces, finish, usage).

    `tool_calls` are (id, name, arguments): each streamed as OpenAI does, the id
    and name in its first delta, the arguments in pieces after it."""
    cid = f"chatcmpl-{next(_ids)}"
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> SSE:
        data = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        return SSE(data, CHUNK_SCHEMA)

    out = [chunk({"role": "assistant", "content": ""}, None)]
    out += [chunk({"content": p}, None) for p in pieces]
    if refusal is not None:
        out.append(chunk({"refusal": refusal}, None))
    for index, (call_id, name, arguments) in enumerate(tool_calls or []):
        first = {"index": index, "id": call_id, "type": "function"}
        out.append(
            chunk({"tool_calls": [{**first, "function": {"name": name, "arguments": ""}}]}, None)
        )
        for start in range(0, len(arguments), 5):
            piece = {"index": index, "function": {"arguments": arguments[start : start + 5]}}
            out.append(chunk({"tool_calls": [piece]}, None))
    if finish is not None:
        out.append(chunk({}, finish))
    if usage is not None:
        out.append(
            SSE(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": usage[0],
                        "completion_tokens": usage[1],
                        "total_tokens": usage[0] + usage[1],
                    },
                },
                CHUNK_SCHEMA,
            )
        )
    return out


def chat_text(pieces: list[str], *, delay: float = 0.0, **kwargs: Any) -> Stream:
    """A complete streamed answer made of `pieces`."""
    return Stream(chat_chunks(pieces, **kwargs), delay=delay)


def chat_tool_calls(*calls: tuple[str, str, str], **kwargs: Any) -> Stream:
    """An answer that calls tools: (id, name, arguments) each, `finish_reason` tool_calls."""
    return Stream(chat_chunks([], finish="tool_calls", tool_calls=list(calls), **kwargs))


def models_list(ids: list[str]) -> Json:
    return Json(
        {
            "object": "list",
            "data": [
                {"id": i, "object": "model", "created": 1700000000, "owned_by": "fake"} for i in ids
            ],
        },
        "ListModelsResponse",
    )


def _default_chat(rec: Recorded) -> Reply:
    question = ""
    if isinstance(rec.body, dict):
        messages = rec.body.get("messages") or []
        if messages:
            question = str(messages[-1].get("content", ""))
    words = f"Fake answer to: {question[:60]}".split(" ")
    return chat_text([w + " " for w in words])


def chat_title(text: str, *, model: str = DEFAULT_MODEL) -> Json:
    """A chat completion, not streamed: what the app's title request gets back."""
    return Json(
        {
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 5, "total_tokens": 45},
        },
        "CreateChatCompletionResponse",
    )


def _title_or_answer(body: Any) -> str | None:
    """A request that does not stream is the app's title request (the only one it
    makes): queued and recorded as "chat.title", with no default (it fails, 501)."""
    return "chat.title" if isinstance(body, dict) and not body.get("stream") else None


def install(fake: FakeOpenAI) -> None:
    fake.add_route("POST", "/v1/chat/completions", "chat.completions", _title_or_answer)
    fake.set_default("chat.completions", _default_chat)
    fake.add_route("GET", "/v1/models", "models.list")
    fake.set_default("models.list", lambda rec: models_list([DEFAULT_MODEL]))
