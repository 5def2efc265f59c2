"""Translation of the Responses API's SSE events into our `StreamEvent`s.

`Translator.feed(event)` takes one event as the server sent it (its JSON, as
`clients.json_events` decodes it) and returns the events to yield: text,
reasoning summary and refusal deltas; the code interpreter's code, logs and
images; file-search and web-search progress; function calls (collected for
the backend to run) with their arguments as they stream; image generation
(partial images, then the final one as bytes); a hosted MCP server's tool
list, calls and approval requests; custom tool calls; citations; and the
response's end (completed, incomplete or failed) with its usage. An event or
output item of a type this module does not know becomes one `Notice` naming
it: nothing the server sends is dropped silently
(`IGNORED_EVENTS` lists the progress events whose content arrives elsewhere).

Generated files (container-file citations, file paths, chart images) are
fetched the moment they are announced, because containers expire. Files are
*yielded* at the end of the message that cites them, so that the text part the
citations point into is not split in two by a file part.

The deltas, nearly every event of an answer, are read as the JSON they are:
building the SDK's object for each cost 156 µs, 62 ms of CPU per 400-token
answer (docs/benchmarks.md, "Load"). Every other event becomes the SDK's
object of its type, built the way the SDK builds it (`construct`, no
validation), and is read through its attributes.

Text, refusals and reasoning summaries are gathered per content part, found by
its place (`output_index`, `content_index` or `summary_index`), never by
`item_id`: a gateway that bridges the Responses API onto Chat Completions gives
the deltas and "done" events of one message different ids. A "done" event
(`output_text.done`, `content_part.done`, `output_item.done`, `refusal.done`,
`reasoning_summary_text.done`, `reasoning_summary_part.done`) and the output of
`response.completed` are the server's final word on a part's text: shown if no
delta showed it, replacing what the deltas showed if it differs (`ev.Replace`),
nothing otherwise.

Citation offsets are relative to the text part the transcript builds, which
may span several messages (and rounds); `Translator` tracks that by following
the transcript's rules for when a new part starts (see `track`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import mimetypes
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from openai.types.responses import (
    ResponseCodeInterpreterToolCall,
    ResponseCompletedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseCustomToolCall,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFileSearchToolCall,
    ResponseFunctionToolCall,
    ResponseFunctionWebSearch,
    ResponseImageGenCallPartialImageEvent,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseQueuedEvent,
    ResponseReasoningItem,
    ResponseReasoningSummaryPartDoneEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseRefusalDeltaEvent,
    ResponseRefusalDoneEvent,
    ResponseStreamEvent,
    ResponseTextDoneEvent,
)
from openai.types.responses.response_output_item import (
    ImageGenerationCall,
    McpApprovalRequest,
    McpCall,
    McpListTools,
)

from assistants_ui.backends.clients import server_code
from assistants_ui.backends.responses.files import Fetched
from assistants_ui.core import events as ev
from assistants_ui.core.failures import failure
from assistants_ui.core.safe_markdown import code_span
from assistants_ui.i18n import N_

if TYPE_CHECKING:
    from openai.types.responses import Response

__all__ = ["IGNORED_EVENTS", "FileFetcher", "Translator", "failure_of", "incomplete_detail"]

log = logging.getLogger(__name__)

FileFetcher = Callable[[str, str, str], Fetched]
"""(container_id, file_id, filename) -> bytes; container_id "" means the Files API."""
ImageFetcher = Callable[[str, str], Fetched | None]
"""(url, default name) -> bytes, or None when the URL is not ours to fetch."""

ToolStatus = Literal["completed", "failed", "incomplete"]
RETRYABLE_CODES = frozenset({"server_error", "rate_limit_exceeded", "vector_store_timeout"})


_REASONING_DELTAS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)
_ARGUMENT_DELTAS = frozenset(
    {
        "response.function_call_arguments.delta",
        "response.custom_tool_call_input.delta",
        "response.mcp_call_arguments.delta",
    }
)


@cache
def _event_types() -> dict[str, Any]:
    """The SDK's class for each event type (the members of its `ResponseStreamEvent`)."""
    members = typing.get_args(typing.get_args(ResponseStreamEvent)[0])
    return {
        name: cls
        for cls in members
        for name in typing.get_args(cls.model_fields["type"].annotation)
    }


def failure_of(code: str | None, message: str, *, during: str = "") -> ev.Failed:
    return failure(
        server_code(code),
        retryable=code is None or code in RETRYABLE_CODES,
        during=during or N_("The model could not answer"),
        server="The server, while answering,",
        said=message,
    )


def incomplete_detail(reason: str | None, max_output_tokens: int | None) -> str:
    if reason == "max_output_tokens":
        limit = f" ({max_output_tokens} tokens, max_output_tokens)" if max_output_tokens else ""
        return f"The answer reached its length limit{limit}."
    if reason == "content_filter":
        return "The server's content filter cut the answer short."
    return f"The answer is incomplete ({reason or 'no reason given'})."


# Event types read (the branches of `Translator.feed`) ...
HANDLED_EVENTS = frozenset(
    {
        "response.output_text.delta",
        "response.output_text.annotation.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.reasoning_text.delta",
        "response.refusal.delta",
        "response.refusal.done",
        "response.code_interpreter_call_code.delta",
        "response.function_call_arguments.delta",
        "response.custom_tool_call_input.delta",
        "response.mcp_call_arguments.delta",
        "response.image_generation_call.partial_image",
        "response.output_item.added",
        "response.output_item.done",
        "response.created",
        "response.queued",
        "response.in_progress",
        "response.completed",
        "response.incomplete",
        "response.failed",
        "error",
    }
)
# ... and those passed over on purpose: progress, or content that arrives whole in
# another event or in the item's `output_item.done` (an unknown item says so there).
IGNORED_EVENTS = frozenset(
    {
        "response.content_part.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_text.done",
        "response.code_interpreter_call_code.done",
        "response.code_interpreter_call.in_progress",
        "response.code_interpreter_call.interpreting",
        "response.code_interpreter_call.completed",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
        "response.function_call_arguments.done",
        "response.custom_tool_call_input.done",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.mcp_list_tools.failed",
        "response.image_generation_call.in_progress",
        "response.image_generation_call.generating",
        "response.image_generation_call.completed",
        "response.shell_call_command.added",
        "response.shell_call_command.delta",
        "response.shell_call_command.done",
        "response.shell_call_output_content.delta",
        "response.shell_call_output_content.done",
        "response.compaction.compacting",
    }
)
# Output item types shown (the branches of `_item_added` / `_item_done`). The SDK
# parses a type it does not know as the first member of its union (a message), so
# the type is checked by name before any `isinstance`.
SHOWN_ITEMS = frozenset(
    {
        "message",
        "reasoning",
        "code_interpreter_call",
        "file_search_call",
        "web_search_call",
        "function_call",
        "image_generation_call",
        "mcp_list_tools",
        "mcp_call",
        "mcp_approval_request",
        "custom_tool_call",
    }
)


def _unknown(what: str, kind: str) -> ev.Notice:
    return ev.Notice(f"The server sent {what} {code_span(kind)}, which this app does not show.")


# The raster formats image generation makes, by their first bytes. Anything else (an
# SVG is markup that may carry script) is offered as a download, never painted.
_RASTER = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _file_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _raster_mime(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in _RASTER if data.startswith(magic)), None)


def _b64(data: str | None) -> bytes | None:
    try:
        return base64.b64decode(data or "", validate=True) or None
    except (binascii.Error, ValueError):
        return None


def _mcp_error(error: Any) -> str:
    if error is None:
        return ""
    message = getattr(error, "message", None)
    if message:
        return str(message)
    content = getattr(error, "content", None)
    return json.dumps(content, default=str) if content is not None else str(error)


def _status(value: str | None) -> ToolStatus:
    if value == "failed":
        return "failed"
    return "incomplete" if value == "incomplete" else "completed"


Kind = Literal["text", "reasoning", "refusal"]
_DELTAS: dict[Kind, Callable[[str], ev.StreamEvent]] = {
    "text": ev.TextDelta,
    "reasoning": ev.ReasoningDelta,
    "refusal": ev.Refusal,
}
# A content part's place: (kind, output_index, content or summary index). None where a
# lean server leaves the index out.
Key = tuple[Kind, Any, Any]


@dataclass
class _Run:
    """The transcript's last part of one kind (text, reasoning, refusal)."""

    number: int = 0  # how many parts of this kind the message has had
    chars: int = 0  # the characters in the last one
    open: bool = False  # it is the message's last part: the next piece extends it


@dataclass
class _Part:
    """One content part as streamed (a text, a refusal, a reasoning summary): what it
    showed, and where that lies in the transcript."""

    kind: Kind
    pieces: list[str] = field(default_factory=list)
    chars: int = 0
    # The transcript's part of its kind that holds it (the `_Run.number`); 0 until
    # it shows something, -1 once its text lies in two parts (never replaced then).
    number: int = 0
    base: int = 0  # where its text starts in that part
    annotations: int = 0


@dataclass
class Translator:
    """Folds one answer's response streams (one per tool round) into our events."""

    fetch_file: FileFetcher
    fetch_image: ImageFetcher
    # Per answer (across rounds): what the transcript builder has seen.
    _runs: dict[Kind, _Run] = field(
        default_factory=lambda: {"text": _Run(), "reasoning": _Run(), "refusal": _Run()}
    )
    _calls: set[str] = field(default_factory=set)
    _files: set[str] = field(default_factory=set)
    _unknown_events: set[str] = field(default_factory=set)
    _generated: int = 0  # images made by image generation, for their names
    # Per response.
    response: Response | None = None
    response_id: str = ""
    function_calls: list[ResponseFunctionToolCall] = field(default_factory=list)
    failed: ev.Failed | None = None
    ended: bool = False
    _parts: dict[Key, _Part] = field(default_factory=dict)  # by place, the latest
    _streamed: list[_Part] = field(default_factory=list)  # all of them, in order
    _code: set[str] = field(default_factory=set)
    _containers: list[str] = field(default_factory=list)
    _held: list[ev.StreamEvent] = field(default_factory=list)
    _images: int = 0
    _call_ids: dict[str, str] = field(default_factory=dict)  # item id -> call id

    def begin(self) -> None:
        """A new response (a tool round) starts."""
        self.response = None
        self.response_id = ""
        self.function_calls = []
        self.failed = None
        self.ended = False
        self._parts.clear()
        self._streamed.clear()
        self._code.clear()
        self._held.clear()
        self._call_ids.clear()

    # -- the transcript's part rules -----------------------------------------------

    def track(self, event: ev.StreamEvent) -> ev.StreamEvent:
        """Note how `event` changes the transcript's last parts; return it."""
        adds_part = True
        match event:
            case ev.TextDelta(text=text):
                return self._extend("text", text, event)
            case ev.ReasoningDelta(text=text):
                return self._extend("reasoning", text, event)
            case ev.Refusal(text=text):
                return self._extend("refusal", text, event)
            case ev.Replace(kind=kind, start=start, text=text):
                self._runs[kind].chars = start + len(text)  # only ever the last part's tail
                return event
            case ev.Citation() | ev.RemoteUpdate():
                adds_part = False
            case (
                ev.ToolCallStarted(call_id=cid)
                | ev.ToolArgumentsDelta(call_id=cid)
                | ev.CodeDelta(call_id=cid)
                | ev.CodeOutput(call_id=cid)
                | ev.ToolCallDone(call_id=cid)
            ):
                adds_part = cid not in self._calls
                self._calls.add(cid)
            case ev.ImageOutput(file_id=fid) | ev.FileOutput(file_id=fid):
                adds_part = not fid or fid not in self._files
                if fid:
                    self._files.add(fid)
            case ev.Done(detail=detail):
                adds_part = bool(detail)
        if adds_part:
            for run in self._runs.values():
                run.open = False
        return event

    def _extend(self, kind: Kind, text: str, event: ev.StreamEvent) -> ev.StreamEvent:
        for other, run in self._runs.items():
            if other != kind:
                run.open = False
        run = self._runs[kind]
        if not run.open:
            run.number, run.chars, run.open = run.number + 1, 0, True
        run.chars += len(text)
        return event

    def _out(self, out: list[ev.StreamEvent], *events: ev.StreamEvent) -> None:
        out.extend(self.track(e) for e in events)

    # -- events ------------------------------------------------------------------------

    def feed(self, data: Mapping[str, Any]) -> list[ev.StreamEvent]:
        """One event, as the JSON the server sent."""
        out: list[ev.StreamEvent] = []
        kind = str(data.get("type", "")) if isinstance(data, Mapping) else repr(data)[:80]
        typed = _event_types().get(kind)
        if kind not in HANDLED_EVENTS or typed is None:
            if kind not in IGNORED_EVENTS and kind not in self._unknown_events:
                self._unknown_events.add(kind)
                self._out(out, _unknown("an event", kind))
            return out
        delta = data.get("delta")
        delta = delta if isinstance(delta, str) else ""
        item_id = str(data.get("item_id") or "")
        where = data.get("output_index")
        if kind == "response.output_text.delta":
            self._show(out, self._part("text", where, data.get("content_index") or 0), delta)
        elif kind == "response.reasoning_summary_text.delta":
            self._show(out, self._part("reasoning", where, data.get("summary_index") or 0), delta)
        elif kind in _REASONING_DELTAS:
            if delta:
                self._out(out, ev.ReasoningDelta(delta))
        elif kind == "response.code_interpreter_call_code.delta":
            self._code.add(item_id)
            if delta:
                self._out(out, ev.CodeDelta(item_id, delta))
        elif kind in _ARGUMENT_DELTAS:
            # Only for a call announced by its item (the whole arguments come at its end).
            call_id = self._call_ids.get(item_id)
            if delta and call_id:
                self._out(out, ev.ToolArgumentsDelta(call_id, delta))
        else:
            self._typed(out, typed.construct(**data))
        return out

    def _typed(self, out: list[ev.StreamEvent], event: ResponseStreamEvent) -> None:
        where = getattr(event, "output_index", None)
        if isinstance(event, ResponseOutputTextAnnotationAddedEvent):
            part = self._part("text", where, event.content_index)
            if event.annotation is not None:
                self._annotations(out, part, [event.annotation])
        elif isinstance(event, ResponseTextDoneEvent):
            self._final(out, self._part("text", where, event.content_index), event.text)
        elif isinstance(event, ResponseContentPartDoneEvent):
            content = event.part
            if isinstance(content, ResponseOutputText):
                part = self._part("text", where, event.content_index)
                self._final(out, part, content.text, content.annotations)
            elif isinstance(content, ResponseOutputRefusal):
                self._final(out, self._part("refusal", where, event.content_index), content.refusal)
        elif isinstance(
            event, ResponseReasoningSummaryTextDoneEvent | ResponseReasoningSummaryPartDoneEvent
        ):
            if isinstance(event, ResponseReasoningSummaryTextDoneEvent):
                text = event.text
            else:
                text = event.part.text
            self._final(out, self._part("reasoning", where, event.summary_index), text)
        elif isinstance(event, ResponseRefusalDeltaEvent):
            self._show(out, self._part("refusal", where, event.content_index), event.delta)
        elif isinstance(event, ResponseRefusalDoneEvent):
            self._final(out, self._part("refusal", where, event.content_index), event.refusal)
        elif isinstance(event, ResponseImageGenCallPartialImageEvent):
            data = _b64(event.partial_image_b64)
            mime = _raster_mime(data) if data else None
            if data and mime:
                self._out(
                    out, ev.ImagePartial(event.item_id, data, mime, event.partial_image_index)
                )
        elif isinstance(event, ResponseOutputItemAddedEvent):
            # A new item at a place an earlier one held (a server that puts every item
            # at output_index 0): its parts start anew.
            for key in [k for k in self._parts if k[1] is not None and k[1] == where]:
                del self._parts[key]
            self._item_added(out, event.item)
        elif isinstance(event, ResponseOutputItemDoneEvent):
            self._item_done(out, event.item, where)
        elif isinstance(
            event, ResponseCreatedEvent | ResponseQueuedEvent | ResponseInProgressEvent
        ):
            self.response_id = event.response.id
        elif isinstance(event, ResponseCompletedEvent | ResponseIncompleteEvent):
            self._settle(out, event.response)
            self._end(out, event.response)
        elif isinstance(event, ResponseFailedEvent):
            self._end(out, event.response)
            error = event.response.error
            self.failed = failure_of(
                error.code if error else None, error.message if error else "the response failed"
            )
        elif isinstance(event, ResponseErrorEvent):
            self._flush(out)
            self.ended = True
            self.failed = failure_of(
                event.code, event.message, during=N_("The server reported an error while answering")
            )

    def finish(self) -> list[ev.StreamEvent]:
        """The stream ended (however): release files held for the text."""
        out: list[ev.StreamEvent] = []
        self._flush(out)
        return out

    # -- helpers -----------------------------------------------------------------------

    def _part(self, kind: Kind, output_index: Any, index: Any) -> _Part:
        """The content part at this place (by place, never by item id)."""
        key: Key = (kind, output_index, index)
        part = self._parts.get(key)
        if part is None:
            part = self._parts[key] = _Part(kind)
            self._streamed.append(part)
        return part

    def _show(self, out: list[ev.StreamEvent], part: _Part, text: str) -> None:
        """More of a content part's text: appended to the transcript's part of its kind."""
        if not text:
            return
        run = self._runs[part.kind]
        if part.kind == "reasoning" and not part.chars and run.open and run.chars:
            self._out(out, ev.ReasoningDelta("\n\n"))  # the summary's next paragraph
        number, base = (run.number, run.chars) if run.open else (run.number + 1, 0)
        if not part.chars:
            part.number, part.base = number, base
        elif (part.number, part.base + part.chars) != (number, base):
            part.number = -1  # something came between its pieces: it lies in two parts
        part.pieces.append(text)
        part.chars += len(text)
        self._out(out, _DELTAS[part.kind](text))

    def _final(
        self, out: list[ev.StreamEvent], part: _Part, text: str | None, annotations: Any = ()
    ) -> None:
        """A content part's whole text, as the server's last word: shown if nothing of it
        was, replacing what was if it differs (an empty text says nothing)."""
        if text and not part.chars:
            self._show(out, part, text)
        elif text and text != (gathered := "".join(part.pieces)):
            part.pieces = [gathered]
            run = self._runs[part.kind]
            if (part.number, part.base + part.chars) == (run.number, run.chars):
                part.pieces, part.chars = [text], len(text)
                self._out(out, ev.Replace(part.kind, part.base, text))
            else:  # not the end of its kind's last part any more: left as it streamed
                log.info("a %s part's final text differs from its deltas; kept", part.kind)
        self._annotations(out, part, annotations or ())

    def _annotations(self, out: list[ev.StreamEvent], part: _Part, annotations: Any) -> None:
        """Citations of a text part, each once (the server may list them again)."""
        run = self._runs["text"]
        base = part.base if part.chars else (run.chars if run.open else 0)
        for annotation in list(annotations)[part.annotations :]:
            part.annotations += 1
            self._annotation(out, annotation, base)

    def _settle(self, out: list[ev.StreamEvent], response: Response) -> None:
        """The response's output is the server's final word on every text, refusal and
        reasoning summary: each streamed part is matched with it in order."""
        finals: dict[Kind, list[tuple[str, Any]]] = {"text": [], "refusal": [], "reasoning": []}
        for item in getattr(response, "output", None) or []:
            if isinstance(item, ResponseReasoningItem) and item.type == "reasoning":
                finals["reasoning"] += [(s.text, ()) for s in item.summary or []]
            elif isinstance(item, ResponseOutputMessage) and item.type == "message":
                for content in item.content or []:
                    if isinstance(content, ResponseOutputText):
                        finals["text"].append((content.text, content.annotations))
                    elif isinstance(content, ResponseOutputRefusal):
                        finals["refusal"].append((content.refusal, ()))
        for kind, wanted in finals.items():
            shown = [p for p in self._streamed if p.kind == kind and p.chars]
            if len(shown) == len(wanted):
                for part, (text, annotations) in zip(shown, wanted, strict=True):
                    self._final(out, part, text, annotations)
            elif not shown:  # a server that streamed none of it
                for text, annotations in wanted:
                    part = _Part(kind)
                    self._streamed.append(part)
                    self._final(out, part, text, annotations)
            # Otherwise streamed in another shape than the output lists it: left as it came.

    def _end(self, out: list[ev.StreamEvent], response: Response) -> None:
        self._flush(out)
        self.response = response
        self.response_id = response.id
        self.ended = True

    def _flush(self, out: list[ev.StreamEvent]) -> None:
        held, self._held = self._held, []
        self._out(out, *held)

    def _item_added(self, out: list[ev.StreamEvent], item: Any) -> None:
        if getattr(item, "type", "") not in SHOWN_ITEMS:
            return  # said once, when it is done
        if isinstance(item, ResponseCodeInterpreterToolCall):
            self._container(item.container_id)
            self._out(out, ev.ToolCallStarted(item.id, "code_interpreter", "python"))
        elif isinstance(item, ResponseFileSearchToolCall):
            args = json.dumps({"queries": item.queries}) if item.queries else ""
            self._out(out, ev.ToolCallStarted(item.id, "file_search", "file_search", args))
        elif isinstance(item, ResponseFunctionWebSearch):
            self._out(out, ev.ToolCallStarted(item.id, "web_search", "web_search", _web_args(item)))
        elif isinstance(item, ResponseFunctionToolCall):
            self._call_ids[item.id or item.call_id] = item.call_id
            self._out(out, ev.ToolCallStarted(item.call_id, "function", item.name))
        elif isinstance(item, ResponseCustomToolCall):
            self._call_ids[item.id or item.call_id] = item.call_id
            self._out(out, ev.ToolCallStarted(item.call_id, "custom", item.name))
        elif isinstance(item, ImageGenerationCall):
            self._out(out, ev.ToolCallStarted(item.id, "image_generation", "image_generation"))
        elif isinstance(item, McpListTools):
            label = item.server_label
            self._out(out, ev.ToolCallStarted(item.id, "mcp_list_tools", label, server=label))
        elif isinstance(item, McpCall):
            self._call_ids[item.id] = item.id
            self._out(out, ev.ToolCallStarted(item.id, "mcp", item.name, server=item.server_label))

    def _item_done(self, out: list[ev.StreamEvent], item: Any, where: Any) -> None:
        kind = str(getattr(item, "type", ""))
        if kind not in SHOWN_ITEMS:
            self._out(out, _unknown("an output item", kind))
        elif isinstance(item, ResponseCodeInterpreterToolCall):
            self._code_done(out, item)
        elif isinstance(item, ResponseFileSearchToolCall):
            results = item.results or []
            lines = [
                f"{r.filename or r.file_id or 'file'}"
                + (f" (score {r.score:.2f})" if r.score is not None else "")
                for r in results
            ]
            passages = tuple(
                ev.Passage(r.filename or r.file_id or "file", r.text, r.score, r.file_id or "")
                for r in results
                if r.text
            )
            self._out(
                out,
                ev.ToolCallDone(
                    item.id,
                    _status(item.status),
                    output="\n".join(lines),
                    arguments=json.dumps({"queries": item.queries, "status": item.status}),
                    passages=passages,
                ),
            )
        elif isinstance(item, ResponseFunctionWebSearch):
            sources = getattr(item.action, "sources", None) or []
            self._out(
                out,
                ev.ToolCallDone(
                    item.id,
                    _status(item.status),
                    output="\n".join(s.url for s in sources),
                    arguments=_web_args(item),
                ),
            )
        elif isinstance(item, ResponseFunctionToolCall):
            self.function_calls.append(item)
            self._out(out, ev.ToolCallStarted(item.call_id, "function", item.name, item.arguments))
        elif isinstance(item, ResponseCustomToolCall):
            self._out(
                out,
                ev.ToolCallDone(
                    item.call_id,
                    "failed",
                    error=f"Not run: this app has no custom tool named {item.name!r}.",
                    arguments=item.input,
                ),
            )
        elif isinstance(item, ImageGenerationCall):
            self._image_done(out, item)
        elif isinstance(item, McpListTools):
            names = [t.name + (f": {t.description}" if t.description else "") for t in item.tools]
            self._out(
                out,
                ev.ToolCallDone(
                    item.id,
                    "failed" if item.error else "completed",
                    output="\n".join(names),
                    error=item.error or "",
                ),
            )
        elif isinstance(item, McpCall):
            error = _mcp_error(item.error)
            status = "failed" if error else _status(item.status)
            self._out(
                out,
                ev.ToolCallDone(
                    item.id, status, output=item.output or "", error=error, arguments=item.arguments
                ),
            )
        elif isinstance(item, McpApprovalRequest):
            self._out(
                out, ev.ApprovalRequested(item.id, item.server_label, item.name, item.arguments)
            )
        elif isinstance(item, ResponseReasoningItem):
            for index, summary in enumerate(item.summary or []):
                self._final(out, self._part("reasoning", where, index), summary.text)
        elif isinstance(item, ResponseOutputMessage):
            # Annotations the stream did not announce one by one (some servers).
            for index, content in enumerate(item.content or []):
                if isinstance(content, ResponseOutputText):
                    part = self._part("text", where, index)
                    self._final(out, part, content.text, content.annotations)
                elif isinstance(content, ResponseOutputRefusal):
                    self._final(out, self._part("refusal", where, index), content.refusal)
            self._flush(out)

    def _image_done(self, out: list[ev.StreamEvent], item: ImageGenerationCall) -> None:
        data = _b64(item.result)
        if data is not None:
            self._generated += 1
            mime = _raster_mime(data)
            fmt = str(item.output_format or "")
            ext = (mimetypes.guess_extension(mime) if mime else None) or (
                f".{fmt}" if fmt.isalnum() else ".bin"
            )
            name = f"image-{self._generated}{ext}"
            if mime:
                self._out(out, ev.ImageOutput(name, data, mime, call_id=item.id))
            else:
                self._out(out, ev.FileOutput(name, data, _file_mime(name)))
        elif item.result:
            self._out(out, ev.Notice("The generated image could not be decoded.", "warning"))
        error = item.error.message if item.error else ""
        status: ToolStatus = "failed" if error or item.status == "failed" else "completed"
        revised = f"Revised prompt: {item.revised_prompt}" if item.revised_prompt else ""
        self._out(out, ev.ToolCallDone(item.id, status, output=revised, error=error))

    def _code_done(self, out: list[ev.StreamEvent], item: ResponseCodeInterpreterToolCall) -> None:
        self._container(item.container_id)
        if item.id not in self._code and item.code:
            self._out(out, ev.CodeDelta(item.id, item.code))
        for output in item.outputs or []:
            if output.type == "logs":
                if output.logs:
                    self._out(out, ev.CodeOutput(item.id, output.logs))
            else:
                self._images += 1
                try:
                    got = self.fetch_image(output.url, f"chart-{self._images}")
                except Exception as exc:
                    log.warning("could not fetch code interpreter image", exc_info=True)
                    self._out(out, ev.Notice(f"A chart could not be fetched ({exc}).", "warning"))
                    continue
                if got is None:
                    self._out(
                        out, ev.Notice(f"The code interpreter made an image at {output.url}.")
                    )
                    continue
                if got.file_id and got.file_id in self._files:
                    continue
                self._out(out, ev.ImageOutput(got.name, got.data, got.mime, got.file_id))
        self._out(out, ev.ToolCallDone(item.id, _status(item.status)))

    def _container(self, container_id: str) -> None:
        if container_id and container_id not in self._containers:
            self._containers.append(container_id)

    def _annotation(self, out: list[ev.StreamEvent], ann: Any, base: int) -> None:
        kind = getattr(ann, "type", "")
        if kind == "file_citation":
            label = ann.filename or ann.file_id
            self._out(out, ev.Citation("file", label, file_id=ann.file_id, start=base + ann.index))
        elif kind == "url_citation":
            self._out(
                out,
                ev.Citation(
                    "url",
                    ann.title or ann.url,
                    url=ann.url,
                    start=base + ann.start_index,
                    end=base + ann.end_index,
                ),
            )
        elif kind == "container_file_citation":
            name = self._fetch(out, ann.container_id, ann.file_id, ann.filename)
            self._out(
                out,
                ev.Citation(
                    "container_file",
                    name,
                    file_id=ann.file_id,
                    start=base + ann.start_index,
                    end=base + ann.end_index,
                ),
            )
        elif kind == "file_path":
            container = self._containers[-1] if self._containers else ""
            name = self._fetch(out, container, ann.file_id, "")
            self._out(
                out, ev.Citation("file_path", name, file_id=ann.file_id, start=base + ann.index)
            )

    def _fetch(self, out: list[ev.StreamEvent], container_id: str, file_id: str, name: str) -> str:
        """Fetch a generated file now, hold it until the message ends; its name."""
        if file_id in self._files or any(
            isinstance(h, ev.FileOutput) and h.file_id == file_id for h in self._held
        ):
            return name or file_id
        try:
            got = self.fetch_file(container_id, file_id, name)
        except Exception as exc:
            log.warning("could not fetch generated file %s", file_id, exc_info=True)
            self._held.append(
                ev.Notice(f"The file {name or file_id} could not be fetched ({exc}).", "warning")
            )
            return name or file_id
        self._held.append(ev.FileOutput(got.name, got.data, got.mime, file_id))
        return got.name


def _web_args(item: ResponseFunctionWebSearch) -> str:
    action = item.action
    args: dict[str, Any] = {"status": item.status}
    match action.type:
        case "search":
            query = getattr(action, "query", None)
            queries = getattr(action, "queries", None)
            if query:
                args["query"] = query
            if queries:
                args["queries"] = queries
        case "open_page":
            args["open_page"] = getattr(action, "url", None)
        case "find_in_page":
            args["find"] = getattr(action, "pattern", None)
            args["url"] = getattr(action, "url", None)
    return json.dumps(args)
