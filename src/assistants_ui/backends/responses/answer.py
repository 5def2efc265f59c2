"""One answer of the Responses backend: the rounds of responses until the model is done.

A round is one `responses.create(stream=True)`; when the model calls functions
their outputs are sent back in the next round (as `input`, in the same
conversation, after the previous response, or appended to the re-sent
history, depending on the state mode). The last allowed round
(`max_tool_rounds`) is asked with `tool_choice="none"` so that the model must
answer. Function calls left without an output in a remote conversation (the
limit was reached, the user stopped) are answered with
`conversations.items.create`, or that conversation's next turn would fail.

In `previous_response_id` mode the chain only advances when an answer ends
with nothing left open: a stopped answer, or one cut at the round limit, is
left out of the model's context rather than breaking the next turn. A chain
not started yet on a branch that has history (a new branch's first answer)
re-sends that history once; later answers chain on it.

This module also builds the input items for a user message and the re-sent
history of a stateless conversation. A user's answer to a hosted MCP server's
approval request is a message of its own (`Message.decision`), sent as an
`mcp_approval_response` item (with the request before it when the history is
re-sent, since the server keeps nothing then).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from assistants_ui.backends.clients import stream_broke
from assistants_ui.backends.responses.files import attachment_parts
from assistants_ui.backends.responses.stream import Translator, incomplete_detail
from assistants_ui.backends.tool_calls import Tool, Toolbox, ToolCall, ToolLoop
from assistants_ui.core import events as ev
from assistants_ui.core.backend import Remote, SendContext, instructions_for
from assistants_ui.core.failures import CLOSED_UNFINISHED, failure
from assistants_ui.core.transcript import Message
from assistants_ui.profiles import Connection, Profile

if TYPE_CHECKING:
    import openai

__all__ = ["Answer", "history_input", "history_items", "user_item"]

log = logging.getLogger(__name__)


def approval_items(message: Message, *, with_request: bool = False) -> list[dict[str, Any]]:
    """The `mcp_approval_response` items of a decision message (and their requests)."""
    items: list[dict[str, Any]] = []
    for part in message.approvals:
        if with_request:
            items.append(
                {
                    "type": "mcp_approval_request",
                    "id": part.request_id,
                    "server_label": part.server,
                    "name": part.name,
                    "arguments": part.arguments,
                }
            )
        items.append(
            {
                "type": "mcp_approval_response",
                "approval_request_id": part.request_id,
                "approve": part.decision == "approved",
            }
        )
    return items


def user_item(message: Message) -> dict[str, Any]:
    parts = attachment_parts(message.attachments)
    if not parts:
        return {"role": "user", "content": message.text}
    text = [{"type": "input_text", "text": message.text}] if message.text else []
    return {"role": "user", "content": [*text, *parts]}


def history_items(history: Sequence[Message]) -> list[dict[str, Any]]:
    """The conversation so far as input items (what a new branch's remote
    conversation is seeded with)."""
    items: list[dict[str, Any]] = []
    for m in history:
        if m.role == "user" and m.approvals:
            items += approval_items(m, with_request=True)
        elif m.role == "user":
            items.append(user_item(m))
        elif m.text.strip():
            items.append({"role": "assistant", "content": m.text})
    return items


def history_input(history: Sequence[Message], message: Message) -> list[dict[str, Any]]:
    """The `input` for a stateless turn: the conversation so far, then `message`."""
    if message.approvals:
        return [*history_items(history), *approval_items(message, with_request=True)]
    return [*history_items(history), user_item(message)]


HOSTED_TOOLS = frozenset({"file_search", "code_interpreter", "web_search", "image_generation"})


def tool_choice(setting: str) -> str | dict[str, str]:
    """The profile's `tool_choice` as the Responses API takes it."""
    if setting in ("auto", "required", "none"):
        return setting
    if setting in HOSTED_TOOLS:
        return {"type": setting}
    return {"type": "function", "name": setting}


class AnswerHost(Protocol):
    """What an answer uses of its backend, and nothing more (`ResponsesBackend` is one)."""

    profile: Profile
    connection: Connection
    toolbox: Toolbox

    @property
    def client(self) -> openai.OpenAI: ...

    def failure(self, exc: BaseException, what: str = "") -> ev.Failed: ...

    def request_base(self, remote: Remote, offered: Iterable[Tool] = ()) -> dict[str, Any]: ...

    def uses_background(self) -> bool: ...

    def open_stream(
        self, kwargs: dict[str, Any], *, background: bool
    ) -> tuple[Any, list[ev.Notice]]: ...


class Answer:
    """One answer: the tool rounds of responses, until text or a limit."""

    def __init__(
        self,
        backend: AnswerHost,
        tr: Translator,
        remote: Remote,
        state: str,
        message: Message,
        context: SendContext,
    ) -> None:
        self.b, self.tr, self.remote, self.state = backend, tr, remote, state
        self.context = context
        self.loop = ToolLoop(
            backend.toolbox, backend.profile.max_tool_rounds, context.turn.functions
        )
        self.base: dict[str, Any] = {}  # run() builds it once the tools are listed
        self.previous = remote.get("previous_response_id", "")
        # A chain not started yet on a branch with history (a new branch's first
        # answer) re-sends that history; the answers after it chain on this one.
        resend = state == "stateless" or (
            state == "previous_response_id" and not self.previous and bool(context.history)
        )
        self.transcript: list[Any] = history_input(context.history, message) if resend else []
        self.input: list[Any] = self.transcript if resend else [user_item(message)]
        if message.approvals and not resend:
            self.input = approval_items(message)
        self.usage = ev.Usage()
        self.unanswered: dict[str, str] = {}  # call id -> output to send (conversation mode)
        self.announced = ""  # the response id the page may cancel
        # Background mode (for a server-side cancel) only where state is kept remotely.
        self.background = state != "stateless"

    def run(self) -> Iterator[ev.StreamEvent]:
        for notice in self.loop.start():
            yield self.tr.track(notice)
        self.base = self.b.request_base(self.remote, self.loop.tools.values())
        if self.context.turn.instructions:  # the reader's and the project's, after the profile's
            self.base["instructions"] = instructions_for(self.b.profile.instructions, self.context)
        try:
            yield from self._rounds()
        finally:
            if self.unanswered and self.state == "conversation":
                self._settle()

    def _rounds(self) -> Iterator[ev.StreamEvent]:
        b, tr, cancelled, loop = self.b, self.tr, self.context.cancelled, self.loop
        limit_hit = False
        while True:
            kwargs = dict(self.base, input=self.input)
            if self.state == "conversation":
                kwargs["conversation"] = self.remote["conversation"]
            elif self.state == "previous_response_id" and self.previous:
                kwargs["previous_response_id"] = self.previous
            choice = loop.choice(b.profile.tool_choice)
            if choice and isinstance(kwargs.get("tools"), list):
                kwargs["tool_choice"] = tool_choice(choice)
            yield from self._stream(kwargs)
            if cancelled.is_set():
                return
            if tr.failed is not None or not tr.ended or tr.response is None:
                yield from self._clear()
                yield tr.failed or _cut()
                return
            response = tr.response
            if response.usage is not None:
                self.usage = ev.Usage(
                    self.usage.input_tokens + response.usage.input_tokens,
                    self.usage.output_tokens + response.usage.output_tokens,
                )
            calls = [ToolCall(c.call_id, c.name, c.arguments) for c in tr.function_calls]
            if not calls or response.status == "incomplete":
                break
            if loop.exhausted:
                limit_hit = True
                for done in loop.refuse(calls):
                    self.unanswered[done.call_id] = done.error
                    yield tr.track(done)
                break
            self.unanswered = {c.call_id: loop.NOT_RUN_STOPPED for c in calls}
            ran = yield from loop.run_round(calls, cancelled, emit=tr.track)
            for call, result in ran:
                self.unanswered[call.call_id] = result.output
            if cancelled.is_set():
                return
            outputs: list[dict[str, Any]] = [
                {"type": "function_call_output", "call_id": call.call_id, "output": result.output}
                for call, result in ran
            ]
            if self.state == "stateless":
                self.transcript += [item.to_dict() for item in response.output] + outputs
            else:
                self.input = outputs
                self.previous = response.id
        yield from self._clear()
        if self.state == "previous_response_id" and not self.unanswered:
            yield tr.track(ev.RemoteUpdate("previous_response_id", response.id))
        if limit_hit:
            yield tr.track(loop.limit_done(self.usage))
        elif response.status == "incomplete":
            reason = response.incomplete_details.reason if response.incomplete_details else None
            detail = incomplete_detail(reason, b.profile.max_output_tokens)
            yield tr.track(ev.Done("incomplete", self.usage, detail))
        else:
            yield tr.track(ev.Done("complete", self.usage))

    def _stream(self, kwargs: dict[str, Any]) -> Iterator[ev.StreamEvent]:
        import openai

        tr, cancelled = self.tr, self.context.cancelled
        tr.begin()
        try:
            stream, notices = self.b.open_stream(kwargs, background=self.background)
        except openai.OpenAIError as exc:
            tr.failed = self.b.failure(exc)
            return
        for notice in notices:
            yield tr.track(notice)
        received = False
        try:
            for event in stream:
                received = True
                yield from tr.feed(event)
                if tr.response_id:
                    self.unanswered = {}  # the outputs went in with this request
                    if (
                        self.background
                        and self.b.uses_background()
                        and self.announced != tr.response_id
                    ):
                        self.announced = tr.response_id
                        yield tr.track(ev.RemoteUpdate("response", tr.response_id))
                if cancelled.is_set():
                    yield from tr.finish()
                    return
        except openai.OpenAIError as exc:
            failed = self.b.failure(exc)
            if received and isinstance(exc, openai.APIConnectionError):
                failed = stream_broke(self.b.connection)
            tr.failed = failed
        finally:
            stream.close()
        yield from tr.finish()

    def _clear(self) -> Iterator[ev.StreamEvent]:
        if self.announced:
            self.announced = ""
            yield self.tr.track(ev.RemoteUpdate("response", ""))

    def _settle(self) -> None:
        """Answer function calls left open in the conversation, so its next turn works."""
        import openai

        items = [
            {"type": "function_call_output", "call_id": cid, "output": output}
            for cid, output in self.unanswered.items()
        ]
        try:
            self.b.client.conversations.items.create(
                self.remote["conversation"], items=cast(Any, items)
            )
        except openai.OpenAIError:
            log.warning("could not close open function calls in the conversation", exc_info=True)
        self.unanswered = {}


def _cut() -> ev.Failed:
    return failure("stream_cut", why=CLOSED_UNFINISHED)
