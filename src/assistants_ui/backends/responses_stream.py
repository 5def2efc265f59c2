"""Translation of the Responses API's typed SSE events into our `StreamEvent`s.

`Translator.feed(event)` takes one event as the SDK parsed it and returns the
events to yield: text, reasoning summary and refusal deltas; the code
interpreter's code, logs and images; file-search and web-search progress;
function calls (collected for the backend to run); citations; and the
response's end (completed, incomplete or failed) with its usage.

Generated files (container-file citations, file paths, chart images) are
fetched the moment they are announced, because containers expire. Files are
*yielded* at the end of the message that cites them, so that the text part the
citations point into is not split in two by a file part.

Citation offsets are relative to the text part the transcript builds, which
may span several messages (and rounds); `Translator` tracks that by following
the transcript's rules for when a new part starts (see `track`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from openai.types.responses import (
    ResponseCodeInterpreterCallCodeDeltaEvent,
    ResponseCodeInterpreterToolCall,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseCreatedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFileSearchToolCall,
    ResponseFunctionToolCall,
    ResponseFunctionWebSearch,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseQueuedEvent,
    ResponseReasoningSummaryPartAddedEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningTextDeltaEvent,
    ResponseRefusalDeltaEvent,
    ResponseRefusalDoneEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)

from assistants_ui.backends.clients import server_code
from assistants_ui.backends.responses_files import Fetched
from assistants_ui.core import events as ev
from assistants_ui.core.failures import failure

if TYPE_CHECKING:
    from openai.types.responses import Response, ResponseStreamEvent

__all__ = ["FileFetcher", "Translator", "failure_of", "incomplete_detail"]

log = logging.getLogger(__name__)

FileFetcher = Callable[[str, str, str], Fetched]
"""(container_id, file_id, filename) -> bytes; container_id "" means the Files API."""
ImageFetcher = Callable[[str, str], Fetched | None]
"""(url, default name) -> bytes, or None when the URL is not ours to fetch."""

ToolStatus = Literal["completed", "failed", "incomplete"]
RETRYABLE_CODES = frozenset({"server_error", "rate_limit_exceeded", "vector_store_timeout"})


def failure_of(code: str | None, message: str, *, during: str = "") -> ev.Failed:
    return failure(
        server_code(code),
        retryable=code is None or code in RETRYABLE_CODES,
        during=during or "The model could not answer",
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


def _status(value: str | None) -> ToolStatus:
    if value == "failed":
        return "failed"
    return "incomplete" if value == "incomplete" else "completed"


@dataclass
class _Part:
    """One output_text content part: where it starts in the transcript's text part."""

    base: int
    chars: int = 0
    annotations: int = 0


@dataclass
class Translator:
    """Folds one answer's response streams (one per tool round) into our events."""

    fetch_file: FileFetcher
    fetch_image: ImageFetcher
    on_container_file: Callable[[str, str], None] = lambda file_id, container_id: None
    # Per answer (across rounds): what the transcript builder has seen.
    _run: int = 0  # characters in the transcript's current text part
    _calls: set[str] = field(default_factory=set)
    _files: set[str] = field(default_factory=set)
    _last_reasoning: bool = False
    # Per response.
    response: Response | None = None
    response_id: str = ""
    function_calls: list[ResponseFunctionToolCall] = field(default_factory=list)
    failed: ev.Failed | None = None
    ended: bool = False
    _parts: dict[tuple[str, int], _Part] = field(default_factory=dict)
    _code: set[str] = field(default_factory=set)
    _refused: set[tuple[str, int]] = field(default_factory=set)
    _containers: list[str] = field(default_factory=list)
    _held: list[ev.StreamEvent] = field(default_factory=list)
    _images: int = 0

    def begin(self) -> None:
        """A new response (a tool round) starts."""
        self.response = None
        self.response_id = ""
        self.function_calls = []
        self.failed = None
        self.ended = False
        self._parts.clear()
        self._code.clear()
        self._refused.clear()
        self._held.clear()

    # -- the transcript's part rules -----------------------------------------------

    def track(self, event: ev.StreamEvent) -> ev.StreamEvent:
        """Note how `event` changes the transcript's current text part; return it."""
        keeps_text = False
        match event:
            case ev.TextDelta(text=text):
                self._run += len(text)
                keeps_text = True
            case ev.Citation() | ev.RemoteUpdate():
                keeps_text = True
            case (
                ev.ToolCallStarted(call_id=cid)
                | ev.CodeDelta(call_id=cid)
                | ev.CodeOutput(call_id=cid)
                | ev.ToolCallDone(call_id=cid)
            ):
                keeps_text = cid in self._calls
                self._calls.add(cid)
            case ev.ImageOutput(file_id=fid) | ev.FileOutput(file_id=fid):
                keeps_text = bool(fid) and fid in self._files
                if fid:
                    self._files.add(fid)
            case ev.Done(detail=detail):
                keeps_text = not detail
        if not keeps_text:
            self._run = 0
        self._last_reasoning = isinstance(event, ev.ReasoningDelta)
        return event

    def _out(self, out: list[ev.StreamEvent], *events: ev.StreamEvent) -> None:
        out.extend(self.track(e) for e in events)

    # -- events ------------------------------------------------------------------------

    def feed(self, event: ResponseStreamEvent) -> list[ev.StreamEvent]:
        out: list[ev.StreamEvent] = []
        if isinstance(event, ResponseTextDeltaEvent):
            part = self._part(event.item_id, event.content_index)
            part.chars += len(event.delta)
            if event.delta:
                self._out(out, ev.TextDelta(event.delta))
        elif isinstance(event, ResponseOutputTextAnnotationAddedEvent):
            part = self._part(event.item_id, event.content_index)
            part.annotations += 1
            if event.annotation is not None:
                self._annotation(out, event.annotation, part.base)
        elif isinstance(event, ResponseContentPartAddedEvent):
            if event.part.type == "output_text":
                self._parts[(event.item_id, event.content_index)] = _Part(self._run)
        elif isinstance(event, ResponseTextDoneEvent):
            part = self._part(event.item_id, event.content_index)
            if part.chars == 0 and event.text:  # a server that sends no deltas
                part.chars = len(event.text)
                self._out(out, ev.TextDelta(event.text))
        elif isinstance(
            event, ResponseReasoningSummaryTextDeltaEvent | ResponseReasoningTextDeltaEvent
        ):
            if event.delta:
                self._out(out, ev.ReasoningDelta(event.delta))
        elif isinstance(event, ResponseReasoningSummaryPartAddedEvent):
            if self._last_reasoning:
                self._out(out, ev.ReasoningDelta("\n\n"))
        elif isinstance(event, ResponseRefusalDeltaEvent):
            self._refused.add((event.item_id, event.content_index))
            if event.delta:
                self._out(out, ev.Refusal(event.delta))
        elif isinstance(event, ResponseRefusalDoneEvent):
            if (event.item_id, event.content_index) not in self._refused and event.refusal:
                self._out(out, ev.Refusal(event.refusal))
        elif isinstance(event, ResponseCodeInterpreterCallCodeDeltaEvent):
            self._code.add(event.item_id)
            if event.delta:
                self._out(out, ev.CodeDelta(event.item_id, event.delta))
        elif isinstance(event, ResponseOutputItemAddedEvent):
            self._item_added(out, event.item)
        elif isinstance(event, ResponseOutputItemDoneEvent):
            self._item_done(out, event.item)
        elif isinstance(
            event, ResponseCreatedEvent | ResponseQueuedEvent | ResponseInProgressEvent
        ):
            self.response_id = event.response.id
        elif isinstance(event, ResponseCompletedEvent | ResponseIncompleteEvent):
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
                event.code, event.message, during="The server reported an error while answering"
            )
        return out

    def finish(self) -> list[ev.StreamEvent]:
        """The stream ended (however): release files held for the text."""
        out: list[ev.StreamEvent] = []
        self._flush(out)
        return out

    # -- helpers -----------------------------------------------------------------------

    def _part(self, item_id: str, index: int) -> _Part:
        part = self._parts.get((item_id, index))
        if part is None:
            part = self._parts[(item_id, index)] = _Part(self._run)
        return part

    def _end(self, out: list[ev.StreamEvent], response: Response) -> None:
        self._flush(out)
        self.response = response
        self.response_id = response.id
        self.ended = True

    def _flush(self, out: list[ev.StreamEvent]) -> None:
        held, self._held = self._held, []
        self._out(out, *held)

    def _item_added(self, out: list[ev.StreamEvent], item: Any) -> None:
        if isinstance(item, ResponseCodeInterpreterToolCall):
            self._container(item.container_id)
            self._out(out, ev.ToolCallStarted(item.id, "code_interpreter", "python"))
        elif isinstance(item, ResponseFileSearchToolCall):
            args = json.dumps({"queries": item.queries}) if item.queries else ""
            self._out(out, ev.ToolCallStarted(item.id, "file_search", "file_search", args))
        elif isinstance(item, ResponseFunctionWebSearch):
            self._out(out, ev.ToolCallStarted(item.id, "web_search", "web_search", _web_args(item)))
        elif isinstance(item, ResponseFunctionToolCall):
            self._out(out, ev.ToolCallStarted(item.call_id, "function", item.name))

    def _item_done(self, out: list[ev.StreamEvent], item: Any) -> None:
        if isinstance(item, ResponseCodeInterpreterToolCall):
            self._code_done(out, item)
        elif isinstance(item, ResponseFileSearchToolCall):
            results = item.results or []
            lines = [
                f"{r.filename or r.file_id or 'file'}"
                + (f" (score {r.score:.2f})" if r.score is not None else "")
                for r in results
            ]
            self._out(
                out,
                ev.ToolCallDone(
                    item.id,
                    _status(item.status),
                    output="\n".join(lines),
                    arguments=json.dumps({"queries": item.queries, "status": item.status}),
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
        elif isinstance(item, ResponseOutputMessage):
            # Annotations the stream did not announce one by one (some servers).
            for index, content in enumerate(item.content):
                if isinstance(content, ResponseOutputText):
                    part = self._part(item.id, index)
                    if part.chars == 0 and content.text:
                        part.chars = len(content.text)
                        self._out(out, ev.TextDelta(content.text))
                    for annotation in content.annotations[part.annotations :]:
                        part.annotations += 1
                        self._annotation(out, annotation, part.base)
            self._flush(out)

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
        if container_id:
            self.on_container_file(file_id, container_id)
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
