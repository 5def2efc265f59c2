"""Backend `chat`: Chat Completions, remote (any OpenAI-compatible server) or local.

The conversation lives here, not on the server: every turn re-sends the
history (the local engine trims it to its context window). A remote server
is offered the profile's function tools and MCP servers' tools; the calls,
streamed as `tool_calls` deltas, run through the one tool loop
(`tool_calls`) and their outputs go back as `tool` messages. The in-process
model cannot call tools: a local profile with tools is refused at build time. Chat
Completions has no file store, so documents the user attaches (PDF, Word,
PowerPoint, Excel, HTML, Markdown, text and source files) are kept and searched by
the app itself (`documents`: whole when they fit the context, else passages, cited
with their page); images go to models that see them (`vision`) as `image_url`
parts, and are refused with that reason elsewhere.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from assistants_ui.backends.chat.documents import (
    DOCUMENT_ROUTE,
    Retrieval,
    fenced,
    inline_documents,
    prompt_chars,
)
from assistants_ui.backends.tool_calls import (
    Tool,
    Toolbox,
    ToolCall,
    ToolLoop,
    build_toolbox,
    function_spec,
)
from assistants_ui.core import events as ev
from assistants_ui.core.backend import BackendError, Remote, Route, SendContext, instructions_for
from assistants_ui.core.documents import Embedder
from assistants_ui.core.failures import CLOSED_UNFINISHED, failure
from assistants_ui.core.files import IMAGE_TYPES, extension
from assistants_ui.core.titles import TITLE_SECONDS, TitleRequest
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.documents.extract import DOCUMENT_EXTENSIONS
from assistants_ui.i18n import _
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import Settings

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ["ChatBackend", "create", "to_chat_messages"]

# Context assumed for a server's model when the profile does not say (`context_tokens`).
DEFAULT_SERVER_CONTEXT = 8192
DEFAULT_SERVER_ANSWER = 1024


def _inline(att: Attachment) -> str:
    return fenced(att.name, att.data.decode("utf-8", errors="replace"))


def _image_part(att: Attachment) -> dict[str, Any]:
    data = base64.b64encode(att.data).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{att.mime};base64,{data}"}}


def to_chat_messages(
    instructions: str | None,
    history: Sequence[Message],
    message: Message,
    *,
    texts: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The Chat Completions `messages` for a question and the turns before it.

    `texts` replaces messages' text by id (the question with the documents or
    passages before it);
    text files of old conversations (route "inline") are pasted as they always were,
    documents are the shelf's (`documents`), images `image_url` parts."""
    turns: list[dict[str, Any]] = []
    if instructions:
        turns.append({"role": "system", "content": instructions})
    for m in [*history, message]:
        text = (texts or {}).get(m.id, m.text)
        inlined = [a for a in m.attachments if a.route == "inline"]
        if m.role == "user" and inlined:
            text = "\n\n".join([*(_inline(a) for a in inlined), text])
        images = [a for a in m.attachments if a.route == "image" and a.data]
        if m.role == "user" and images:
            parts: list[dict[str, Any]] = [_image_part(a) for a in images]
            if text.strip():
                parts.append({"type": "text", "text": text})
            turns.append({"role": "user", "content": parts})
            continue
        if not text.strip():
            continue
        turns.append({"role": m.role, "content": text})
    return turns


class _Source(Protocol):
    def describe(self) -> str: ...

    def stream(
        self,
        turns: list[dict[str, Any]],
        context: SendContext,
        retrieval: Retrieval | None = None,
    ) -> Iterator[ev.StreamEvent]: ...

    def complete(self, turns: list[dict[str, Any]], max_tokens: int) -> str: ...


@dataclass(slots=True)
class _Round:
    """What one request of an answer ended with."""

    finish: str
    usage: ev.Usage | None
    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)


def tool_choice(setting: str) -> str | dict[str, Any]:
    """The profile's `tool_choice` as Chat Completions takes it."""
    if setting in ("auto", "required", "none"):
        return setting
    return {"type": "function", "function": {"name": setting}}


def _added(total: ev.Usage | None, more: ev.Usage | None) -> ev.Usage | None:
    if total is None or more is None:
        return more or total
    return ev.Usage(
        total.input_tokens + more.input_tokens, total.output_tokens + more.output_tokens
    )


class _RemoteSource:
    """Any OpenAI-compatible `/chat/completions`, through the official SDK."""

    def __init__(
        self, profile: Profile, connection: Connection, toolbox: Toolbox | None = None
    ) -> None:
        self.profile = profile
        self.connection = connection
        self.toolbox = toolbox or Toolbox()
        self._model = profile.model
        self._model_lock = threading.Lock()

    def describe(self) -> str:
        return self.connection.describe()

    def _resolve_model(self) -> str:
        """The profile's model, or the server's first model when none is set."""
        from assistants_ui.backends.clients import client_for

        with self._model_lock:
            if self._model:
                return self._model
            models = [m.id for m in client_for(self.connection).models.list()]
            if not models:
                raise BackendError(
                    "No model is configured (OPENAI_MODEL or the profile's `model`) "
                    "and the server lists none."
                )
            self._model = models[0]
            return self._model

    def _open(self, client: openai.OpenAI, request: dict[str, Any]) -> Any:
        """Start the stream; `stream_options` is dropped (and the request sent again,
        once) where the server refuses it."""
        import openai

        from assistants_ui.backends.capabilities import (
            capabilities_for,
            refused_feature,
            sent_features,
            strip_unsupported,
        )
        from assistants_ui.backends.clients import json_events, server_reason

        caps = capabilities_for(self.connection)
        strip_unsupported(request, caps)
        try:
            raw = client.chat.completions.with_raw_response.create(**request)
        except openai.APIStatusError as exc:
            reason = server_reason(exc, self.connection)
            if refused_feature(exc.status_code, reason, sent_features(request)) is None:
                raise
            caps.learn("stream_usage", False, reason)
            strip_unsupported(request, caps)
            raw = client.chat.completions.with_raw_response.create(**request)
        return json_events(raw)

    def stream(
        self,
        turns: list[dict[str, Any]],
        context: SendContext,
        retrieval: Retrieval | None = None,
    ) -> Iterator[ev.StreamEvent]:
        """The answer: requests until the model stops calling tools (the one tool loop)."""
        loop = ToolLoop(self.toolbox, self.profile.max_tool_rounds, context.turn.functions)
        yield from loop.start()
        search: Tool | None = retrieval.tool() if retrieval is not None else None
        if search is not None:
            loop.tools.setdefault(search.name, search)
        offered = [{"type": "function", "function": function_spec(t)} for t in loop.tools.values()]
        turns = list(turns)
        usage: ev.Usage | None = None
        while True:
            extra: dict[str, Any] = {}
            choice = loop.choice(self.profile.tool_choice)
            if offered:
                extra["tools"] = offered
                if choice:
                    extra["tool_choice"] = tool_choice(choice)
            got = yield from self.one_round(turns, context, extra)
            if got is None:
                return
            usage = _added(usage, got.usage)
            if not got.calls:
                yield _done(got.finish, usage, "max_output_tokens")
                return
            if loop.exhausted:
                yield from loop.refuse(got.calls)
                yield loop.limit_done(usage)
                return
            ran = yield from loop.run_round(
                got.calls,
                context.cancelled,
                announce=True,
                emit=retrieval.with_passages if retrieval is not None else _same,
            )
            if context.cancelled.is_set():
                return
            turns.append(
                {
                    "role": "assistant",
                    "content": got.text,  # a string, never null: llama.cpp's server refuses null
                    "tool_calls": [
                        {
                            "id": c.call_id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for c in got.calls
                    ],
                }
            )
            turns += [
                {"role": "tool", "tool_call_id": call.call_id, "content": result.output}
                for call, result in ran
            ]

    def complete(self, turns: list[dict[str, Any]], max_tokens: int) -> str:
        """One small request, not streamed, without tools or retries (a title)."""
        from assistants_ui.backends.clients import client_for

        client = client_for(self.connection).with_options(
            max_retries=0, timeout=min(self.connection.timeout, TITLE_SECONDS)
        )
        done = client.chat.completions.create(
            model=self._resolve_model(),
            messages=cast("list[ChatCompletionMessageParam]", turns),
            max_tokens=max_tokens,
            stream=False,
        )
        return (done.choices[0].message.content or "") if done.choices else ""

    def one_round(
        self, turns: list[dict[str, Any]], context: SendContext, extra: dict[str, Any]
    ) -> Generator[ev.StreamEvent, None, _Round | None]:
        """One streamed request; None when it failed (said) or was stopped."""
        import openai

        from assistants_ui.backends.capabilities import capabilities_for
        from assistants_ui.backends.clients import client_for, describe_error

        finish: str | None = None
        usage: ev.Usage | None = None
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        try:
            model = self._resolve_model()
            client = client_for(self.connection)
            profile = self.profile
            stream = self._open(
                client,
                {
                    "model": model,
                    "messages": cast("list[ChatCompletionMessageParam]", list(turns)),
                    "stream": True,
                    "stream_options": {"include_usage": True},
                    "temperature": openai.omit
                    if profile.temperature is None
                    else profile.temperature,
                    "max_tokens": openai.omit
                    if profile.max_output_tokens is None
                    else profile.max_output_tokens,
                    **extra,
                },
            )
            try:
                for chunk in stream:
                    if not isinstance(chunk, dict):
                        continue  # not a chunk (a server's keep-alive of its own making)
                    counted = chunk.get("usage")
                    if isinstance(counted, dict):
                        usage = ev.Usage(
                            int(counted.get("prompt_tokens") or 0),
                            int(counted.get("completion_tokens") or 0),
                        )
                    for choice in (chunk.get("choices") or [])[:1]:
                        delta = choice.get("delta") or {}
                        content = delta.get("content")
                        if content:
                            text.append(content)
                            yield ev.TextDelta(content)
                        if delta.get("refusal"):
                            yield ev.Refusal(delta["refusal"])
                        for tc in delta.get("tool_calls") or []:
                            yield from _call_delta(calls, tc)
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
                    if context.cancelled.is_set():
                        return None
            finally:
                stream.close()
        except openai.OpenAIError as exc:
            yield describe_error(
                exc, self.connection, what=_("the model %(name)s") % {"name": repr(self._model)}
            )
            return None
        if finish is None:
            yield failure("stream_cut", why=CLOSED_UNFINISHED)
            return None
        caps = capabilities_for(self.connection)
        if caps.supports("stream_usage"):  # a server may accept the option and ignore it
            caps.learn(
                "stream_usage",
                usage is not None,
                "" if usage is not None else "the stream ended without a usage chunk",
            )
        found = [ToolCall(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())]
        return _Round(finish, usage, "".join(text), found)


def _same(event: ev.StreamEvent) -> ev.StreamEvent:
    return event


def _call_delta(calls: dict[int, dict[str, str]], tc: dict[str, Any]) -> Iterator[ev.StreamEvent]:
    """Fold one streamed `tool_calls` delta; announce the call once its name is known."""
    slot = calls.setdefault(int(tc.get("index") or 0), {"id": "", "name": "", "arguments": ""})
    if tc.get("id") and not slot["id"]:
        slot["id"] = tc["id"]
    fn = tc.get("function") or {}
    if fn.get("name") and not slot["name"]:
        slot["name"] = fn["name"]
        slot["id"] = slot["id"] or f"call_{uuid.uuid4().hex[:12]}"
        yield ev.ToolCallStarted(slot["id"], "function", fn["name"])
    if fn.get("arguments"):
        slot["arguments"] += fn["arguments"]


class _LocalSource:
    """The in-process GGUF model."""

    def __init__(self, profile: Profile, connection: Connection) -> None:
        self.profile = profile
        self.connection = connection

    def describe(self) -> str:
        return self.connection.describe()

    def complete(self, turns: list[dict[str, Any]], max_tokens: int) -> str:
        """A few tokens, after any answer the model is writing (a title); given up, raising,
        when an answer waits for the model meanwhile (its first words come first)."""
        from assistants_ui.backends.chat.local_engine import YIELDED, LocalEngine, Yielded

        conn = self.connection
        engine = LocalEngine.get(
            conn.model_path, context_tokens=conn.context_tokens, threads=conn.threads
        )
        chunks = list(
            engine.stream(
                turns, max_tokens=max_tokens, temperature=0.2, wait_notice=False, yields=True
            )
        )
        if chunks and chunks[-1].finish_reason == YIELDED:
            raise Yielded("the local model was given up to an answer waiting for it")
        return "".join(chunk.text for chunk in chunks)

    def stream(
        self,
        turns: list[dict[str, Any]],
        context: SendContext,
        retrieval: Retrieval | None = None,
    ) -> Iterator[ev.StreamEvent]:
        from assistants_ui.backends.chat.local_engine import LocalEngine, LocalModelError

        conn = self.connection
        max_tokens = self.profile.max_output_tokens or conn.max_tokens
        # What a cut answer names: the assistant's limit, else the connection's.
        limit_name = "max_output_tokens" if self.profile.max_output_tokens else "LOCAL_MAX_TOKENS"
        try:
            engine = LocalEngine.get(
                conn.model_path, context_tokens=conn.context_tokens, threads=conn.threads
            )
        except LocalModelError as exc:
            yield failure("local_model", message=str(exc))
            return
        cancelled = context.cancelled
        told = False
        try:
            for chunk in engine.stream(
                turns,
                max_tokens=max_tokens,
                temperature=self.profile.temperature,
                cancelled=cancelled if isinstance(cancelled, threading.Event) else None,
            ):
                if chunk.waited and not chunk.text and not chunk.finish_reason:
                    yield ev.Notice(
                        "The local model is answering someone else; yours starts right after."
                    )
                    continue
                if not told and (chunk.dropped_turns or chunk.truncated):
                    told = True
                    yield ev.Notice(
                        _trim_notice(chunk.dropped_turns, chunk.truncated, engine.context_tokens)
                    )
                if chunk.text:
                    yield ev.TextDelta(chunk.text)
                if chunk.finish_reason:
                    if chunk.finish_reason == "cancelled":
                        return
                    usage = ev.Usage(chunk.prompt_tokens, chunk.completion_tokens)
                    yield _done(chunk.finish_reason, usage, limit_name, max_tokens)
        except LocalModelError as exc:
            yield failure("local_model", message=str(exc))


def _trim_notice(dropped: int, truncated: bool, context: int) -> str:
    if truncated:
        return (
            f"Your message is longer than the local model's {context}-token context: "
            "only its end was used."
        )
    return (
        f"The conversation is longer than the local model's {context}-token context: "
        f"the oldest {dropped} message(s) were left out of this answer."
    )


def _done(finish: str, usage: ev.Usage | None, setting: str, limit: int | None = None) -> ev.Done:
    if finish == "length":
        where = f" ({limit} tokens, {setting})" if limit else f" ({setting})"
        return ev.Done("incomplete", usage, f"The answer reached its length limit{where}.")
    if finish == "content_filter":
        return ev.Done("incomplete", usage, "The server's content filter cut the answer short.")
    return ev.Done("complete", usage)


class ChatBackend:
    """Chat Completions: history re-sent each turn, documents kept and searched by the app."""

    def __init__(
        self, profile: Profile, connection: Connection, toolbox: Toolbox | None = None
    ) -> None:
        self.profile = profile
        self.connection = connection
        self.toolbox = toolbox or Toolbox()
        self.source: _Source = (
            _LocalSource(profile, connection)
            if connection.type == "local"
            else _RemoteSource(profile, connection, self.toolbox)
        )

    def sees_images(self) -> bool:
        """The profile says its model sees images (`vision`; the local model does not)."""
        return self.connection.type != "local" and bool(self.profile.vision)

    def route(self, name: str, mime: str) -> Route:
        ext = extension(name)
        if ext in IMAGE_TYPES:
            if self.sees_images():
                return Route("image")
            if self.connection.type == "local":
                return Route(None, _("the local model does not see images"))
            return Route(
                None,
                _(
                    "this assistant's model is not known to see images (its profile sets "
                    "`vision = true` when it does)"
                ),
            )
        if ext in DOCUMENT_EXTENSIONS:
            return Route(DOCUMENT_ROUTE)
        return Route(
            None,
            _("this assistant reads documents and text files (%(types)s)")
            % {"types": ", ".join(sorted({"pdf", "docx", "pptx", "xlsx", "html", "md", "txt"}))},
        )

    def open(self) -> Remote:
        return {}

    def branch(self, remote: Remote, history: Sequence[Message]) -> Remote:
        """Nothing: every turn re-sends the branch's history."""
        return {}

    def upload(self, remote: Remote, attachment: Attachment) -> Attachment:
        """Nothing is sent anywhere: documents are indexed by `send`, images go with it."""
        route = self.route(attachment.name, attachment.mime)
        if not route.accepted:
            raise BackendError(f"{attachment.name}: {route.reason}.", code="upload_refused")
        attachment.route = route.route or ""
        attachment.file_id = f"{attachment.route}:{attachment.sha256[:16]}"
        return attachment

    def embedder(self) -> Embedder | None:
        """The connection's `/v1/embeddings` when the profile names a model for it."""
        if not self.profile.embedding_model or self.connection.type == "local":
            return None
        from assistants_ui.backends.embeddings import ConnectionEmbedder

        return ConnectionEmbedder(self.connection, self.profile.embedding_model)

    def _budget_chars(self, message: Message, instructions: str | None) -> int:
        if self.connection.type == "local":
            context = self.connection.context_tokens
            answer = self.profile.max_output_tokens or self.connection.max_tokens
        else:
            context = self.profile.context_tokens or DEFAULT_SERVER_CONTEXT
            answer = self.profile.max_output_tokens or DEFAULT_SERVER_ANSWER
        return prompt_chars(context, answer, instructions, message.text)

    def send(self, message: Message, context: SendContext) -> Iterator[ev.StreamEvent]:
        # The project's files are on the shelf with the conversation's documents.
        instructions = instructions_for(
            self.profile.instructions, context, shelf=context.documents is not None
        )
        texts: dict[str, str] = {}
        retrieval: Retrieval | None = None
        if context.documents is not None:
            retrieval = Retrieval(
                context.documents,
                self.embedder(),
                self._budget_chars(message, instructions),
                tools=isinstance(self.source, _RemoteSource) and bool(self.toolbox),
            )
            for event in retrieval.index(message):
                yield event
                if isinstance(event, ev.Failed):
                    return
            yield from retrieval.prepare(message.text)
            texts[message.id] = retrieval.question_text(message)
        else:
            for m in [*context.history, message]:
                docs = [a for a in m.attachments if a.route == DOCUMENT_ROUTE and a.data]
                if m.role != "user" or not docs:
                    continue
                blocks, problems = inline_documents(docs)
                if problems and m is message:
                    yield failure("upload_refused", message="; ".join(problems) + ".")
                    return
                texts[m.id] = "\n\n".join([*blocks, m.text])
        turns = to_chat_messages(instructions, context.history, message, texts=texts)
        said: list[str] = []
        events = (
            self.source.stream(turns, context)
            if retrieval is None
            else self.source.stream(turns, context, retrieval)
        )
        for event in events:
            if isinstance(event, ev.TextDelta):
                said.append(event.text)
            elif isinstance(event, ev.Done) and retrieval is not None:
                yield from retrieval.citations("".join(said))
            yield event

    def title(self, request: TitleRequest) -> str:
        """The conversation's title, as the model writes it (core/titles.py)."""
        turns: list[dict[str, Any]] = [
            {"role": "system", "content": request.instructions},
            {"role": "user", "content": request.text},
        ]
        return self.source.complete(turns, request.max_tokens)

    def probe(self) -> None:
        """One small request to a server, without tools, so that the connection learns
        what the server supports (`assistants-ui check`)."""
        if isinstance(self.source, _RemoteSource):
            turns: list[dict[str, Any]] = [{"role": "user", "content": "ping"}]
            context = SendContext([], {}, threading.Event())
            for _ in self.source.one_round(turns, context, {}):
                pass

    def cancel(self, remote: Remote) -> None:
        """Nothing to cancel server-side: closing the stream ends generation."""

    def display_title(self) -> str:
        return self.profile.title

    def delete(self, remote: Remote) -> None:
        """Nothing is stored remotely."""


def create(profile: Profile, connection: Connection, settings: Settings) -> ChatBackend:
    if connection.type == "azure" and not profile.model:
        raise BackendError(f"Assistant {profile.id!r}: Azure needs `model` (the deployment name).")
    if connection.type == "local" and (profile.functions or profile.mcp_servers):
        raise BackendError(
            f"Assistant {profile.id!r}: the local model cannot call tools, so its `functions` "
            "and `mcp_servers` would be ignored; remove them, or use a connection to a server "
            "that can (llama.cpp's, Ollama, OpenAI)."
        )
    return ChatBackend(profile, connection, build_toolbox(profile))
