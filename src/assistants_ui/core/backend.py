"""The contract between the chat session and a protocol backend.

A backend is built for one profile (by a factory in the registry) and speaks
one protocol. It never renders and never stores: it turns a user message into
`StreamEvent`s, and keeps whatever it needs to continue a conversation
(a remote conversation id, a thread id, a last response id) in a small
`remote` dict that the session stores with the conversation and hands back.

Expected failures (a refused key, an unreachable server, a cut stream) are
*yielded* as `Failed` events by `send`, never raised, so that the session can
keep what already streamed. `upload` raises `BackendError` with a sentence
people can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from assistants_ui.core.documents import Shelf
from assistants_ui.core.events import Failed, FailureCode, StreamEvent
from assistants_ui.core.transcript import Attachment, Message
from assistants_ui.i18n import _

__all__ = [
    "Backend",
    "BackendError",
    "Remote",
    "Route",
    "SendContext",
    "Turn",
    "branch_failure",
    "distinct_remotes",
    "instructions_for",
]

Remote = dict[str, str]


@dataclass(frozen=True, slots=True)
class Route:
    """Where an upload goes: `route` names it, `reason` explains a refusal."""

    route: str | None
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.route is not None


class BackendError(Exception):
    """A failure to show to people as one sentence (`reason`).

    The one place where a raised failure and a yielded one meet: `of(failed)`
    raises what `send` would yield, `failed()` yields what `upload` raised."""

    def __init__(
        self, reason: str, *, retryable: bool = False, code: FailureCode = "config"
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code: FailureCode = code

    @classmethod
    def of(cls, failed: Failed) -> BackendError:
        return cls(failed.reason, retryable=failed.retryable, code=failed.code)

    def failed(self) -> Failed:
        return Failed(self.reason, self.retryable, self.code)


def branch_failure(exc: BackendError) -> BackendError:
    """The server refused to seed a new branch with its earlier messages: say what to do."""
    return BackendError(
        _(
            "This branch could not be started on the server with its earlier messages: "
            "%(reason)s. If a file of those messages expired there, edit the message that "
            "carries it and leave the file out."
        )
        % {"reason": exc.reason.rstrip(".")},
        retryable=exc.retryable,
        code=exc.code,
    )


def distinct_remotes(remotes: Sequence[Remote]) -> list[Remote]:
    """Each branch's remote state without what an earlier branch already names
    (a shared vector store is deleted once); empty ones left out."""
    seen: set[tuple[str, str]] = set()
    out: list[Remote] = []
    for remote in remotes:
        own = {k: v for k, v in remote.items() if v and (k, v) not in seen}
        seen.update(remote.items())
        if own:
            out.append(own)
    return out


@dataclass(frozen=True, slots=True)
class Turn:
    """What one answer adds to its assistant's configuration, asked when it starts.

    `instructions`: added after the profile's own (the reader's personal
    instructions, their memory, the conversation's project); every backend
    sends `instructions_for(profile.instructions, context)`. `functions`: plain
    Python callables offered to the model as function tools for this answer
    only (the opt-in memory tool), through the one tool loop like the
    profile's own; a backend whose model calls no tools (the local one)
    offers none. `project_files`: the project's text files as instructions,
    after the rest, for a backend that does not read them from the documents
    shelf (`SendContext.documents` holds them too: the chat backend gives them
    whole or searched, like the conversation's documents, and leaves them out
    here with `instructions_for(..., shelf=True)`).
    """

    instructions: str = ""
    functions: tuple[Callable[..., Any], ...] = ()
    project_files: str = ""


@dataclass(slots=True)
class SendContext:
    """What `send` gets besides the new message.

    `history` is the conversation before `message`, for backends that keep no
    state remotely. `cancelled` is set by the session when the user stops the
    answer; long loops (a local model's tokens) check it between steps.
    `documents` is the conversation's shelf of documents (attached ones and the
    assistant's knowledge) where the session has a library, else None.
    `turn`: what this answer adds to the profile (see `Turn`).
    """

    history: Sequence[Message]
    remote: Remote
    cancelled: CancelFlag
    documents: Shelf | None = None
    turn: Turn = field(default_factory=Turn)


def instructions_for(own: str | None, context: SendContext, *, shelf: bool = False) -> str | None:
    """The instructions a backend sends: the profile's, then the turn's (None: none).

    The one place where the reader's and the project's instructions join the
    assistant's, whichever protocol carries them (a system message, the
    Responses `instructions`, a run's `additional_instructions`). `shelf`: the
    backend reads the project's files from `context.documents` (not repeated here)."""
    turn = context.turn
    files = "" if shelf else turn.project_files.strip()
    added = "\n\n".join(t for t in (turn.instructions.strip(), files) if t)
    if not added:
        return own or None  # the profile's exactly as configured
    return f"{own.rstrip()}\n\n{added}" if own and own.strip() else added


class CancelFlag(Protocol):
    def is_set(self) -> bool: ...


@runtime_checkable
class Backend(Protocol):
    """One protocol's way to answer a message.

    Optional besides `branch`: `title(request: core.titles.TitleRequest) -> str`,
    one small request whose text becomes the conversation's title after its first
    answer (raising whatever failed; the session then keeps the first words).
    A backend without it keeps the first words."""

    def route(self, name: str, mime: str) -> Route:
        """Where an upload of this name/type would go, or why it is refused."""
        ...

    def open(self) -> Remote:
        """Create whatever the conversation needs remotely (may be nothing)."""
        ...

    def branch(self, remote: Remote, history: Sequence[Message]) -> Remote:
        """The remote state of a new branch whose earlier messages are `history`.

        A branch starts when a question is edited or an answer regenerated; it
        forks from a branch whose state is `remote`. Where the server keeps
        the conversation, this makes a new one seeded with `history` (raising
        `BackendError`, e.g. when a file of those messages expired there);
        elsewhere it may be nothing. Optional: without it, a branch gets `open()`.
        """
        ...

    def upload(self, remote: Remote, attachment: Attachment) -> Attachment:
        """Send a file the user attached; return it with `file_id`/`route` set."""
        ...

    def send(self, message: Message, context: SendContext) -> Iterator[StreamEvent]:
        """Answer `message`, as events. Ends with `Done` or `Failed`."""
        ...

    def cancel(self, remote: Remote) -> None:
        """Stop the answer in progress on the server, where the API allows it."""
        ...

    def display_title(self) -> str:
        """The assistant's name as the page titles it (the profile's title, or what the
        server calls it when the profile names the assistant by id alone)."""
        ...

    def delete(self, remote: Remote) -> None:
        """Delete the remote side of a conversation, where the API allows it."""
        ...
