"""Backend `responses`: OpenAI's (and Azure's) Responses + Conversations APIs.

The assistant's configuration (model, instructions, tools, vector stores,
function tools) lives in the profile and is sent with every request. How the
conversation's state is kept between turns is the connection's `state`:

- `conversation` (default): one remote conversation per chat
  (`conversations.create`); each answer is `responses.create(conversation=...)`.
  A server without the Conversations API (404) makes the connection fall back,
  once per process, to `stateless`; the log and the page say so.
- `previous_response_id`: each answer chains on the last one (kept in
  `remote["previous_response_id"]`).
- `stateless`: the history is re-sent every turn (servers such as Ollama's).

Branches (an edited question, a regenerated answer) get their own state
(`branch`): a new remote conversation seeded with the branch's earlier
messages (`conversations.create(items=...)`), or a new chain whose first
answer re-sends them; stateless branches need nothing.

Function calls (the profile's Python callables and its MCP servers' tools)
are run here by the one tool loop (`tool_calls`), their output sent back and
the answer continued, for at most `max_tool_rounds` rounds.
The profile's `hosted_mcp` servers are passed as `mcp` tools: the API calls
them itself; a call that needs approval ends the answer with the request, and
the user's Approve / Deny is the next message (`responses_answer`).

Stop: on OpenAI the answer is created in background mode (`background=True`,
which needs `store=True`) so that `cancel()` can call `responses.cancel` on
the id announced as `remote["response"]`; everywhere, closing the stream (the
session does it) ends the answer too. Azure documents slow streaming in
background mode, and stateless servers rarely have it, so there it is off; a
server that refuses `background` (OGX: "OGX does not yet support 'stream' and
'background' together.") makes this backend stop asking for it on that
connection. The same holds for every optional feature (`capabilities`).

The rounds of one answer live in `responses_answer`, the stream translation in
`responses_stream`, files (routing, uploads, vector stores, fetches) in
`responses_files`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from assistants_ui.backends.capabilities import (
    Capabilities,
    capabilities_for,
    refused_feature,
    sent_features,
    strip_unsupported,
)
from assistants_ui.backends.responses.answer import Answer, history_input, history_items
from assistants_ui.backends.responses.files import (
    delete_remote_files,
    fetch_container_file,
    fetch_image_url,
    remote_list,
    route_for,
    upload_attachment,
    wait_for_indexing,
)
from assistants_ui.backends.responses.stream import Translator
from assistants_ui.backends.tool_calls import Tool, Toolbox, build_toolbox, function_spec
from assistants_ui.core import events as ev
from assistants_ui.core.backend import (
    BackendError,
    Remote,
    Route,
    SendContext,
    branch_failure,
)
from assistants_ui.core.titles import TITLE_SECONDS, TitleRequest
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.i18n import _
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import Settings

if TYPE_CHECKING:
    import openai

__all__ = ["SUPPORTED_TOOLS", "ResponsesBackend", "create", "history_input"]

log = logging.getLogger(__name__)

SUPPORTED_TOOLS = frozenset({"code_interpreter", "file_search", "web_search", "image_generation"})
# Partial images streamed while an image is made (0-3): shown, then replaced by the image.
PARTIAL_IMAGES = 2
SEED_BATCH = 20  # items per conversations.create / conversations.items.create
REASONING_BUDGET = 1024  # tokens a reasoning model may think before writing a title


class ResponsesBackend:
    """The Responses API for one profile on one connection."""

    # How often and how long to wait for file-search indexing before answering.
    index_poll_interval = 0.5
    index_timeout = 120.0

    def __init__(
        self, profile: Profile, connection: Connection, toolbox: Toolbox | None = None
    ) -> None:
        self.profile = profile
        self.connection = connection
        self.toolbox = toolbox or Toolbox()
        self.background = connection.type != "azure" and connection.state != "stateless"
        self._lock = threading.Lock()

    @property
    def client(self) -> openai.OpenAI:
        from assistants_ui.backends.clients import client_for

        return client_for(self.connection)

    def failure(self, exc: BaseException, what: str = "") -> ev.Failed:
        from assistants_ui.backends.clients import describe_error

        return describe_error(
            exc,
            self.connection,
            what=what or _("the model %(name)s") % {"name": repr(self.profile.model)},
        )

    # -- conversation state ------------------------------------------------------------

    def route(self, name: str, mime: str) -> Route:
        return route_for(self.profile, name)

    def open(self) -> Remote:
        return self._open([])

    def branch(self, remote: Remote, history: Sequence[Message]) -> Remote:
        """A new branch: in `conversation` mode a new remote conversation seeded
        with the branch's earlier messages; in `previous_response_id` mode an
        empty chain (its first answer re-sends the history); nothing when stateless.
        The branch shares the vector store and code-interpreter files it forks from."""
        shared = {k: remote[k] for k in ("vector_store", "ci_files") if remote.get(k)}
        return {**self._open(history_items(history)), **shared}

    def _open(self, items: list[dict[str, Any]]) -> Remote:
        state = self.connection.state
        if state != "conversation":
            return {"state": state}
        if not self.capabilities.supports("conversations"):
            return {"state": "stateless", "fallback": "no_conversations"}
        import openai

        try:
            # The API takes at most SEED_BATCH items per call.
            conversation = self.client.conversations.create(
                metadata={"app": "assistants-ui"},
                items=cast(Any, items[:SEED_BATCH]) if items else openai.omit,
            )
            for start in range(SEED_BATCH, len(items), SEED_BATCH):
                self.client.conversations.items.create(
                    conversation.id, items=cast(Any, items[start : start + SEED_BATCH])
                )
        except openai.NotFoundError as exc:
            from assistants_ui.backends.clients import server_reason

            self.capabilities.learn("conversations", False, server_reason(exc, self.connection))
            log.warning(
                "connection %r: the server has no Conversations API (404); falling back to "
                "state = 'stateless' (history re-sent each turn). Set state = \"stateless\" "
                "on this connection to skip this check.",
                self.connection.id,
            )
            return {"state": "stateless", "fallback": "no_conversations"}
        except openai.OpenAIError as exc:
            error = BackendError.of(self.failure(exc, "the Conversations API"))
            raise (branch_failure(error) if items else error) from exc
        self.capabilities.learn("conversations", True)
        return {"state": "conversation", "conversation": conversation.id}

    def upload(self, remote: Remote, attachment: Attachment) -> Attachment:
        return upload_attachment(self.client, self.connection, self.profile, remote, attachment)

    # -- the request -------------------------------------------------------------------

    def _tools(
        self, remote: Remote, offered: Iterable[Tool]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        tools: list[dict[str, Any]] = []
        include: list[str] = []
        enabled = set(self.profile.tools)
        if "code_interpreter" in enabled:
            container: dict[str, Any] = {"type": "auto"}
            # The profile's own files (an imported assistant's), then this chat's uploads.
            file_ids = [*self.profile.code_interpreter.file_ids, *remote_list(remote, "ci_files")]
            if file_ids:
                container["file_ids"] = file_ids
            if self.profile.code_interpreter.memory_limit:
                container["memory_limit"] = self.profile.code_interpreter.memory_limit
            tools.append({"type": "code_interpreter", "container": container})
            include.append("code_interpreter_call.outputs")
        stores = [*self.profile.vector_store_ids, *remote_list(remote, "vector_store")]
        if "file_search" in enabled and stores:  # the tool needs at least one store
            tools.append({"type": "file_search", "vector_store_ids": stores})
            include.append("file_search_call.results")
        if "web_search" in enabled:
            azure = self.connection.type == "azure"
            tools.append({"type": "web_search_preview" if azure else "web_search"})
        if "image_generation" in enabled:
            tools.append({"type": "image_generation", "partial_images": PARTIAL_IMAGES})
        tools += [server.tool() for server in self.profile.hosted_mcp]
        for f in offered:
            tools.append({"type": "function", **function_spec(f), "strict": False})
        return tools, include

    def request_base(self, remote: Remote, offered: Iterable[Tool] = ()) -> dict[str, Any]:
        import openai

        p = self.profile
        tools, include = self._tools(remote, offered)
        reasoning = {k: v for k, v in p.reasoning.model_dump().items() if v is not None}
        return {
            "model": p.model or "",
            "instructions": p.instructions if p.instructions else openai.omit,
            "tools": tools if tools else openai.omit,
            "include": include if include else openai.omit,
            "max_output_tokens": openai.omit
            if p.max_output_tokens is None
            else p.max_output_tokens,
            "temperature": openai.omit if p.temperature is None else p.temperature,
            "reasoning": reasoning if reasoning else openai.omit,
        }

    @property
    def capabilities(self) -> Capabilities:
        return capabilities_for(self.connection)

    def uses_background(self) -> bool:
        return self.background and self.capabilities.supports("background")

    def open_stream(
        self, kwargs: dict[str, Any], *, background: bool
    ) -> tuple[Any, list[ev.Notice]]:
        """Start a streamed response; returns its events (each the JSON the server sent)
        and what the page should be told.

        Optional features the connection's server refuses (background mode, an
        `include` value, a hosted tool type) are dropped and the request sent again,
        once per feature; see `capabilities`."""
        import openai

        from assistants_ui.backends.clients import json_events, server_reason

        caps = self.capabilities
        request = dict(kwargs)
        if background and self.background:
            request.update(background=True, store=True)
        notices: list[ev.Notice] = []
        tried: set[str] = set()
        while True:
            dropped = strip_unsupported(request, caps)
            notices += [self._dropped_notice(f, caps) for f in dropped if f.startswith("tool:")]
            try:
                raw = self.client.responses.with_raw_response.create(stream=True, **request)
            except openai.APIStatusError as exc:
                reason = server_reason(exc, self.connection)
                feature = refused_feature(exc.status_code, reason, sent_features(request))
                if feature is None or feature in tried:
                    raise
                tried.add(feature)
                caps.learn(feature, False, reason)
                continue
            for feature in sent_features(request):
                if feature not in tried:
                    caps.learn(feature, True)
            return json_events(raw), notices  # read by `Translator.feed`

    def _dropped_notice(self, feature: str, caps: Capabilities) -> ev.Notice:
        tool = feature.split(":", 1)[1]
        learned = caps.known().get(feature)
        why = f" (it said: {learned.reason})" if learned and learned.reason else ""
        return ev.Notice(
            f"The server of connection {self.connection.id!r} does not support the {tool} "
            f"tool{why}, so this answer was made without it.",
            "warning",
        )

    # -- the answer --------------------------------------------------------------------

    def send(self, message: Message, context: SendContext) -> Iterator[ev.StreamEvent]:
        remote = context.remote
        tr = Translator(self._fetch_file, self._fetch_image)
        state = remote.get("state") or self.connection.state
        if state == "conversation" and not self.capabilities.supports("conversations"):
            state = "stateless"
        if remote.get("fallback") == "no_conversations" and not remote.get("fallback_noticed"):
            yield tr.track(
                ev.Notice(
                    "This server has no Conversations API, so this chat's history is kept by "
                    "the app and re-sent with every message (connection "
                    f'{self.connection.id!r}, state = "stateless").',
                    "warning",
                )
            )
            yield tr.track(ev.RemoteUpdate("fallback_noticed", "1"))
        if remote.get("vector_store"):
            for event in wait_for_indexing(
                self.client,
                self.connection,
                remote["vector_store"],
                message.attachments,
                cancelled=context.cancelled,
                poll_interval=self.index_poll_interval,
                timeout=self.index_timeout,
            ):
                yield tr.track(event)
        if context.cancelled.is_set():
            return
        if state == "conversation" and not remote.get("conversation"):
            try:
                opened = self.open()
            except BackendError as exc:
                yield exc.failed()
                return
            for key, value in opened.items():
                remote[key] = value
                yield tr.track(ev.RemoteUpdate(key, value))
            state = remote.get("state", state)
        yield from Answer(self, tr, remote, state, message, context).run()

    # -- files out ---------------------------------------------------------------------

    def _fetch_file(self, container_id: str, file_id: str, filename: str) -> Any:
        return fetch_container_file(self.client, container_id, file_id, filename)

    def _fetch_image(self, url: str, default_name: str) -> Any:
        return fetch_image_url(self.client, url, default_name)

    # -- stop and delete ---------------------------------------------------------------

    def cancel(self, remote: Remote) -> None:
        """Cancel the background response in progress, if there is one."""
        import openai

        response_id = remote.get("response")
        if not response_id:
            return
        try:
            self.client.responses.cancel(response_id)
        except openai.OpenAIError as exc:  # already finished, or never in background
            log.info("cancel of %s: %s", response_id, exc)

    def display_title(self) -> str:
        return self.profile.title

    def title(self, request: TitleRequest) -> str:
        """The conversation's title, as the model writes it (core/titles.py): one request,
        not streamed, not stored, without tools or retries."""
        import openai

        effort = self.profile.reasoning.effort
        reasoning = {"effort": effort} if effort else {}
        client = self.client.with_options(
            max_retries=0, timeout=min(self.connection.timeout, TITLE_SECONDS)
        )
        done = client.responses.create(
            model=self.profile.model or "",
            instructions=request.instructions,
            input=request.text,
            # A reasoning model thinks within the same budget before it writes.
            max_output_tokens=max(16, request.max_tokens) + (REASONING_BUDGET if reasoning else 0),
            reasoning=cast(Any, reasoning) if reasoning else openai.omit,
            store=False,
        )
        return done.output_text

    def delete(self, remote: Remote) -> None:
        """Delete the conversation, its vector store and the files uploaded to it."""
        import openai

        problems: list[str] = []
        conversation = remote.get("conversation")
        if conversation:
            try:
                self.client.conversations.delete(conversation)
            except openai.NotFoundError:
                pass
            except openai.OpenAIError as exc:
                problems.append(f"conversation {conversation}: {exc}")
        problems += delete_remote_files(self.client, remote)
        if problems:
            raise BackendError("Some remote data could not be deleted: " + "; ".join(problems))


def create(profile: Profile, connection: Connection, settings: Settings) -> ResponsesBackend:
    """Build the backend, refusing at once what could never work."""
    if connection.type == "local":
        raise BackendError(
            f"Assistant {profile.id!r}: the local model speaks Chat Completions only; "
            'use backend = "chat" or a connection to OpenAI, Azure or a compatible server.'
        )
    lacking = sorted(set(profile.tools) - SUPPORTED_TOOLS)
    if lacking:
        raise BackendError(
            f"Assistant {profile.id!r}: the responses backend has no tool "
            + ", ".join(repr(t) for t in lacking)
            + f" (it has {', '.join(sorted(SUPPORTED_TOOLS))})."
        )
    for server in profile.hosted_mcp:
        missing = server.missing_env()
        if missing:
            raise BackendError(
                f"Assistant {profile.id!r}: the MCP server {server.server_label!r} needs the "
                f"environment variable{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                "for its headers (headers_env)."
            )
    return ResponsesBackend(profile, connection, build_toolbox(profile))
