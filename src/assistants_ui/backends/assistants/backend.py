"""Backend `assistants`: OpenAI's Assistants API (threads and runs), the original protocol.

The assistant itself (model, instructions, tools, files) lives on the server
under `assistant_id` (`ASSISTANT_ID`, `OPENAI_ASSISTANTS` or a profile's
`assistant_id`); this backend keeps a thread per conversation and streams a
run per answer. What it keeps in the conversation's `remote` dict:

- `thread`: the thread's id (created by `open()`, or again if it vanished);
- `run`: the id of the run in progress, `""` once it ended (so that Stop and
  the next message can find a run left over by a cut stream);
- `posted`: the id of the last user message added to the thread, so that a
  Retry starts a new run without adding the question twice.

A new branch (an edited question, a regenerated answer) gets a new thread
seeded with the branch's earlier messages (`branch`); each branch's thread is
deleted with the conversation.

Decisions worth knowing:

- The profile's `instructions` (the original `RUN_INSTRUCTIONS`) are sent as
  the run's `additional_instructions`: they add to the assistant's own
  instructions instead of silently replacing them. `model`, `temperature`
  and `max_output_tokens` (as `max_completion_tokens`) override the
  assistant's for each run when set.
- A message sent while an earlier run is still active on the thread (a run
  left behind by a closed tab or a cut stream: the server answers 400 "Can't
  add messages ... while a run ... is active") cancels that run, waits until
  the server confirms it ended (at most `CANCEL_WAIT_SECONDS`), says so in a
  notice and goes on. It never crashes the answer.
- Function tools the assistant declares run in this process: the profile's
  `functions` name the implementations, matched by function name; at most
  `max_tool_rounds` rounds of outputs per answer (the one tool loop,
  `tool_calls`). The profile's tools the assistant does not declare (its MCP
  servers' tools, functions) are added to the run's `tools`.
- OpenAI and Azure shut the Assistants API down on 2026-08-26: a 404 that
  does not name a missing object becomes one line saying so and pointing to
  `assistants-ui import-assistant`, which turns a saved assistant definition
  into a Responses profile.

The translation of run events lives in `assistants_events` (how a run ended:
`assistants_outcome`), one answer's orchestration in `assistants_turn`, file
routing and fetching in `assistants_files`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from collections.abc import Iterator, Sequence

import openai
from openai.types.beta import Assistant, thread_create_params

from assistants_ui.backends.assistants.files import RemoteFiles, route_upload
from assistants_ui.backends.tool_calls import Toolbox, build_toolbox
from assistants_ui.core import events as ev
from assistants_ui.core.backend import (
    BackendError,
    Remote,
    Route,
    SendContext,
    branch_failure,
)
from assistants_ui.core.failures import failure
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.i18n import _
from assistants_ui.profiles import Connection, Profile
from assistants_ui.settings import Settings

__all__ = ["SHUTDOWN_DATE", "AssistantsBackend", "create", "shutdown_reason"]

log = logging.getLogger(__name__)

# Every beta.threads / beta.assistants call warns; using that API is these modules' job.
warnings.filterwarnings(
    "ignore", category=DeprecationWarning, module=r"assistants_ui\.backends\.assistants"
)

SHUTDOWN_DATE = "2026-08-26"
ASSISTANT_TTL_SECONDS = 300.0  # the assistant's tools and name, looked up again after this
LOOKUP_RETRY_SECONDS = 30.0  # a failed lookup is not repeated sooner (the page reruns often)
LOOKUP_TIMEOUT_SECONDS = 10.0
SEED_BATCH = 32  # messages a new thread is created with; the rest are added one by one
# A 404 that names a missing object is about that object, not about the API being gone.
_MISSING_OBJECT = re.compile(
    r"\bNo (such )?(assistant|thread|run|message|file|vector store)\b", re.IGNORECASE
)


def shutdown_reason(where: str) -> str:
    return failure("shutdown", at=f" at {where}", date=SHUTDOWN_DATE).reason


class AssistantsBackend:
    """A thread per conversation, a streamed run per answer."""

    def __init__(
        self, profile: Profile, connection: Connection, toolbox: Toolbox | None = None
    ) -> None:
        if not profile.assistant_id:
            raise BackendError(
                f"Assistant {profile.id!r}: backend 'assistants' needs assistant_id."
            )
        self.profile = profile
        self.connection = connection
        self.assistant_id: str = profile.assistant_id
        self.toolbox = toolbox or Toolbox()
        self.files = RemoteFiles(self.client, self.error)
        self._lock = threading.Lock()
        self._assistant: Assistant | None = None
        self._assistant_at = 0.0
        self._lookup_error: tuple[float, BackendError] | None = None
        # thread id -> run id, for runs this process is streaming right now
        self.active: dict[str, str] = {}

    # -- plumbing -------------------------------------------------------------------

    def client(self) -> openai.OpenAI:
        from assistants_ui.backends.clients import client_for

        return client_for(self.connection)

    @property
    def where(self) -> str:
        """The endpoint as failure sentences name it (no user name or password)."""
        from assistants_ui.backends.clients import shown_endpoint

        return shown_endpoint(self.connection)

    def failed(self, exc: openai.OpenAIError, what: str = "") -> ev.Failed:
        """One sentence for an SDK error, knowing what a 404 means here."""
        from assistants_ui.backends.clients import describe_error

        if isinstance(exc, openai.NotFoundError):
            text = str(exc)
            if "No assistant found" in text:
                return failure(
                    "not_found",
                    at=f" at {self.where}",
                    subject=f"the assistant {self.assistant_id}",
                    hint="Check ASSISTANT_ID (or the profile's assistant_id) and the API key's "
                    "project.",
                )
            if not _MISSING_OBJECT.search(text):
                return failure("shutdown", at=f" at {self.where}", date=SHUTDOWN_DATE)
        return describe_error(
            exc, self.connection, what=what or _("the assistant %(id)s") % {"id": self.assistant_id}
        )

    def error(self, exc: openai.OpenAIError, what: str = "") -> BackendError:
        return BackendError.of(self.failed(exc, what))

    # -- the assistant ----------------------------------------------------------------

    def assistant(self) -> Assistant:
        """The assistant as the server describes it (cached), or `BackendError`."""
        now = time.monotonic()
        with self._lock:
            if self._assistant is not None and now - self._assistant_at < ASSISTANT_TTL_SECONDS:
                return self._assistant
            if (
                self._lookup_error is not None
                and now - self._lookup_error[0] < LOOKUP_RETRY_SECONDS
            ):
                raise self._lookup_error[1]
        client = self.client().with_options(
            timeout=min(LOOKUP_TIMEOUT_SECONDS, self.connection.timeout), max_retries=1
        )
        try:
            found = client.beta.assistants.retrieve(self.assistant_id)
        except openai.OpenAIError as exc:
            error = self.error(exc)
            with self._lock:
                self._lookup_error = (time.monotonic(), error)
            raise error from exc
        with self._lock:
            self._assistant, self._assistant_at, self._lookup_error = found, time.monotonic(), None
        return found

    def tool_types(self) -> frozenset[str]:
        return frozenset(tool.type for tool in self.assistant().tools)

    def display_title(self) -> str:
        """The profile's title, or the assistant's name when no title was configured.

        A profile without a title gets its id as title (see `profiles`); for an
        assistant that is `asst_...`, so the server's name is shown instead,
        once it can be looked up. Never raises.
        """
        title = self.profile.title
        if title not in (self.profile.id, self.assistant_id):
            return title
        try:
            name = self.assistant().name
        except BackendError:
            return title
        return name or title

    # -- the Backend protocol ---------------------------------------------------------------

    def route(self, name: str, mime: str) -> Route:
        try:
            tools = self.tool_types()
        except BackendError as exc:
            return Route(None, exc.reason)
        return route_upload(name, tools)

    def new_thread(self) -> str:
        try:
            return self.client().beta.threads.create().id
        except openai.OpenAIError as exc:
            raise self.error(exc, "a new thread") from exc

    def open(self) -> Remote:
        return {"thread": self.new_thread()}

    def branch(self, remote: Remote, history: Sequence[Message]) -> Remote:
        """A new branch gets a new thread seeded with its earlier messages (their
        files by id); the thread it forks from is left as it is."""
        from assistants_ui.backends.assistants.turn import message_payload

        seed: list[thread_create_params.Message] = []
        for m in history:
            if m.role == "user":
                content, attachments = message_payload(m)
                seed.append({"role": "user", "content": content, "attachments": attachments})
            elif m.text.strip():
                seed.append({"role": "assistant", "content": m.text})
        client = self.client()
        thread = ""
        try:
            thread = client.beta.threads.create(messages=seed[:SEED_BATCH]).id
            for extra in seed[SEED_BATCH:]:
                client.beta.threads.messages.create(
                    thread,
                    role=extra["role"],
                    content=extra["content"],
                    attachments=extra.get("attachments") or openai.omit,
                )
        except openai.OpenAIError as exc:
            if thread:
                self.delete({"thread": thread})
            raise branch_failure(self.error(exc, "a new thread")) from exc
        return {"thread": thread}

    def upload(self, remote: Remote, attachment: Attachment) -> Attachment:
        route = self.route(attachment.name, attachment.mime)
        if not route.accepted:
            raise BackendError(f"{attachment.name}: {route.reason}.", code="upload_refused")
        try:
            uploaded = self.client().files.create(
                file=(attachment.name, attachment.data, attachment.mime), purpose="assistants"
            )
        except openai.OpenAIError as exc:
            raise self.error(exc, f"the upload of {attachment.name!r}") from exc
        attachment.file_id = uploaded.id
        attachment.route = route.route or ""
        return attachment

    def send(self, message: Message, context: SendContext) -> Iterator[ev.StreamEvent]:
        from assistants_ui.backends.assistants.turn import Turn

        return Turn(self, message, context).events()

    def cancel(self, remote: Remote) -> None:
        thread = remote.get("thread", "")
        run = remote.get("run") or self.active.get(thread, "")
        if thread and run:
            self.cancel_run(thread, run)

    def cancel_run(self, thread: str, run: str) -> None:
        """Ask the server to stop a run; a run that already ended is fine."""
        try:
            self.client().beta.threads.runs.cancel(run, thread_id=thread)
        except openai.OpenAIError as exc:
            log.debug("cancel %s on %s: %s", run, thread, exc)

    def delete(self, remote: Remote) -> None:
        thread = remote.get("thread")
        if not thread:
            return
        try:
            self.client().beta.threads.delete(thread)
        except openai.NotFoundError:
            return
        except openai.OpenAIError as exc:
            raise self.error(exc, f"the thread {thread}") from exc


def create(profile: Profile, connection: Connection, settings: Settings) -> AssistantsBackend:
    if connection.type == "local":
        raise BackendError(
            f"Assistant {profile.id!r}: the Assistants API needs a server (connection "
            f"{connection.id!r} is the local model)."
        )
    return AssistantsBackend(profile, connection, build_toolbox(profile))
