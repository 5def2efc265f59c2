"""Responses, Conversations, Containers and Vector Store endpoints of the fake server.

Reply builders make protocol-exact SSE sequences (every event with its
`sequence_number`, the `response` object in `response.created` /
`response.completed`, items added, streamed and done) from a short script:

    script = ResponseScript()
    script.code_interpreter(["import pandas", " as pd"], logs="3 rows", images=[url])
    script.text(["Here ", "it is."], annotations=[container_file_citation(...)])
    fake.expect("responses.create", script.stream())

Besides text, reasoning, refusals and the code interpreter, a script makes file
and web searches, function calls (arguments streamed in pieces), image
generation (partial images, then the final one), a hosted MCP server's tool
list, calls and approval requests, custom tool calls, any documented output item
as it is (`item`), and an event OpenAI has not documented (`undocumented_event`,
the only thing sent unvalidated, on purpose).

Every event is validated against its schema in OpenAI's OpenAPI document (the
member of `ResponseStreamEvent` that its `type` names); every JSON object the
routes answer with is validated too (`Response`, `ConversationResource`,
`ConversationItemList`, `ContainerFileResource`, `VectorStoreObject`,
`VectorStoreFileObject`, ...). `request_problems(fake)` checks what the client
*sent* to `/responses` against `CreateResponse`.

Every route is also served under Azure's `/openai/v1/` prefix (files too),
under the same route name.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator, validators

from fakes.openapi import _document, _registry
from fakes.server import SSE, Bytes, Error, Json, Recorded, Reply, Stream

if TYPE_CHECKING:
    from fakes.server import FakeOpenAI

__all__ = [
    "ResponseScript",
    "add_container_file",
    "computer_call",
    "container_file_citation",
    "error_stream",
    "file_citation",
    "file_path",
    "install",
    "request_problems",
    "response_object",
    "response_title",
    "text_reply",
    "url_citation",
]

DEFAULT_MODEL = "fake-model"
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


@cache
def _event_schemas() -> dict[str, str]:
    """Event `type` -> the schema of that event in the OpenAPI document."""
    schemas = _document()["components"]["schemas"]
    out: dict[str, str] = {}
    members = schemas["ResponseStreamEvent"].get("anyOf") or schemas["ResponseStreamEvent"]["oneOf"]
    for ref in members:
        name = ref["$ref"].rsplit("/", 1)[-1]
        for value in schemas[name].get("properties", {}).get("type", {}).get("enum", []):
            out[value] = name
    return out


# -- objects ---------------------------------------------------------------------------


def usage_object(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def response_object(
    response_id: str,
    status: str = "completed",
    output: list[dict[str, Any]] | None = None,
    *,
    model: str = DEFAULT_MODEL,
    usage: tuple[int, int] | None = None,
    error: dict[str, Any] | None = None,
    incomplete_reason: str | None = None,
    background: bool = False,
) -> dict[str, Any]:
    """A `Response` object (validated against the `Response` schema by the routes)."""
    obj: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": background,
        "completed_at": int(time.time()) if status == "completed" else None,
        "error": error,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output or [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "metadata": {},
    }
    if usage is not None:
        obj["usage"] = usage_object(*usage)
    return obj


def file_citation(file_id: str, filename: str, index: int) -> dict[str, Any]:
    return {"type": "file_citation", "file_id": file_id, "filename": filename, "index": index}


def url_citation(url: str, title: str, start: int, end: int) -> dict[str, Any]:
    return {
        "type": "url_citation",
        "url": url,
        "title": title,
        "start_index": start,
        "end_index": end,
    }


def container_file_citation(
    container_id: str, file_id: str, filename: str, start: int, end: int
) -> dict[str, Any]:
    return {
        "type": "container_file_citation",
        "container_id": container_id,
        "file_id": file_id,
        "filename": filename,
        "start_index": start,
        "end_index": end,
    }


def file_path(file_id: str, index: int) -> dict[str, Any]:
    return {"type": "file_path", "file_id": file_id, "index": index}


def computer_call() -> dict[str, Any]:
    """A documented output item the app does not show (computer use): for `item()`."""
    return {
        "type": "computer_call",
        "id": _id("cu"),
        "call_id": _id("call"),
        "pending_safety_checks": [],
        "status": "completed",
        "action": {"type": "screenshot"},
    }


# -- event sequences -------------------------------------------------------------------


@dataclass
class ResponseScript:
    """One response's stream, built item by item, then `stream()`-ed."""

    model: str = DEFAULT_MODEL
    response_id: str = field(default_factory=lambda: _id("resp"))
    background: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    output: list[dict[str, Any]] = field(default_factory=list)
    undocumented: set[str] = field(default_factory=set)

    def _ev(self, type_: str, **fields: Any) -> None:
        self.events.append({"type": type_, **fields})

    def _add(self, item: dict[str, Any], in_progress: dict[str, Any]) -> int:
        index = len(self.output)
        self._ev("response.output_item.added", output_index=index, item=in_progress)
        return index

    def _done(self, index: int, item: dict[str, Any]) -> None:
        self._ev("response.output_item.done", output_index=index, item=item)
        self.output.append(item)

    def text(
        self,
        pieces: list[str],
        *,
        annotations: list[dict[str, Any]] = (),  # type: ignore[assignment]
        annotate_after: int | None = None,
    ) -> ResponseScript:
        """An assistant message streamed in `pieces`; annotations announced after
        piece number `annotate_after` (default: after the last piece)."""
        item_id = _id("msg")
        text = "".join(pieces)
        empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        index = self._add(
            {},
            {
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            },
        )
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        self._ev("response.content_part.added", **where, part=empty)
        after = len(pieces) if annotate_after is None else annotate_after
        for n, piece in enumerate(pieces, 1):
            self._ev("response.output_text.delta", **where, delta=piece, logprobs=[])
            if n == after:
                for k, ann in enumerate(annotations):
                    self._ev(
                        "response.output_text.annotation.added",
                        **where,
                        annotation_index=k,
                        annotation=ann,
                    )
        part = {
            "type": "output_text",
            "text": text,
            "annotations": list(annotations),
            "logprobs": [],
        }
        self._ev("response.output_text.done", **where, text=text, logprobs=[])
        self._ev("response.content_part.done", **where, part=part)
        self._done(
            index,
            {
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [part],
            },
        )
        return self

    def refusal(self, pieces: list[str]) -> ResponseScript:
        item_id = _id("msg")
        text = "".join(pieces)
        index = self._add(
            {},
            {
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            },
        )
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        self._ev("response.content_part.added", **where, part={"type": "refusal", "refusal": ""})
        for piece in pieces:
            self._ev("response.refusal.delta", **where, delta=piece)
        self._ev("response.refusal.done", **where, refusal=text)
        part = {"type": "refusal", "refusal": text}
        self._ev("response.content_part.done", **where, part=part)
        self._done(
            index,
            {
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [part],
            },
        )
        return self

    def bridged(
        self,
        pieces: list[str],
        *,
        refusal: bool = False,
        deltas: bool = True,
        dones: bool = True,
        final: str | None = None,
        annotations: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> ResponseScript:
        """One message as a gateway that bridges the Responses API onto Chat Completions
        streams it: every event names an item id of its own, all at output_index 0, and
        each "done" event repeats the whole text (the annotations too).

        `refusal` makes it a refusal; `deltas=False` sends the done events only,
        `dones=False` no done event (`response.completed` still lists the message);
        `final` is the text `output_item.done` and the response carry when it differs
        from the deltas'."""
        text = "".join(pieces)

        def content(text: str, annotations: list[dict[str, Any]]) -> dict[str, Any]:
            if refusal:
                return {"type": "refusal", "refusal": text}
            return {"type": "output_text", "text": text, "annotations": annotations, "logprobs": []}

        def message(status: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
            item = {"id": _id("msg"), "type": "message", "role": "assistant", "status": status}
            return {**item, "content": parts}

        def where() -> dict[str, Any]:
            return {"item_id": _id("msg"), "output_index": 0, "content_index": 0}

        item = message("completed", [content(text if final is None else final, list(annotations))])
        self._ev("response.output_item.added", output_index=0, item=message("in_progress", []))
        self._ev("response.content_part.added", **where(), part=content("", []))
        for piece in pieces if deltas else []:
            if refusal:
                self._ev("response.refusal.delta", **where(), delta=piece)
            else:
                self._ev("response.output_text.delta", **where(), delta=piece, logprobs=[])
        for k, ann in enumerate(annotations if deltas else []):
            self._ev(
                "response.output_text.annotation.added",
                **where(),
                annotation_index=k,
                annotation=ann,
            )
        if dones:
            if refusal:
                self._ev("response.refusal.done", **where(), refusal=text)
            else:
                self._ev("response.output_text.done", **where(), text=text, logprobs=[])
            self._ev("response.content_part.done", **where(), part=content(text, list(annotations)))
            self._ev("response.output_item.done", output_index=0, item=item)
        self.output.append(item)
        return self

    def bridged_reasoning(
        self, pieces: list[str], *, deltas: bool = True, final: str | None = None
    ) -> ResponseScript:
        """A reasoning summary as the gateway of `bridged` streams it: ids of their own,
        output_index 0, the text again in each done event (`final` in the item's)."""
        text = "".join(pieces)

        def where() -> dict[str, Any]:
            return {"item_id": _id("rs"), "output_index": 0, "summary_index": 0}

        summary = {"type": "summary_text", "text": text}
        item = {
            "id": _id("rs"),
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": text if final is None else final}],
        }
        self._ev(
            "response.output_item.added",
            output_index=0,
            item={"id": _id("rs"), "type": "reasoning", "summary": []},
        )
        self._ev("response.reasoning_summary_part.added", **where(), part={**summary, "text": ""})
        for piece in pieces if deltas else []:
            self._ev("response.reasoning_summary_text.delta", **where(), delta=piece)
        self._ev("response.reasoning_summary_text.done", **where(), text=text)
        self._ev("response.reasoning_summary_part.done", **where(), part=summary)
        self._ev("response.output_item.done", output_index=0, item=item)
        self.output.append(item)
        return self

    def reasoning(self, summaries: list[list[str]]) -> ResponseScript:
        """A reasoning item whose summary parts are streamed in pieces."""
        item_id = _id("rs")
        index = self._add({}, {"id": item_id, "type": "reasoning", "summary": []})
        done = []
        for s, pieces in enumerate(summaries):
            where = {"item_id": item_id, "output_index": index, "summary_index": s}
            self._ev(
                "response.reasoning_summary_part.added",
                **where,
                part={"type": "summary_text", "text": ""},
            )
            for piece in pieces:
                self._ev("response.reasoning_summary_text.delta", **where, delta=piece)
            text = "".join(pieces)
            self._ev("response.reasoning_summary_text.done", **where, text=text)
            self._ev(
                "response.reasoning_summary_part.done",
                **where,
                part={"type": "summary_text", "text": text},
            )
            done.append({"type": "summary_text", "text": text})
        self._done(index, {"id": item_id, "type": "reasoning", "summary": done})
        return self

    def code_interpreter(
        self,
        code_pieces: list[str],
        *,
        logs: str | None = None,
        images: list[str] = (),  # type: ignore[assignment]
        container_id: str = "cntr_fake",
        status: str = "completed",
    ) -> ResponseScript:
        item_id = _id("ci")
        code = "".join(code_pieces)
        base = {"id": item_id, "type": "code_interpreter_call", "container_id": container_id}
        index = self._add({}, {**base, "status": "in_progress", "code": "", "outputs": None})
        where = {"item_id": item_id, "output_index": index}
        self._ev("response.code_interpreter_call.in_progress", **where)
        for piece in code_pieces:
            self._ev("response.code_interpreter_call_code.delta", **where, delta=piece)
        self._ev("response.code_interpreter_call_code.done", **where, code=code)
        self._ev("response.code_interpreter_call.interpreting", **where)
        self._ev("response.code_interpreter_call.completed", **where)
        outputs: list[dict[str, Any]] = []
        if logs is not None:
            outputs.append({"type": "logs", "logs": logs})
        outputs += [{"type": "image", "url": url} for url in images]
        self._done(index, {**base, "status": status, "code": code, "outputs": outputs})
        return self

    def file_search(
        self, queries: list[str], results: list[dict[str, Any]] | None = None
    ) -> ResponseScript:
        item_id = _id("fs")
        index = self._add(
            {}, {"id": item_id, "type": "file_search_call", "status": "in_progress", "queries": []}
        )
        where = {"item_id": item_id, "output_index": index}
        self._ev("response.file_search_call.in_progress", **where)
        self._ev("response.file_search_call.searching", **where)
        self._ev("response.file_search_call.completed", **where)
        self._done(
            index,
            {
                "id": item_id,
                "type": "file_search_call",
                "status": "completed",
                "queries": queries,
                "results": results,
            },
        )
        return self

    def web_search(self, query: str, sources: list[str] = ()) -> ResponseScript:  # type: ignore[assignment]
        item_id = _id("ws")
        index = self._add(
            {},
            {
                "id": item_id,
                "type": "web_search_call",
                "status": "in_progress",
                "action": {"type": "search"},
            },
        )
        where = {"item_id": item_id, "output_index": index}
        self._ev("response.web_search_call.in_progress", **where)
        self._ev("response.web_search_call.searching", **where)
        self._ev("response.web_search_call.completed", **where)
        action: dict[str, Any] = {"type": "search", "query": query}
        if sources:
            action["sources"] = [{"type": "url", "url": u} for u in sources]
        self._done(
            index,
            {"id": item_id, "type": "web_search_call", "status": "completed", "action": action},
        )
        return self

    def function_call(
        self, name: str, arguments: str, *, call_id: str | None = None, pieces: int = 2
    ) -> ResponseScript:
        item_id = _id("fc")
        call_id = call_id or _id("call")
        base = {"id": item_id, "type": "function_call", "call_id": call_id, "name": name}
        index = self._add({}, {**base, "arguments": "", "status": "in_progress"})
        where = {"item_id": item_id, "output_index": index}
        for piece in _pieces(arguments, pieces):
            self._ev("response.function_call_arguments.delta", **where, delta=piece)
        self._ev("response.function_call_arguments.done", **where, name=name, arguments=arguments)
        self._done(index, {**base, "arguments": arguments, "status": "completed"})
        return self

    def image_generation(
        self,
        partials: list[bytes],
        final: bytes | None,
        *,
        output_format: str = "png",
        status: str = "completed",
    ) -> ResponseScript:
        """An image generation call: its partial images streamed, then the final image."""
        item_id = _id("ig")
        base = {"id": item_id, "type": "image_generation_call"}
        index = self._add({}, {**base, "status": "in_progress", "result": None})
        where = {"item_id": item_id, "output_index": index}
        self._ev("response.image_generation_call.in_progress", **where)
        self._ev("response.image_generation_call.generating", **where)
        for n, data in enumerate(partials):
            self._ev(
                "response.image_generation_call.partial_image",
                **where,
                partial_image_index=n,
                partial_image_b64=base64.b64encode(data).decode("ascii"),
                output_format=output_format,
            )
        self._ev("response.image_generation_call.completed", **where)
        result = base64.b64encode(final).decode("ascii") if final is not None else None
        self._done(index, {**base, "status": status, "result": result})
        return self

    def mcp_list_tools(
        self, server_label: str, tools: list[tuple[str, str]], *, error: str | None = None
    ) -> ResponseScript:
        """The hosted MCP server's tools, listed at the start of a response."""
        item_id = _id("mcpl")
        base = {"id": item_id, "type": "mcp_list_tools", "server_label": server_label}
        index = self._add({}, {**base, "tools": []})
        where = {"item_id": item_id, "output_index": index}
        self._ev("response.mcp_list_tools.in_progress", **where)
        self._ev(f"response.mcp_list_tools.{'failed' if error else 'completed'}", **where)
        listed = [
            {"name": name, "description": text, "input_schema": {"type": "object"}}
            for name, text in tools
        ]
        self._done(index, {**base, "tools": listed, "error": error})
        return self

    def mcp_call(
        self,
        server_label: str,
        name: str,
        arguments: str,
        *,
        output: str | None = None,
        error: dict[str, Any] | None = None,
        approval_request_id: str | None = None,
        pieces: int = 2,
    ) -> ResponseScript:
        """A call the API made to a hosted MCP server's tool, arguments streamed."""
        item_id = _id("mcp")
        base = {"id": item_id, "type": "mcp_call", "server_label": server_label, "name": name}
        index = self._add({}, {**base, "arguments": "", "status": "in_progress"})
        where = {"item_id": item_id, "output_index": index}
        self._ev("response.mcp_call.in_progress", **where)
        for piece in _pieces(arguments, pieces):
            self._ev("response.mcp_call_arguments.delta", **where, delta=piece)
        self._ev("response.mcp_call_arguments.done", **where, arguments=arguments)
        self._ev(f"response.mcp_call.{'failed' if error else 'completed'}", **where)
        item = {
            **base,
            "arguments": arguments,
            "output": output,
            "error": error,
            "status": "failed" if error else "completed",
            "approval_request_id": approval_request_id,
        }
        self._done(index, item)
        return self

    def mcp_approval_request(
        self, server_label: str, name: str, arguments: str, *, request_id: str | None = None
    ) -> ResponseScript:
        """A hosted MCP tool call waiting for the user's approval (ends the response)."""
        item = {
            "id": request_id or _id("mcpr"),
            "type": "mcp_approval_request",
            "server_label": server_label,
            "name": name,
            "arguments": arguments,
        }
        return self.item(item)

    def custom_tool_call(self, name: str, text: str, *, pieces: int = 2) -> ResponseScript:
        """A call to a custom (free-form input) tool, its input streamed in pieces."""
        item_id = _id("ctc")
        base = {"id": item_id, "type": "custom_tool_call", "call_id": _id("call"), "name": name}
        index = self._add({}, {**base, "input": ""})
        where = {"item_id": item_id, "output_index": index}
        for piece in _pieces(text, pieces):
            self._ev("response.custom_tool_call_input.delta", **where, delta=piece)
        self._ev("response.custom_tool_call_input.done", **where, input=text)
        self._done(index, {**base, "input": text})
        return self

    def item(self, item: dict[str, Any]) -> ResponseScript:
        """Any documented output item, added and done as it is (validated as usual)."""
        index = self._add({}, item)
        self._done(index, item)
        return self

    def undocumented_event(self, type_: str, **fields: Any) -> ResponseScript:
        """An event type OpenAI's document does not have (a newer server's): unvalidated."""
        self.undocumented.add(type_)
        self._ev(type_, **fields)
        return self

    def sse(
        self,
        status: str = "completed",
        *,
        usage: tuple[int, int] | None = (10, 20),
        error: dict[str, Any] | None = None,
        incomplete_reason: str | None = None,
    ) -> list[SSE]:
        """The whole sequence: created, in_progress, the items, then the end."""

        def resp(st: str, output: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
            return response_object(
                self.response_id, st, output, model=self.model, background=self.background, **kw
            )

        end_type = {
            "completed": "response.completed",
            "incomplete": "response.incomplete",
            "failed": "response.failed",
        }[status]
        events = [
            {"type": "response.created", "response": resp("in_progress", [])},
            {"type": "response.in_progress", "response": resp("in_progress", [])},
            *self.events,
            {
                "type": end_type,
                "response": resp(
                    status,
                    self.output,
                    usage=usage,
                    error=error,
                    incomplete_reason=incomplete_reason,
                ),
            },
        ]
        out = []
        for n, data in enumerate(events):
            data = {**data, "sequence_number": n}
            kind = data["type"]
            schema = None if kind in self.undocumented else _event_schemas()[kind]
            out.append(SSE(data, schema, event=kind))
        return out

    def stream(
        self,
        status: str = "completed",
        *,
        delay: float = 0.0,
        cut_after: int | None = None,
        pause_after: int | None = None,
        **kwargs: Any,
    ) -> Stream:
        # The Responses API ends its stream with the terminal event, no [DONE].
        return Stream(
            self.sse(status, **kwargs),
            delay=delay,
            done_marker=False,
            cut_after=cut_after,
            pause_after=pause_after,
        )

    def index_of(self, type_: str, nth: int = 0) -> int:
        """Where the `nth` event of a type is in `sse()` (for `stream(pause_after=...)`)."""
        positions = [n for n, e in enumerate(self.events) if e["type"] == type_]
        return positions[nth] + 2  # after response.created and response.in_progress


def _pieces(text: str, pieces: int) -> list[str]:
    step = max(1, len(text) // pieces)
    return [text[start : start + step] for start in range(0, len(text), step)]


def text_reply(pieces: list[str], **kwargs: Any) -> Stream:
    return ResponseScript().text(pieces).stream(**kwargs)


def error_stream(
    message: str, code: str | None = "server_error", *, after: list[str] = ()
) -> Stream:  # type: ignore[assignment]
    """A stream that starts, writes `after`, then sends an `error` event."""
    script = ResponseScript()
    if after:
        script.text(after)
    events = script.sse()[:-1]  # everything but the terminal event
    data = {
        "type": "error",
        "code": code,
        "message": message,
        "param": None,
        "sequence_number": len(events),
    }
    events.append(SSE(data, "ResponseErrorEvent", event="error"))
    return Stream(events, done_marker=False)


# -- routes ----------------------------------------------------------------------------


def _param(rec: Recorded, name: str) -> str:
    return str(json.loads(rec.headers.get("x-path-params", "{}")).get(name, ""))


def response_title(text: str) -> Json:
    """A response, not streamed: what the app's title request gets back."""
    item = {
        "type": "message",
        "id": _id("msg"),
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }
    return Json(response_object(_id("resp"), output=[item], usage=(40, 5)), "Response")


def _title_or_answer(body: Any) -> str | None:
    """A request that does not stream is the app's title request (the only one it
    makes): queued and recorded as "responses.title", with no default (it fails, 501)."""
    return "responses.title" if isinstance(body, dict) and not body.get("stream") else None


def _default_response(rec: Recorded) -> Reply:
    question = ""
    body = rec.body if isinstance(rec.body, dict) else {}
    raw = body.get("input")
    if isinstance(raw, str):
        question = raw
    elif isinstance(raw, list) and raw:
        content = raw[-1].get("content", "") if isinstance(raw[-1], dict) else ""
        question = content if isinstance(content, str) else ""
    return ResponseScript().text([f"Fake answer to: {question[:60]}"]).stream()


def add_container_file(
    fake: FakeOpenAI, container_id: str, filename: str, data: bytes, file_id: str | None = None
) -> str:
    """Put a generated file in a fake code-interpreter container; returns its id."""
    fid = file_id or _id("cfile")
    fake.state.setdefault("containers", {}).setdefault(container_id, {})[fid] = {
        "id": fid,
        "object": "container.file",
        "created_at": int(time.time()),
        "bytes": len(data),
        "container_id": container_id,
        "path": f"/mnt/data/{filename}",
        "source": "assistant",
        "data": data,
    }
    return fid


def _container_file(fake: FakeOpenAI, rec: Recorded) -> dict[str, Any] | None:
    files = fake.state.get("containers", {}).get(_param(rec, "container_id"), {})
    record: dict[str, Any] | None = files.get(_param(rec, "file_id"))
    return record


def _not_found(what: str) -> Error:
    return Error(404, f"No such {what}", code=None)


def _conversations(fake: FakeOpenAI) -> dict[str, dict[str, Any]]:
    convs: dict[str, dict[str, Any]] = fake.state.setdefault("conversations", {})
    return convs


def _conversation_object(conv: dict[str, Any]) -> dict[str, Any]:
    return {k: conv[k] for k in ("id", "object", "created_at", "metadata")}


def _vector_stores(fake: FakeOpenAI) -> dict[str, dict[str, Any]]:
    stores: dict[str, dict[str, Any]] = fake.state.setdefault("vector_stores", {})
    return stores


def _store_object(store: dict[str, Any]) -> dict[str, Any]:
    files = store["files"].values()
    counts = {
        s: sum(1 for f in files if f["status"] == s)
        for s in ("in_progress", "completed", "failed", "cancelled")
    }
    return {
        "id": store["id"],
        "object": "vector_store",
        "created_at": store["created_at"],
        "name": store["name"],
        "usage_bytes": 0,
        "file_counts": {**counts, "total": len(store["files"])},
        "status": "in_progress" if counts["in_progress"] else "completed",
        "last_active_at": store["created_at"],
        "metadata": store["metadata"],
        "expires_at": None,
    }


def _vs_file_object(store_id: str, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "object": "vector_store.file",
        "usage_bytes": 0,
        "created_at": record["created_at"],
        "vector_store_id": store_id,
        "status": record["status"],
        "last_error": record.get("last_error"),
    }


def install(fake: FakeOpenAI) -> None:
    fake.state.setdefault("index_polls", 1)  # in_progress answers before "completed"
    fake.state["cancel_requested"] = threading.Event()

    def route(method: str, path: str, name: str, split: Any = None) -> None:
        fake.add_route(method, "/v1" + path, name, split)
        fake.add_route(method, "/openai/v1" + path, name, split)  # Azure's v1 endpoint

    # Responses
    route("POST", "/responses", "responses.create", _title_or_answer)
    fake.set_default("responses.create", _default_response)

    def cancel(rec: Recorded) -> Reply:
        fake.state.setdefault("cancelled", []).append(_param(rec, "response_id"))
        fake.state["cancel_requested"].set()
        return Json(
            response_object(_param(rec, "response_id"), "cancelled", background=True), "Response"
        )

    route("POST", "/responses/{response_id}/cancel", "responses.cancel")
    fake.set_default("responses.cancel", cancel)
    route("GET", "/responses/{response_id}", "responses.retrieve")
    fake.set_default(
        "responses.retrieve",
        lambda rec: Json(response_object(_param(rec, "response_id")), "Response"),
    )

    # Conversations
    def conv_create(rec: Recorded) -> Reply:
        body = rec.body if isinstance(rec.body, dict) else {}
        items = body.get("items") or []
        files = fake.state.get("files", {})
        for item in items:  # seeded items may name files, which must exist
            content = item.get("content")
            for part in content if isinstance(content, list) else []:
                if part.get("file_id") and part["file_id"] not in files:
                    return Error(400, f"Invalid file id '{part['file_id']}'.", code="invalid_file")
        conv = {
            "id": _id("conv"),
            "object": "conversation",
            "created_at": int(time.time()),
            "metadata": body.get("metadata") or {},
            "items": [{"id": _id("item"), "status": "completed", **i} for i in items],
        }
        _conversations(fake)[conv["id"]] = conv
        return Json(_conversation_object(conv), "ConversationResource")

    def conv_get(rec: Recorded) -> Reply:
        conv = _conversations(fake).get(_param(rec, "conversation_id"))
        return (
            Json(_conversation_object(conv), "ConversationResource")
            if conv
            else _not_found("conversation")
        )

    def conv_delete(rec: Recorded) -> Reply:
        conv = _conversations(fake).pop(_param(rec, "conversation_id"), None)
        if conv is None:
            return _not_found("conversation")
        return Json(
            {"id": conv["id"], "object": "conversation.deleted", "deleted": True},
            "DeletedConversationResource",
        )

    def item_list(items: list[dict[str, Any]]) -> Json:
        return Json(
            {
                "object": "list",
                "data": items,
                "has_more": False,
                "first_id": items[0]["id"] if items else "",
                "last_id": items[-1]["id"] if items else "",
            },
            "ConversationItemList",
        )

    def items_create(rec: Recorded) -> Reply:
        conv = _conversations(fake).get(_param(rec, "conversation_id"))
        if conv is None:
            return _not_found("conversation")
        body = rec.body if isinstance(rec.body, dict) else {}
        created = []
        for item in body.get("items", []):
            stored = {"id": _id("item"), "status": "completed", **item}
            conv["items"].append(stored)
            created.append(stored)
        return item_list(created)

    def items_list(rec: Recorded) -> Reply:
        conv = _conversations(fake).get(_param(rec, "conversation_id"))
        return item_list(conv["items"]) if conv else _not_found("conversation")

    route("POST", "/conversations", "conversations.create")
    fake.set_default("conversations.create", conv_create)
    route("GET", "/conversations/{conversation_id}", "conversations.retrieve")
    fake.set_default("conversations.retrieve", conv_get)
    route("DELETE", "/conversations/{conversation_id}", "conversations.delete")
    fake.set_default("conversations.delete", conv_delete)
    route("POST", "/conversations/{conversation_id}/items", "conversations.items.create")
    fake.set_default("conversations.items.create", items_create)
    route("GET", "/conversations/{conversation_id}/items", "conversations.items.list")
    fake.set_default("conversations.items.list", items_list)

    # Containers (code interpreter files)
    def cfile_meta(rec: Recorded) -> Reply:
        record = _container_file(fake, rec)
        if record is None:
            return _not_found("container file")
        return Json({k: v for k, v in record.items() if k != "data"}, "ContainerFileResource")

    def cfile_content(rec: Recorded) -> Reply:
        record = _container_file(fake, rec)
        return Bytes(record["data"]) if record else _not_found("container file")

    route("GET", "/containers/{container_id}/files/{file_id}", "containers.files.retrieve")
    fake.set_default("containers.files.retrieve", cfile_meta)
    route("GET", "/containers/{container_id}/files/{file_id}/content", "containers.files.content")
    fake.set_default("containers.files.content", cfile_content)

    # Vector stores
    def vs_create(rec: Recorded) -> Reply:
        body = rec.body if isinstance(rec.body, dict) else {}
        store = {
            "id": _id("vs"),
            "created_at": int(time.time()),
            "name": body.get("name", ""),
            "metadata": body.get("metadata") or {},
            "files": {},
        }
        _vector_stores(fake)[store["id"]] = store
        return Json(_store_object(store), "VectorStoreObject")

    def vs_delete(rec: Recorded) -> Reply:
        store = _vector_stores(fake).pop(_param(rec, "vector_store_id"), None)
        if store is None:
            return _not_found("vector store")
        return Json(
            {"id": store["id"], "object": "vector_store.deleted", "deleted": True},
            "DeleteVectorStoreResponse",
        )

    def vs_file_create(rec: Recorded) -> Reply:
        store = _vector_stores(fake).get(_param(rec, "vector_store_id"))
        if store is None:
            return _not_found("vector store")
        body = rec.body if isinstance(rec.body, dict) else {}
        record = {
            "id": body["file_id"],
            "created_at": int(time.time()),
            "status": "in_progress",
            "polls_left": fake.state["index_polls"],
        }
        store["files"][record["id"]] = record
        return Json(_vs_file_object(store["id"], record), "VectorStoreFileObject")

    def vs_file_get(rec: Recorded) -> Reply:
        store = _vector_stores(fake).get(_param(rec, "vector_store_id"))
        record = store["files"].get(_param(rec, "file_id")) if store else None
        if store is None or record is None:
            return _not_found("vector store file")
        if record["status"] == "in_progress":
            if record["polls_left"] <= 0:
                record["status"] = "completed"
            record["polls_left"] -= 1
        return Json(_vs_file_object(store["id"], record), "VectorStoreFileObject")

    route("POST", "/vector_stores", "vector_stores.create")
    fake.set_default("vector_stores.create", vs_create)
    route("DELETE", "/vector_stores/{vector_store_id}", "vector_stores.delete")
    fake.set_default("vector_stores.delete", vs_delete)
    route("POST", "/vector_stores/{vector_store_id}/files", "vector_stores.files.create")
    fake.set_default("vector_stores.files.create", vs_file_create)
    route("GET", "/vector_stores/{vector_store_id}/files/{file_id}", "vector_stores.files.retrieve")
    fake.set_default("vector_stores.files.retrieve", vs_file_get)

    # Files under Azure's prefix (files_routes serves /v1/files).
    for method, path, name in (
        ("POST", "/files", "files.create"),
        ("GET", "/files/{file_id}", "files.retrieve"),
        ("GET", "/files/{file_id}/content", "files.content"),
        ("DELETE", "/files/{file_id}", "files.delete"),
    ):
        fake.add_route(method, "/openai/v1" + path, name)


def _one_of_as_any_of(validator: Any, one_of: Any, instance: Any, schema: Any) -> Any:
    yield from Draft202012Validator.VALIDATORS["anyOf"](validator, one_of, instance, schema)


def _required_if_defined(validator: Any, required: Any, instance: Any, schema: Any) -> Any:
    defined = schema.get("properties")
    names = [n for n in required if defined is None or n in defined]
    yield from Draft202012Validator.VALIDATORS["required"](validator, names, instance, schema)


# The document's request unions overlap (a user message with a content list is
# both an `EasyInputMessage` and an `InputMessage`), so for what the client
# sends `oneOf` is read as `anyOf`: "matches a member" is the real contract.
# A few schemas require a property they do not define (`MCPApprovalResponse`
# requires `request_id` next to its `approval_request_id`; the SDK, generated
# from the same spec, and OpenAI's MCP guide send only the latter): for requests,
# a required name counts only if the schema defines it.
_RequestValidator = validators.extend(
    Draft202012Validator, {"oneOf": _one_of_as_any_of, "required": _required_if_defined}
)


@cache
def _request_validator(name: str) -> Any:
    return _RequestValidator(
        {"$ref": f"urn:openai:openapi#/components/schemas/{name}"}, registry=_registry()
    )


def request_problems(
    fake: FakeOpenAI, route: str = "responses.create", schema: str = "CreateResponse"
) -> list[str]:
    """Every request body of `route` checked against `schema` (`/responses` by default)."""
    problems = []
    for rec in fake.calls(route):
        for error in _request_validator(schema).iter_errors(rec.body):
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"request to {rec.path} at /{where}: {error.message[:300]}")
    return problems
