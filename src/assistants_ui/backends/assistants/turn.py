"""One answer of the Assistants backend: post the question, stream the run, run tools.

`Turn(backend, message, context).events()` is what `AssistantsBackend.send`
returns. It adds the user's message to the thread (text, images as
`image_file` blocks, other files as attachments for the tools their route
names), starts a streamed run, feeds its events through a `RunTranslator`,
and while the run requires function outputs, runs the functions and streams
the continuation (`submit_tool_outputs_stream`).

Every expected failure ends the answer with one `Failed` event: SDK errors,
a connection cut mid-stream (the SDK re-raises the transport's own exception
there), a run that ends badly, too many tool rounds. An earlier run still
active on the thread is cancelled and waited for (see `assistants`). When the
user stops the answer, the run is cancelled on the server as the generator
closes.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Protocol, cast

import httpx2
import openai
from openai.lib.streaming import AssistantEventHandler, AssistantStreamManager
from openai.types.beta.threads import MessageContentPartParam, Run, message_create_params
from openai.types.beta.threads.run_submit_tool_outputs_params import ToolOutput

from assistants_ui.backends.assistants.events import RunTranslator
from assistants_ui.backends.assistants.files import RemoteFiles, route_parts
from assistants_ui.backends.clients import stream_broke
from assistants_ui.backends.tool_calls import Toolbox, ToolCall, ToolLoop, function_spec
from assistants_ui.core import events as ev
from assistants_ui.core.backend import BackendError, SendContext, instructions_for
from assistants_ui.core.failures import failure
from assistants_ui.core.transcript import Message
from assistants_ui.i18n import N_
from assistants_ui.profiles import Connection, Profile

if TYPE_CHECKING:
    from openai.types.beta import Assistant

__all__ = ["CANCEL_WAIT_SECONDS", "Turn", "message_payload"]

CANCEL_WAIT_SECONDS = 30.0
POLL_SECONDS = 0.5
TERMINAL = frozenset({"completed", "failed", "cancelled", "expired", "incomplete"})
ACTIVE = frozenset({"queued", "in_progress", "requires_action", "cancelling"})
_RUN_ID = re.compile(r"\brun_[A-Za-z0-9]+")
_ACTIVE_RUN = re.compile(r"while a run|active run|run \S+ is active", re.IGNORECASE)

Opener = Callable[[], AssistantStreamManager[AssistantEventHandler]]
Events = Generator[ev.StreamEvent, None, None]


def message_payload(
    message: Message,
) -> tuple[list[MessageContentPartParam], list[message_create_params.Attachment]]:
    """The message's content blocks and attachments, from each file's route."""
    text = message.text.strip() or "(see the attached files: {})".format(
        ", ".join(a.name for a in message.attachments)
    )
    content: list[MessageContentPartParam] = [{"type": "text", "text": text}]
    attachments: list[message_create_params.Attachment] = []
    for att in message.attachments:
        if not att.file_id:
            continue
        parts = route_parts(att.route)
        if "image" in parts:
            content.append({"type": "image_file", "image_file": {"file_id": att.file_id}})
        tools = [t for t in parts if t in ("code_interpreter", "file_search")]
        if tools:
            attachments.append(
                cast(
                    "message_create_params.Attachment",
                    {"file_id": att.file_id, "tools": [{"type": t} for t in tools]},
                )
            )
    return content, attachments


def _active_run_conflict(exc: openai.APIStatusError) -> bool:
    return exc.status_code in (400, 409) and bool(_ACTIVE_RUN.search(str(exc)))


class TurnHost(Protocol):
    """What a turn uses of its backend, and nothing more (`AssistantsBackend` is one)."""

    profile: Profile
    connection: Connection
    toolbox: Toolbox
    files: RemoteFiles
    assistant_id: str
    active: dict[str, str]  # thread -> the run answering in it

    @property
    def where(self) -> str: ...

    def client(self) -> openai.OpenAI: ...

    def failed(self, exc: openai.OpenAIError, what: str = "") -> ev.Failed: ...

    def assistant(self) -> Assistant: ...

    def new_thread(self) -> str: ...

    def cancel_run(self, thread: str, run: str) -> None: ...


class Turn:
    """The events of one answer; state shared by its rounds."""

    def __init__(self, backend: TurnHost, message: Message, context: SendContext) -> None:
        self.backend = backend
        self.message = message
        self.context = context
        self.thread = context.remote.get("thread", "")
        self.t = RunTranslator(backend.files)
        self.loop = ToolLoop(
            backend.toolbox, backend.profile.max_tool_rounds, context.turn.functions
        )

    @property
    def client(self) -> openai.OpenAI:
        return self.backend.client()

    def events(self) -> Iterator[ev.StreamEvent]:
        own = self.t.own
        connection = self.backend.connection
        try:
            yield from self._answer()
        except BackendError as exc:
            yield own(exc.failed())
        except openai.OpenAIError as exc:
            yield own(self.backend.failed(exc))
        except httpx2.TimeoutException:
            at = f" at {self.backend.where}"
            yield own(failure("timeout", at=at, seconds=connection.timeout))
        except (httpx2.RequestError, ssl.SSLError) as exc:
            yield own(stream_broke(connection, f" ({type(exc).__name__})"))
        finally:
            self._settle()

    def _settle(self) -> None:
        """Forget the run; if the user stopped a live run, stop it on the server too."""
        run = self.t.run_id
        if self.thread and self.backend.active.get(self.thread) == run:
            self.backend.active.pop(self.thread, None)
        if self.context.cancelled.is_set() and run and not self.t.ended:
            self.backend.cancel_run(self.thread, run)

    # -- the answer ------------------------------------------------------------------------

    def _answer(self) -> Events:
        own = self.t.own
        fresh = not self.thread
        if fresh:
            self.thread = self.backend.new_thread()
            yield own(ev.RemoteUpdate("thread", self.thread))
        if fresh or self.context.remote.get("posted") != self.message.id:
            yield from self._post()
            yield own(ev.RemoteUpdate("posted", self.message.id))
        for notice in self.loop.start():
            yield own(notice)
        opener: Opener = self._start_run
        while True:
            yield from self._stream(opener)
            if self.t.ended or self.context.cancelled.is_set():
                return
            required, self.t.required = self.t.required, None
            if required is None:
                yield own(
                    failure("stream_cut", why=N_("the stream ended while the run was still going"))
                )
                return
            action = required.required_action
            calls = [
                ToolCall(c.id, c.function.name, c.function.arguments)
                for c in (action.submit_tool_outputs.tool_calls if action else [])
            ]
            if self.loop.exhausted:
                self.backend.cancel_run(self.thread, required.id)
                yield own(ev.RemoteUpdate("run", ""))
                for done in self.loop.refuse(calls):
                    yield own(ev.ToolCallStarted(done.call_id, "function"))
                    yield own(done)
                yield own(self.loop.limit_done(None))
                return
            ran = yield from self.loop.run_round(
                calls, self.context.cancelled, announce=True, emit=own
            )
            if self.context.cancelled.is_set():
                return
            outputs: list[ToolOutput] = [
                {"tool_call_id": call.call_id, "output": result.output} for call, result in ran
            ]
            opener = self._submitter(required.id, outputs)

    def _post(self) -> Events:
        content, attachments = message_payload(self.message)
        for attempt in (1, 2, 3):
            try:
                self.client.beta.threads.messages.create(
                    self.thread, role="user", content=content, attachments=attachments
                )
                return
            except openai.NotFoundError as exc:
                if attempt == 3 or "No thread found" not in str(exc):
                    raise
                self.thread = self.backend.new_thread()
                yield self.t.own(ev.RemoteUpdate("thread", self.thread))
                yield self.t.own(
                    ev.Notice(
                        "This conversation's thread no longer exists on the server: the answer "
                        "starts a new one, without the earlier messages.",
                        "warning",
                    )
                )
            except openai.APIStatusError as exc:
                if attempt == 3 or not _active_run_conflict(exc):
                    raise
                yield from self._clear_active_run(exc)

    def _start_run(self) -> AssistantStreamManager[AssistantEventHandler]:
        p = self.backend.profile
        return self.client.beta.threads.runs.stream(
            thread_id=self.thread,
            assistant_id=self.backend.assistant_id,
            additional_instructions=instructions_for(p.instructions, self.context) or openai.omit,
            model=p.model or openai.omit,
            temperature=openai.omit if p.temperature is None else p.temperature,
            max_completion_tokens=p.max_output_tokens or openai.omit,
            reasoning_effort=p.reasoning.effort or openai.omit,
            tools=self._run_tools(),
        )

    def _run_tools(self) -> Any:
        """The assistant's tools plus the profile's tools it does not declare (MCP
        servers' tools, functions), as the run's `tools`; omitted when there are none."""
        offered = self.loop.tools.values()
        if not offered:
            return openai.omit
        declared = self.backend.assistant().tools
        names = {t.function.name for t in declared if t.type == "function"}
        extra = [t for t in offered if t.name not in names]
        if not extra:
            return openai.omit
        return [
            *(t.model_dump(exclude_none=True) for t in declared),
            *({"type": "function", "function": function_spec(t)} for t in extra),
        ]

    def _submitter(self, run_id: str, outputs: list[ToolOutput]) -> Opener:
        def submit() -> AssistantStreamManager[AssistantEventHandler]:
            return self.client.beta.threads.runs.submit_tool_outputs_stream(
                thread_id=self.thread, run_id=run_id, tool_outputs=outputs
            )

        return submit

    def _stream(self, opener: Opener) -> Events:
        handler: AssistantEventHandler | None = None
        for attempt in (1, 2):
            try:
                handler = opener().__enter__()
                break
            except openai.APIStatusError as exc:
                if attempt == 2 or not _active_run_conflict(exc):
                    raise
                yield from self._clear_active_run(exc)
        if handler is None:  # pragma: no cover - the loop either breaks or raises
            return
        try:
            for event in handler:
                yield from self.t.feed(event)
                if self.t.run_id:
                    self.backend.active[self.thread] = self.t.run_id
                if self.context.cancelled.is_set():
                    return
        finally:
            handler.close()

    def _clear_active_run(self, exc: openai.APIStatusError) -> Events:
        """Cancel the run that blocks the thread and wait until it has ended."""
        found = _RUN_ID.search(str(exc))
        run_id = found.group(0) if found else self.context.remote.get("run", "")
        runs = self.client.beta.threads.runs
        if not run_id:
            listed = runs.list(self.thread, limit=5)
            run_id = next((r.id for r in listed.data if r.status in ACTIVE), "")
            if not run_id:
                return
        run: Run
        try:
            run = runs.cancel(run_id, thread_id=self.thread)
        except openai.BadRequestError:  # it ended meanwhile, or is already being cancelled
            run = runs.retrieve(run_id, thread_id=self.thread)
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        pause = 0.0  # look again at once, then every POLL_SECONDS
        while run.status not in TERMINAL:
            if self.context.cancelled.is_set():
                return
            if time.monotonic() > deadline:
                raise BackendError.of(failure("run_active", seconds=CANCEL_WAIT_SECONDS))
            time.sleep(pause)
            pause = POLL_SECONDS
            run = runs.retrieve(run_id, thread_id=self.thread)
        yield self.t.own(
            ev.Notice(
                "An earlier answer was still running in this conversation: it was stopped so "
                "that this one could start."
            )
        )
