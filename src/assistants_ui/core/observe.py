"""What the app reports as it answers, for whoever watches (telemetry): hooks, off by default.

Core stays pure Python: it knows no tracing or metrics library. It calls the
process's `Observer`, which `assistants_ui.telemetry` installs when an operator
configured OTEL_EXPORTER_OTLP_ENDPOINT or METRICS_PORT (web/server.py's
lifespan), and nothing when none is installed: each hook is then one read of a
module global, and an answer's `AnswerWatch` is `NO_WATCH`, whose methods do
nothing.

Where the hooks are called:

- `ReplyStream` (core/session.py) asks `answer(Answering(...))` for its watch when it
  is made (`stream.telemetry`), and tells it what happens: the backend requests
  (`backend`), every folded event (`event`: the first words, hosted tool calls,
  file search), the end (`ended`, after the answer is saved, before followers
  see it ended). What its threads do for the answer (saves, checkpoints, the
  backend) runs inside `stream.telemetry.current()`, so that it belongs to the
  answer's trace;
- the tool loop (backends/tool_calls.py) wraps each call it runs in `tool_call`
  (with the MCP server that runs it);
- the store's one guard (storage/store.py `guarded`) wraps every storage call
  in `storage`.

An observer never raises into an answer and never waits on the network: it
records, and ships what it recorded from threads of its own.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from assistants_ui.core.events import StreamEvent
    from assistants_ui.core.transcript import Message
    from assistants_ui.profiles import Profile


@dataclass(frozen=True, slots=True)
class Answering:
    """What an observer is told of an answer as it starts (a value, not the stream:
    the hooks know nothing of the session that calls them)."""

    profile: Profile
    message_id: str
    conversation_id: str | None


__all__ = [
    "NO_SPAN",
    "NO_WATCH",
    "AnswerWatch",
    "Observer",
    "Span",
    "answer",
    "current",
    "install",
    "tool_call",
]


class Span(Protocol):
    """Something being timed, which may turn out to have failed."""

    def failed(self, error_type: str) -> None:
        """It failed (`error_type`: a short, fixed kind, never a sentence)."""
        ...


class AnswerWatch(Protocol):
    """One answer, watched from its start (`Observer.answer`) to its end (`ended`)."""

    def current(self) -> AbstractContextManager[None]:
        """What the calling thread does inside the block belongs to this answer."""
        ...

    def backend(self, operation: str) -> AbstractContextManager[object]:
        """A request to the backend: "open" (remote state), "upload", "send"."""
        ...

    def event(self, event: StreamEvent) -> None:
        """An event was folded into the answer (called on the thread that folded it)."""
        ...

    def ended(self, message: Message) -> None:
        """The answer ended and was saved: its status, tokens and failure code."""
        ...


class Observer(Protocol):
    """The process's telemetry (`assistants_ui.telemetry.Telemetry`)."""

    def answer(self, answering: Answering) -> AnswerWatch: ...

    def tool_call(self, name: str, call_id: str, server: str) -> AbstractContextManager[Span]:
        """A tool the app runs itself (`server`: the MCP server's name; "" for a function)."""
        ...

    def storage(self, operation: str) -> AbstractContextManager[None]:
        """One storage call (`operation`: the store's method, e.g. "MessageStore.save")."""
        ...


class _NoSpan:
    def failed(self, error_type: str) -> None:
        pass


NO_SPAN: Span = _NoSpan()


class _NoWatch:
    """The watch of every answer while no observer is installed: does nothing."""

    def current(self) -> AbstractContextManager[None]:
        return nullcontext()

    def backend(self, operation: str) -> AbstractContextManager[object]:
        return nullcontext()

    def event(self, event: StreamEvent) -> None:
        pass

    def ended(self, message: Message) -> None:
        pass


NO_WATCH: AnswerWatch = _NoWatch()

_observer: Observer | None = None


def install(observer: Observer | None) -> None:
    """Make `observer` the process's (None: back to nothing)."""
    global _observer
    _observer = observer


def current() -> Observer | None:
    return _observer


def answer(answering: Answering) -> AnswerWatch:
    observer = _observer
    return NO_WATCH if observer is None else observer.answer(answering)


def tool_call(name: str, call_id: str, server: str = "") -> AbstractContextManager[Span]:
    observer = _observer
    return nullcontext(NO_SPAN) if observer is None else observer.tool_call(name, call_id, server)
