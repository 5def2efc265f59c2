"""Assistants run events -> stream events: the translation, and nothing else.

`RunTranslator.feed(event)` takes one `AssistantStreamEvent` as the SDK's
`AssistantEventHandler` parsed it and returns the stream events it means:

- message text deltas -> `TextDelta`; refusals -> `Refusal`; `image_file`
  blocks -> `ImageOutput` (bytes fetched at once);
- annotations: `file_citation` -> `Citation(kind="file")` labelled with the
  file's name (the old `quote` field no longer exists), placed over the
  model's placeholder (`【4:0†source】`) by character offsets; `file_path` ->
  the generated file fetched as bytes at once and offered as its own
  `FileOutput` (each link its own file), plus a `Citation(kind="file_path")`
  whose marker lets the page make the dead sandbox link plain text;
- code interpreter calls -> `ToolCallStarted`, `CodeDelta` (input),
  `CodeOutput` (logs), `ImageOutput` (charts), `ToolCallDone`; file search
  and function calls -> `ToolCallStarted`/`ToolCallDone`;
- the run's lifecycle -> `RemoteUpdate("run", id)` while it is active, then
  `RemoteUpdate("run", "")` and one `Done` or `Failed` saying how it ended.

A run that requires tool outputs is left in `required` for the caller, who
runs the functions and streams the continuation through the same translator.

Citation offsets must be relative to the text part the transcript is
building, which spans several messages of a run when nothing else comes in
between. The translator therefore folds everything it emits into a private
`MessageBuilder` (the same fold the session uses) and measures the text part
there; the caller's own events go through `own()` for the same reason.
Deltas are reconciled with the completed message and step snapshots, so a
server that sends only snapshots still produces the full answer.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from openai.types.beta import AssistantStreamEvent
from openai.types.beta.threads import Message, MessageDeltaEvent, Run
from openai.types.beta.threads.runs import RunStep, RunStepDeltaEvent
from openai.types.shared import ErrorObject

from assistants_ui.backends.assistants.files import Fetched
from assistants_ui.backends.assistants.outcome import run_outcome
from assistants_ui.backends.clients import server_code
from assistants_ui.core import events as ev
from assistants_ui.core.backend import BackendError
from assistants_ui.core.failures import failure
from assistants_ui.core.transcript import MessageBuilder, TextPart
from assistants_ui.i18n import N_

__all__ = ["FileSource", "RunTranslator"]

_ENDED = {
    "thread.run.completed",
    "thread.run.incomplete",
    "thread.run.failed",
    "thread.run.cancelled",
    "thread.run.expired",
}
_ACTIVE = {"thread.run.created", "thread.run.queued", "thread.run.in_progress"}
_KNOWN = {
    *_ENDED,
    *_ACTIVE,
    "error",
    "thread.created",
    "thread.run.requires_action",
    "thread.run.cancelling",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.run.step.delta",
    "thread.run.step.completed",
    "thread.run.step.failed",
    "thread.run.step.cancelled",
    "thread.run.step.expired",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta",
    "thread.message.completed",
    "thread.message.incomplete",
}


class FileSource(Protocol):
    def name(self, file_id: str, hint: str = "") -> str: ...

    def fetch(self, file_id: str, hint: str = "") -> Fetched: ...


@dataclass(slots=True)
class _Block:
    """One text block of one message: where its text starts in the transcript part."""

    base: int
    emitted: int = 0


@dataclass(slots=True)
class _Call:
    call_id: str
    kind: ev.ToolKind
    code: int = 0  # characters of input emitted
    logs: int = 0  # characters of logs emitted
    done: bool = False
    images: set[str] = field(default_factory=set)


class RunTranslator:
    """Folds one answer's run streams (the first and every tool-output round)."""

    def __init__(self, files: FileSource) -> None:
        self.files = files
        self.run_id = ""
        self.required: Run | None = None  # a run waiting for function outputs
        self.ended = False
        self._shadow = MessageBuilder()
        self._out: list[ev.StreamEvent] = []
        self._blocks: dict[tuple[str, int], _Block] = {}
        self._notes: set[tuple[str, int, str, int | None, int | None, str]] = set()
        self._calls: dict[str, _Call] = {}
        self._call_ids: dict[tuple[str, int], str] = {}
        self._files: set[str] = set()
        self._pending: list[ev.FileOutput] = []
        self._open_block: tuple[str, int] | None = None
        self._content_filter = False

    # -- public -------------------------------------------------------------------

    def own(self, event: ev.StreamEvent) -> ev.StreamEvent:
        """Record an event the caller emits itself (keeps offsets and tool calls right)."""
        if isinstance(event, ev.ToolCallStarted) and event.call_id not in self._calls:
            self._calls[event.call_id] = _Call(event.call_id, event.kind)
        elif isinstance(event, ev.ToolCallDone):
            self._calls.setdefault(event.call_id, _Call(event.call_id, "function")).done = True
        self._shadow.apply(event)
        return event

    def feed(self, event: AssistantStreamEvent) -> list[ev.StreamEvent]:
        self._out = []
        name = event.event
        data = event.data
        if not (name == "thread.message.delta" and isinstance(data, MessageDeltaEvent)):
            self._flush()
        if isinstance(data, MessageDeltaEvent):
            self._message_delta(data)
        elif isinstance(data, Message) and name in (
            "thread.message.completed",
            "thread.message.incomplete",
        ):
            self._message_done(data)
        elif isinstance(data, RunStepDeltaEvent):
            self._step_delta(data)
        elif isinstance(data, RunStep) and name != "thread.run.step.created":
            self._step_done(data, name)
        elif isinstance(data, Run):
            self._run(data, name)
        elif isinstance(data, ErrorObject):
            self._error(data.code, data.message)
        elif name not in _KNOWN:
            # The SDK mis-parses `event: error` in run streams: the error object's
            # fields end up as extras of an event without a name.
            extra = getattr(event, "model_extra", None) or {}
            if isinstance(extra.get("message"), str):
                self._error(extra.get("code"), extra["message"])
        return self._out

    # -- helpers ------------------------------------------------------------------------

    def _emit(self, event: ev.StreamEvent) -> None:
        self._shadow.apply(event)
        self._out.append(event)

    def _text_len(self) -> int:
        parts = self._shadow.message.parts
        if parts and isinstance(parts[-1], TextPart):
            return len(parts[-1].text)
        return 0

    def _text(self, key: tuple[str, int], value: str) -> None:
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = _Block(self._text_len())
        self._open_block = key
        if value:
            block.emitted += len(value)
            self._emit(ev.TextDelta(value))

    def _flush(self) -> None:
        """Offer the files linked from the text just finished, after that text."""
        self._open_block = None
        pending, self._pending = self._pending, []
        for item in pending:
            self._emit(item)

    def _fetch(self, file_id: str, hint: str, what: str) -> Fetched | None:
        try:
            return self.files.fetch(file_id, hint)
        except BackendError as exc:
            self._emit(ev.Notice(f"{what} could not be fetched: {exc.reason}", "warning"))
            return None

    def _image(self, file_id: str | None) -> None:
        if not file_id or file_id in self._files:
            return
        self._files.add(file_id)
        got = self._fetch(file_id, f"{file_id}.png", "An image the assistant made")
        if got is not None:
            image = got.mime.startswith("image/")
            name = got.name if image else f"{got.name}.png"  # the sandbox's names may lack one
            self._emit(ev.ImageOutput(name, got.data, got.mime if image else "image/png", file_id))

    def _annotation(
        self,
        key: tuple[str, int],
        kind: str,
        file_id: str | None,
        marker: str,
        start: int | None,
        end: int | None,
    ) -> None:
        ident = (key[0], key[1], kind, start, end, marker)
        if ident in self._notes or not file_id:
            return
        self._notes.add(ident)
        block = self._blocks.get(key)
        base = block.base if block else self._text_len()
        if kind == "file_citation":
            label = self.files.name(file_id)
            self._emit(
                ev.Citation(
                    "file",
                    label,
                    file_id=file_id,
                    start=None if start is None else base + start,
                    end=None if end is None else base + end,
                    marker=marker,
                )
            )
            return
        # file_path: the sandbox link is dead outside the run; the bytes are not.
        hint = posixpath.basename(marker.removeprefix("sandbox:")) if marker else ""
        if file_id not in self._files:
            self._files.add(file_id)
            got = self._fetch(file_id, hint, f"The file {hint or file_id}")
            if got is not None:
                self._pending.append(ev.FileOutput(got.name, got.data, got.mime, file_id))
        label = self.files.name(file_id, hint)
        self._emit(ev.Citation("file_path", label, file_id=file_id, marker=marker))

    # -- messages ------------------------------------------------------------------------

    def _message_delta(self, data: MessageDeltaEvent) -> None:
        for block in data.delta.content or []:
            key = (data.id, block.index)
            if self._open_block is not None and self._open_block != key:
                self._flush()
            if block.type == "text" and block.text is not None:
                self._text(key, block.text.value or "")
                for a in block.text.annotations or []:
                    fid = (
                        a.file_citation.file_id
                        if a.type == "file_citation" and a.file_citation
                        else a.file_path.file_id
                        if a.type == "file_path" and a.file_path
                        else None
                    )
                    self._annotation(key, a.type, fid, a.text or "", a.start_index, a.end_index)
            elif block.type == "image_file" and block.image_file is not None:
                self._image(block.image_file.file_id)
            elif block.type == "refusal" and block.refusal:
                self._blocks.setdefault(key, _Block(0))
                self._emit(ev.Refusal(block.refusal))

    def _message_done(self, message: Message) -> None:
        if message.role != "assistant":
            return
        for index, content in enumerate(message.content):
            key = (message.id, index)
            if content.type == "text":
                value = content.text.value
                block = self._blocks.get(key)
                emitted = block.emitted if block else 0
                if len(value) > emitted:
                    self._text(key, value[emitted:])
                for a in content.text.annotations:
                    fid = (
                        a.file_citation.file_id
                        if a.type == "file_citation"
                        else a.file_path.file_id
                    )
                    self._annotation(key, a.type, fid, a.text, a.start_index, a.end_index)
                self._flush()
            elif content.type == "image_file":
                self._image(content.image_file.file_id)
            elif content.type == "refusal" and key not in self._blocks:
                self._blocks[key] = _Block(0)
                self._emit(ev.Refusal(content.refusal))
        details = message.incomplete_details
        if details is not None and details.reason == "content_filter":
            self._content_filter = True

    # -- run steps -------------------------------------------------------------------------

    def _call(self, step_id: str, index: int, call_id: str | None, kind: ev.ToolKind) -> _Call:
        key = (step_id, index)
        cid = call_id or self._call_ids.get(key) or f"{step_id}:{index}"
        self._call_ids[key] = cid
        call = self._calls.get(cid)
        if call is None:
            call = self._calls[cid] = _Call(cid, kind)
            self._emit(ev.ToolCallStarted(cid, kind))
        return call

    def _code(self, call: _Call, code: str, logs: Iterable[str], images: Iterable[str]) -> None:
        """Emit whatever of this call's input, logs and images was not emitted yet."""
        if len(code) > call.code:
            self._emit(ev.CodeDelta(call.call_id, code[call.code :]))
            call.code = len(code)
        text = "".join(logs)
        if len(text) > call.logs:
            self._emit(ev.CodeOutput(call.call_id, text[call.logs :]))
            call.logs = len(text)
        for file_id in images:
            if file_id not in call.images:
                call.images.add(file_id)
                self._image(file_id)

    def _step_delta(self, data: RunStepDeltaEvent) -> None:
        details = data.delta.step_details
        if details is None or details.type != "tool_calls":
            return
        for delta in details.tool_calls or []:
            if delta.type == "code_interpreter":
                call = self._call(data.id, delta.index, delta.id, "code_interpreter")
                ci = delta.code_interpreter
                if ci is None:
                    continue
                if ci.input:
                    self._emit(ev.CodeDelta(call.call_id, ci.input))
                    call.code += len(ci.input)
                for out in ci.outputs or []:
                    if out.type == "logs" and out.logs:
                        self._emit(ev.CodeOutput(call.call_id, out.logs))
                        call.logs += len(out.logs)
                    elif out.type == "image" and out.image and out.image.file_id:
                        call.images.add(out.image.file_id)
                        self._image(out.image.file_id)
            elif delta.type == "file_search":
                self._call(data.id, delta.index, delta.id, "file_search")
            elif delta.type == "function":
                fn = delta.function
                cid = delta.id or self._call_ids.get((data.id, delta.index)) or ""
                if cid and cid not in self._calls and fn is not None and fn.name:
                    self._call_ids[(data.id, delta.index)] = cid
                    self._calls[cid] = _Call(cid, "function")
                    self._emit(ev.ToolCallStarted(cid, "function", fn.name, fn.arguments or ""))

    def _step_done(self, step: RunStep, name: str) -> None:
        details = step.step_details
        if details.type != "tool_calls" or step.status == "in_progress":
            return
        for index, tc in enumerate(details.tool_calls):
            if tc.type == "function":
                call = self._calls.get(tc.id)
                if call is None or call.done:
                    continue
                call.done = True
                done = ev.ToolCallDone(tc.id, "completed", output=tc.function.output or "")
            else:
                call = self._call(step.id, index, tc.id, tc.type)
                if tc.type == "code_interpreter":
                    outs = tc.code_interpreter.outputs
                    self._code(
                        call,
                        tc.code_interpreter.input,
                        (o.logs for o in outs if o.type == "logs"),
                        (o.image.file_id for o in outs if o.type == "image"),
                    )
                if call.done:
                    continue
                call.done = True
                done = ev.ToolCallDone(call.call_id)
            if step.status != "completed":
                error = step.last_error.message if step.last_error else f"the step {step.status}"
                done = ev.ToolCallDone(
                    done.call_id, "failed" if step.status == "failed" else "incomplete", error=error
                )
            self._emit(done)

    # -- the run ---------------------------------------------------------------------------

    def _run(self, run: Run, name: str) -> None:
        if name in _ACTIVE and run.id != self.run_id:
            self.run_id = run.id
            self._emit(ev.RemoteUpdate("run", run.id))
        if name == "thread.run.requires_action":
            self.required = run
            return
        if name not in _ENDED:
            return
        self.ended = True
        self._emit(ev.RemoteUpdate("run", ""))
        self._emit(run_outcome(run, content_filter=self._content_filter))

    def _error(self, code: object, message: str) -> None:
        self.ended = True
        self._emit(
            failure(
                server_code(code if isinstance(code, str) else None),
                retryable=True,
                during=N_("The server reported an error during the run"),
                server="The server, during the assistant's run,",
                said=message,
            )
        )
