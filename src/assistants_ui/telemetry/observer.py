"""Core's observer (`core.observe.Observer`): what each hook records, in traces and metrics.

Either part may be missing (only METRICS_PORT, or only the OTLP endpoint); this
module imports neither library itself: the traces' calls are `Tracing`'s
(`tracing.py`), the metrics' `Metrics`' (`metrics.py`).

Nothing here raises into an answer: a hook that fails is logged and forgotten.
Nothing that people wrote or read goes into a span or a label: ids, names,
counts, times and failure codes only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from assistants_ui.core import events as ev
from assistants_ui.core import observe

if TYPE_CHECKING:
    from assistants_ui.core.transcript import Message
    from assistants_ui.telemetry.metrics import Metrics
    from assistants_ui.telemetry.tracing import Tracing

__all__ = ["Telemetry"]

log = logging.getLogger(__name__)

# What counts as the answer's first words: the first text a reader sees.
_WORDS = (ev.TextDelta, ev.ReasoningDelta, ev.Refusal)
# Tool calls the app runs itself are traced where it runs them (`Telemetry.tool_call`);
# the others run on the model's server and are traced from their events.
_RUN_HERE = ("function", "custom")


class _SpanMark:
    """`observe.Span` over an OpenTelemetry span."""

    __slots__ = ("span", "tracing")

    def __init__(self, tracing: Tracing, span: Any) -> None:
        self.tracing = tracing
        self.span = span

    def failed(self, error_type: str) -> None:
        self.tracing.fail(self.span, error_type)


class _Answer:
    """One answer's watch (`observe.AnswerWatch`)."""

    def __init__(self, telemetry: Telemetry, answering: observe.Answering) -> None:
        self.tracing = telemetry.tracing
        self.metrics = telemetry.metrics
        profile = answering.profile
        self.assistant = profile.id
        self.backend_name = profile.backend
        self.model = profile.model or ""
        self.started = time.monotonic()
        self.first_words: float | None = None
        self.over = False
        # Hosted tool calls in progress (code interpreter, file search, hosted MCP), by call id.
        self.hosted: dict[str, Any] = {}
        self.span: Any = None
        if self.tracing is not None:
            attributes: dict[str, Any] = {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.id": profile.id,
                "gen_ai.agent.name": profile.title,
                "assistants_ui.backend": profile.backend,
                "assistants_ui.message.id": answering.message_id,
            }
            if answering.conversation_id:
                attributes["gen_ai.conversation.id"] = answering.conversation_id
            if self.model:
                attributes["gen_ai.request.model"] = self.model
            self.span = self.tracing.start(f"invoke_agent {profile.id}", attributes, root=True)

    def current(self) -> AbstractContextManager[None]:
        if self.span is None:
            return nullcontext()
        assert self.tracing is not None
        return self.tracing.active(self.span)

    def backend(self, operation: str) -> AbstractContextManager[object]:
        if self.tracing is None:
            return nullcontext()
        attributes: dict[str, Any] = {"assistants_ui.backend": self.backend_name}
        if operation == "send":
            name = f"chat {self.model}" if self.model else "chat"
            attributes["gen_ai.operation.name"] = "chat"
            if self.model:
                attributes["gen_ai.request.model"] = self.model
        else:
            name = f"backend {operation}"
            attributes["assistants_ui.backend.operation"] = operation
        return self.tracing.child(name, attributes, client=True)

    def event(self, event: ev.StreamEvent) -> None:
        if self.first_words is not None and type(event) is ev.TextDelta:
            return  # the common case, first
        try:
            self._event(event)
        except Exception:  # telemetry never breaks an answer
            log.warning("telemetry: an event could not be recorded", exc_info=True)

    def _event(self, event: ev.StreamEvent) -> None:
        if self.over:
            return
        if self.first_words is None and isinstance(event, _WORDS):
            self.first_words = time.monotonic() - self.started
            if self.metrics is not None:
                self.metrics.first_words.labels(self.assistant).observe(self.first_words)
            if self.span is not None:
                self.span.set_attribute("assistants_ui.first_words_seconds", self.first_words)
            return
        tracing = self.tracing
        if tracing is None:
            return
        if isinstance(event, ev.ToolCallStarted) and event.kind not in _RUN_HERE:
            if event.call_id not in self.hosted:  # a child of the request that made it
                parent = None if tracing.recording() else self.span
                self.hosted[event.call_id] = tracing.start(*_hosted_span(event), parent=parent)
        elif isinstance(event, ev.ToolCallDone):
            span = self.hosted.pop(event.call_id, None)
            if span is not None:
                if event.passages:
                    span.set_attribute("assistants_ui.passages", len(event.passages))
                if event.status != "completed":
                    tracing.fail(span, f"tool_{event.status}")
                span.end()
        elif isinstance(event, ev.Done) and event.usage is not None:
            tracing.usage(tracing.current(), event.usage.input_tokens, event.usage.output_tokens)
        elif isinstance(event, ev.Failed):
            tracing.fail(tracing.current(), event.code)

    def ended(self, message: Message) -> None:
        try:
            self._ended(message)
        except Exception:  # telemetry never breaks an answer
            log.warning("telemetry: an answer's end could not be recorded", exc_info=True)

    def _ended(self, message: Message) -> None:
        if self.over:
            return
        self.over = True
        seconds = time.monotonic() - self.started
        error = message.error if message.status == "failed" else None
        code = (error.code or "internal") if error is not None else ""
        metrics = self.metrics
        if metrics is not None:
            metrics.answers.labels(self.assistant, self.backend_name, message.status).inc()
            metrics.tokens.labels(self.assistant, "input").inc(message.input_tokens)
            metrics.tokens.labels(self.assistant, "output").inc(message.output_tokens)
            metrics.answer_seconds.labels(self.assistant).observe(seconds)
            if code:
                metrics.failures.labels(self.assistant, code).inc()
        span = self.span
        if span is None:
            return
        assert self.tracing is not None
        for hosted in self.hosted.values():  # never finished: the answer stopped first
            hosted.end()
        self.hosted.clear()
        self.tracing.usage(span, message.input_tokens, message.output_tokens)
        span.set_attribute("assistants_ui.status", message.status)
        if message.stopped_by:
            span.set_attribute("assistants_ui.stopped_by", message.stopped_by)
        if code:
            self.tracing.fail(span, code)
        span.end()


def _hosted_span(event: ev.ToolCallStarted) -> tuple[str, dict[str, Any]]:
    """A tool call that runs on the model's server: its span's name and attributes."""
    name = event.name or event.kind
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": event.call_id,
        "gen_ai.tool.type": "extension",
        "assistants_ui.tool.kind": event.kind,
        "assistants_ui.tool.hosted": True,
    }
    if event.kind == "file_search":
        attributes["gen_ai.operation.name"] = "retrieval"
        attributes["gen_ai.tool.type"] = "datastore"
        return "retrieval file_search", attributes
    if event.server:
        attributes["assistants_ui.mcp.server"] = event.server
    return f"execute_tool {name}", attributes


class Telemetry:
    """The process's observer: traces (`tracing`) and/or metrics (`metrics`)."""

    def __init__(self, tracing: Tracing | None, metrics: Metrics | None) -> None:
        self.tracing = tracing
        self.metrics = metrics

    def answer(self, answering: observe.Answering) -> observe.AnswerWatch:
        try:
            return _Answer(self, answering)
        except Exception:  # telemetry never breaks an answer
            log.warning("telemetry: an answer could not be watched", exc_info=True)
            return observe.NO_WATCH

    def tool_call(
        self, name: str, call_id: str, server: str
    ) -> AbstractContextManager[observe.Span]:
        tracing = self.tracing
        if tracing is None:
            return nullcontext(observe.NO_SPAN)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.type": "extension" if server else "function",
        }
        if server:
            attributes["assistants_ui.mcp.server"] = server
        return self._tool_call(tracing, f"execute_tool {name}", attributes)

    @contextmanager
    def _tool_call(
        self, tracing: Tracing, name: str, attributes: dict[str, Any]
    ) -> Iterator[observe.Span]:
        with tracing.child(name, attributes) as span:
            yield _SpanMark(tracing, span)

    def storage(self, operation: str) -> AbstractContextManager[None]:
        return _Storage(self, operation)

    def close(self, timeout: float) -> None:
        if self.metrics is not None:
            self.metrics.close()
        if self.tracing is not None:
            self.tracing.shutdown(timeout)


class _Storage:
    """One storage call: timed (the metrics' histogram), and a span when it is part of an
    answer's trace (a storage call outside any answer, a page listing the history, is
    only timed)."""

    __slots__ = ("metrics", "operation", "span", "started", "tracing")

    def __init__(self, telemetry: Telemetry, operation: str) -> None:
        self.metrics = telemetry.metrics
        self.tracing = telemetry.tracing
        self.operation = operation
        self.span: Any = None
        self.started = 0.0

    def __enter__(self) -> None:
        tracing = self.tracing
        if tracing is not None and tracing.recording():
            self.span = tracing.start(
                f"storage {self.operation}",
                {"db.operation.name": self.operation},
                client=True,
            )
        self.started = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        seconds = time.perf_counter() - self.started
        if self.metrics is not None:
            self.metrics.storage.labels(self.operation).observe(seconds)
        if self.span is not None:
            assert self.tracing is not None
            if kind is not None:
                self.tracing.fail(self.span, kind.__name__)
            self.span.end()
