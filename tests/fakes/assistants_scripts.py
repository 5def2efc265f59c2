"""Scripted Assistants runs for the fake server: objects, stream parts, scripts.

A test queues a `Script` (parts such as `text(...)`, `code(...)`,
`function_call(...)`) with `script(fake, ...)`; the next `runs.create` or
`submit_tool_outputs` request plays it as an SSE stream built at request
time, with the real thread, run and assistant ids (see `assistants_routes`).
Every event is validated as an `AssistantStreamEvent` envelope
(`{"event": ..., "data": ...}`) against OpenAI's OpenAPI document before it
is queued for sending.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fakes.server import SSE, Recorded, Reply, Stream

if TYPE_CHECKING:
    from fakes.server import FakeOpenAI

__all__ = [
    "ACTIVE",
    "Cut",
    "Hang",
    "Script",
    "add_assistant",
    "cite",
    "code",
    "default_script",
    "error_event",
    "file_search",
    "function_call",
    "image_message",
    "link",
    "message",
    "message_object",
    "new_id",
    "now",
    "path_param",
    "play",
    "public",
    "refusal",
    "run_object",
    "script",
    "text",
    "thread_object",
]

_ids = itertools.count(1)
ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")
EVENT_SCHEMA = "AssistantStreamEvent"


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):05d}"


def now() -> int:
    return int(time.time())


def path_param(rec: Recorded, name: str) -> str:
    return str(json.loads(rec.headers.get("x-path-params", "{}")).get(name, ""))


# -- objects -------------------------------------------------------------------------


def add_assistant(
    fake: FakeOpenAI,
    *,
    assistant_id: str = "asst_fake",
    name: str | None = "Fake assistant",
    model: str = "gpt-4o",
    instructions: str | None = "You are helpful.",
    tools: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Put an assistant on the fake server; returns the object as the API shows it."""
    obj: dict[str, Any] = {
        "id": assistant_id,
        "object": "assistant",
        "created_at": now(),
        "name": name,
        "description": None,
        "model": model,
        "instructions": instructions,
        "tools": tools if tools is not None else [{"type": "code_interpreter"}],
        "tool_resources": {},
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "response_format": "auto",
        **extra,
    }
    fake.check("AssistantObject", obj)
    fake.state.setdefault("assistants", {})[assistant_id] = obj
    return obj


def thread_object(thread_id: str) -> dict[str, Any]:
    return {
        "id": thread_id,
        "object": "thread",
        "created_at": now(),
        "tool_resources": {},
        "metadata": {},
    }


def run_object(thread_id: str, assistant: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    instructions = body.get("instructions") or assistant.get("instructions") or ""
    if body.get("additional_instructions"):
        instructions = f"{instructions}\n{body['additional_instructions']}".strip()
    return {
        "id": new_id("run"),
        "object": "thread.run",
        "created_at": now(),
        "thread_id": thread_id,
        "assistant_id": assistant["id"],
        "status": "queued",
        "required_action": None,
        "last_error": None,
        "expires_at": now() + 600,
        "started_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "model": body.get("model") or assistant["model"],
        "instructions": instructions,
        "tools": assistant["tools"],
        "metadata": {},
        "usage": None,
        "incomplete_details": None,
        "max_prompt_tokens": None,
        "max_completion_tokens": body.get("max_completion_tokens"),
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "response_format": "auto",
        "temperature": body.get("temperature", 1.0),
        "top_p": 1.0,
    }


def message_object(
    thread_id: str,
    role: str,
    content: list[dict[str, Any]],
    *,
    run: dict[str, Any] | None = None,
    status: str = "completed",
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": new_id("msg"),
        "object": "thread.message",
        "created_at": now(),
        "thread_id": thread_id,
        "status": status,
        "incomplete_details": None,
        "completed_at": now() if status == "completed" else None,
        "incomplete_at": None,
        "role": role,
        "content": content,
        "assistant_id": run["assistant_id"] if run else None,
        "run_id": run["id"] if run else None,
        "attachments": attachments or [],
        "metadata": {},
    }


def _step_object(run: dict[str, Any], kind: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": new_id("step"),
        "object": "thread.run.step",
        "created_at": now(),
        "assistant_id": run["assistant_id"],
        "thread_id": run["thread_id"],
        "run_id": run["id"],
        "type": kind,
        "status": "in_progress",
        "step_details": details,
        "last_error": None,
        "expired_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "metadata": {},
        "usage": None,
    }


# -- scripts -----------------------------------------------------------------------------


@dataclass
class _Ctx:
    """What a part needs while a stream is built: the run, and where events go."""

    fake: FakeOpenAI
    run: dict[str, Any]
    events: list[SSE] = field(default_factory=list)
    cut_after: int | None = None
    hang_after: int | None = None

    def emit(self, name: str, data: Any) -> None:
        payload = copy.deepcopy(data)
        self.fake.check(EVENT_SCHEMA, {"event": name, "data": payload})
        self.events.append(SSE(payload, None, name))


Part = Callable[[_Ctx], None]


@dataclass(frozen=True)
class Script:
    """One stream: its parts, and how the run ends (None: it does not end here)."""

    parts: tuple[Part, ...]
    end: str | None = "completed"
    usage: tuple[int, int] = (12, 34)
    incomplete_reason: str = "max_completion_tokens"
    error: tuple[str, str] = ("server_error", "Something went wrong.")
    delay: float = 0.0


def script(fake: FakeOpenAI, *parts: Part, **options: Any) -> Script:
    """Queue a stream for the next `runs.create` / `submit_tool_outputs` request.

    A script containing `function_call` parts ends in `requires_action` unless
    told otherwise; one containing `Cut()` or `Hang()` does not end at all.
    """
    if "end" not in options:
        if any(isinstance(p, Cut | Hang) for p in parts):
            options["end"] = None
        elif any(getattr(p, "requires_action", False) for p in parts):
            options["end"] = "requires_action"
    made = Script(tuple(parts), **options)
    fake.state.setdefault("scripts", deque()).append(made)
    return made


@dataclass(frozen=True)
class Cut:
    """Drop the connection here (the events so far are sent)."""

    def __call__(self, ctx: _Ctx) -> None:
        ctx.cut_after = len(ctx.events)


@dataclass(frozen=True)
class Hang:
    """Stop sending here without closing the connection."""

    def __call__(self, ctx: _Ctx) -> None:
        ctx.hang_after = len(ctx.events)


@dataclass(frozen=True)
class _Annotation:
    kind: str  # file_citation | file_path
    marker: str
    file_id: str


def cite(marker: str, file_id: str) -> _Annotation:
    """A file-search citation: the model wrote `marker` (e.g. 【4:0†source】)."""
    return _Annotation("file_citation", marker, file_id)


def link(marker: str, file_id: str) -> _Annotation:
    """A generated file: the model wrote `marker` (e.g. sandbox:/mnt/data/x.csv)."""
    return _Annotation("file_path", marker, file_id)


@dataclass(frozen=True)
class _TextBlock:
    pieces: tuple[str, ...]
    annotations: tuple[_Annotation, ...] = ()


@dataclass(frozen=True)
class _ImageBlock:
    file_id: str


@dataclass(frozen=True)
class _RefusalBlock:
    refusal: str


def _annotation(a: _Annotation, full: str) -> dict[str, Any]:
    start = full.index(a.marker)
    return {
        "type": a.kind,
        "text": a.marker,
        a.kind: {"file_id": a.file_id},
        "start_index": start,
        "end_index": start + len(a.marker),
    }


@dataclass(frozen=True)
class message:  # lower case: reads as a part constructor, like text()
    """An assistant message with text and image blocks, streamed as deltas."""

    blocks: tuple[_TextBlock | _ImageBlock | _RefusalBlock, ...]
    stream_deltas: bool = True
    incomplete: str | None = None  # incomplete_details.reason

    def __call__(self, ctx: _Ctx) -> None:
        run = ctx.run
        msg = message_object(run["thread_id"], "assistant", [], run=run, status="in_progress")
        step = _step_object(
            run,
            "message_creation",
            {"type": "message_creation", "message_creation": {"message_id": msg["id"]}},
        )
        ctx.emit("thread.run.step.created", step)
        ctx.emit("thread.run.step.in_progress", step)
        ctx.emit("thread.message.created", msg)
        ctx.emit("thread.message.in_progress", msg)
        content: list[dict[str, Any]] = []
        for index, block in enumerate(self.blocks):
            if isinstance(block, _RefusalBlock):
                content.append({"type": "refusal", "refusal": block.refusal})
                delta = {"index": index, "type": "refusal", "refusal": block.refusal}
                ctx.emit("thread.message.delta", _message_delta(msg["id"], delta))
                continue
            if isinstance(block, _ImageBlock):
                image = {"file_id": block.file_id, "detail": "auto"}
                content.append({"type": "image_file", "image_file": image})
                if self.stream_deltas:
                    delta = {"index": index, "type": "image_file", "image_file": image}
                    ctx.emit("thread.message.delta", _message_delta(msg["id"], delta))
                continue
            full = "".join(block.pieces)
            notes = [_annotation(a, full) for a in block.annotations]
            content.append({"type": "text", "text": {"value": full, "annotations": notes}})
            if not self.stream_deltas:
                continue
            at = 0
            for piece in block.pieces:
                end = at + len(piece)
                here = [
                    {"index": i, **n}
                    for i, n in enumerate(notes)
                    if at < n["end_index"] <= end or (n["end_index"] == end == at)
                ]
                text_delta: dict[str, Any] = {"value": piece}
                if here:
                    text_delta["annotations"] = here
                delta = {"index": index, "type": "text", "text": text_delta}
                ctx.emit("thread.message.delta", _message_delta(msg["id"], delta))
                at = end
        msg["content"] = content
        if self.incomplete:
            msg["status"] = "incomplete"
            msg["incomplete_at"] = now()
            msg["incomplete_details"] = {"reason": self.incomplete}
            ctx.emit("thread.message.incomplete", msg)
        else:
            msg["status"] = "completed"
            msg["completed_at"] = now()
            ctx.emit("thread.message.completed", msg)
        ctx.fake.state["threads"][run["thread_id"]]["messages"].append(msg)
        step["status"] = "completed"
        step["completed_at"] = now()
        ctx.emit("thread.run.step.completed", step)


def _message_delta(message_id: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"id": message_id, "object": "thread.message.delta", "delta": {"content": [content]}}


def text(*pieces: str, annotations: tuple[_Annotation, ...] = (), **options: Any) -> message:
    """A one-block text message streamed as `pieces`."""
    return message((_TextBlock(tuple(pieces), tuple(annotations)),), **options)


def refusal(words: str) -> message:
    """A message in which the model declines."""
    return message((_RefusalBlock(words),))


def image_message(file_id: str) -> message:
    """A message whose only content is an image file (a chart)."""
    return message((_ImageBlock(file_id),))


def _step_delta(step_id: str, tool_call: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": [tool_call]}},
    }


@dataclass(frozen=True)
class code:
    """A code interpreter call: input streamed in pieces, then logs and images."""

    pieces: tuple[str, ...]
    logs: str | None = None
    images: tuple[str, ...] = ()
    outputs_in_deltas: bool = True
    fail: str | None = None  # the step fails with this message

    def __call__(self, ctx: _Ctx) -> None:
        step = _step_object(ctx.run, "tool_calls", {"type": "tool_calls", "tool_calls": []})
        call_id = new_id("call")
        ctx.emit("thread.run.step.created", step)
        ctx.emit("thread.run.step.in_progress", step)
        first = {
            "index": 0,
            "id": call_id,
            "type": "code_interpreter",
            "code_interpreter": {"input": "", "outputs": []},
        }
        ctx.emit("thread.run.step.delta", _step_delta(step["id"], first))
        for piece in self.pieces:
            delta = {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": piece}}
            ctx.emit("thread.run.step.delta", _step_delta(step["id"], delta))
        outputs: list[dict[str, Any]] = []
        if self.logs is not None:
            outputs.append({"type": "logs", "logs": self.logs})
        outputs += [{"type": "image", "image": {"file_id": f}} for f in self.images]
        if outputs and self.outputs_in_deltas:
            indexed = [{"index": i, **o} for i, o in enumerate(outputs)]
            ci = {"outputs": indexed}
            delta = {"index": 0, "type": "code_interpreter", "code_interpreter": ci}
            ctx.emit("thread.run.step.delta", _step_delta(step["id"], delta))
        step["step_details"]["tool_calls"] = [
            {
                "id": call_id,
                "type": "code_interpreter",
                "code_interpreter": {"input": "".join(self.pieces), "outputs": outputs},
            }
        ]
        if self.fail:
            step["status"] = "failed"
            step["failed_at"] = now()
            step["last_error"] = {"code": "server_error", "message": self.fail}
            ctx.emit("thread.run.step.failed", step)
            return
        step["status"] = "completed"
        step["completed_at"] = now()
        ctx.emit("thread.run.step.completed", step)


@dataclass(frozen=True)
class file_search:
    """A file search call (its results are not shown to the user)."""

    def __call__(self, ctx: _Ctx) -> None:
        step = _step_object(ctx.run, "tool_calls", {"type": "tool_calls", "tool_calls": []})
        call_id = new_id("call")
        ctx.emit("thread.run.step.created", step)
        delta = {"index": 0, "id": call_id, "type": "file_search", "file_search": {}}
        ctx.emit("thread.run.step.delta", _step_delta(step["id"], delta))
        step["step_details"]["tool_calls"] = [
            {"id": call_id, "type": "file_search", "file_search": {"results": []}}
        ]
        step["status"] = "completed"
        step["completed_at"] = now()
        ctx.emit("thread.run.step.completed", step)


@dataclass(frozen=True)
class function_call:
    """The model calls functions: the run then requires their outputs."""

    calls: tuple[tuple[str, str], ...]  # (name, arguments JSON)
    requires_action: bool = True

    def __call__(self, ctx: _Ctx) -> None:
        run = ctx.run
        step = _step_object(run, "tool_calls", {"type": "tool_calls", "tool_calls": []})
        ctx.emit("thread.run.step.created", step)
        calls = []
        for index, (name, arguments) in enumerate(self.calls):
            call_id = new_id("call")
            fn = {"name": name, "arguments": arguments, "output": None}
            delta = {"index": index, "id": call_id, "type": "function", "function": fn}
            ctx.emit("thread.run.step.delta", _step_delta(step["id"], delta))
            calls.append({"id": call_id, "type": "function", "function": fn})
        step["step_details"]["tool_calls"] = copy.deepcopy(calls)
        required = [
            {"id": c["id"], "type": "function", "function": {"name": n, "arguments": a}}
            for c, (n, a) in zip(calls, self.calls, strict=True)
        ]
        run["status"] = "requires_action"
        run["required_action"] = {
            "type": "submit_tool_outputs",
            "submit_tool_outputs": {"tool_calls": required},
        }
        run["_pending_step"] = step
        ctx.emit("thread.run.requires_action", public(run))


@dataclass(frozen=True)
class error_event:
    """An `error` event in the stream (the server's own failure mid-run)."""

    message: str = "The server had an error while processing your request."

    def __call__(self, ctx: _Ctx) -> None:
        data = {"code": "server_error", "message": self.message, "param": None, "type": "server"}
        ctx.fake.check(EVENT_SCHEMA, {"event": "error", "data": data})
        ctx.events.append(SSE(data, None, "error"))


def public(run: dict[str, Any]) -> dict[str, Any]:
    """The run as the API shows it (without the fake's bookkeeping keys)."""
    return {k: v for k, v in run.items() if not k.startswith("_")}


def _finish(ctx: _Ctx, made: Script) -> None:
    run = ctx.run
    end = made.end
    if end is None or end == "requires_action":
        return
    run["status"] = end
    usage = {
        "prompt_tokens": made.usage[0],
        "completion_tokens": made.usage[1],
        "total_tokens": sum(made.usage),
    }
    if end == "completed":
        run["completed_at"] = now()
        run["usage"] = usage
    elif end == "incomplete":
        run["incomplete_details"] = {"reason": made.incomplete_reason}
        run["usage"] = usage
    elif end == "failed":
        run["failed_at"] = now()
        run["last_error"] = {"code": made.error[0], "message": made.error[1]}
    elif end == "cancelled":
        run["cancelled_at"] = now()
    elif end == "expired":
        run["expires_at"] = now()
    ctx.emit(f"thread.run.{end}", public(run))


def default_script(fake: FakeOpenAI, *parts: Part, **options: Any) -> Script:
    """The script every run plays when none is queued (instead of echoing the question)."""
    made = Script(tuple(parts), **options)
    fake.state["default_script"] = made
    return made


def _echo(fake: FakeOpenAI, run: dict[str, Any]) -> Script:
    default: Script | None = fake.state.get("default_script")
    if default is not None:
        return default
    question = ""
    for msg in reversed(fake.state["threads"][run["thread_id"]]["messages"]):
        if msg["role"] == "user":
            blocks = [b["text"]["value"] for b in msg["content"] if b["type"] == "text"]
            question = " ".join(blocks)
            break
    return Script((text("Fake answer to: ", question[:60]),))


def play(fake: FakeOpenAI, run: dict[str, Any], opening: list[tuple[str, Any]]) -> Reply:
    """The next queued script (or the default) as this run's SSE stream."""
    scripts: deque[Script] = fake.state.setdefault("scripts", deque())
    made = scripts.popleft() if scripts else _echo(fake, run)
    ctx = _Ctx(fake, run)
    for name, data in opening:
        ctx.emit(name, data)
    for part in made.parts:
        part(ctx)
    _finish(ctx, made)
    ctx.events.append(SSE("[DONE]", None, "done"))
    return Stream(
        ctx.events,
        delay=made.delay,
        done_marker=False,
        cut_after=ctx.cut_after,
        hang_after=ctx.hang_after,
    )
