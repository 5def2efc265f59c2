"""One conversation in progress: its messages, the backend that answers, the pump.

`ChatSession` is pure Python (no Streamlit, no HTTP of its own). The page
calls `submit()` with what the user typed, then `reply()` to get a
`ReplyStream`, polls it to fold events into the answer and repaints between
polls, and `close()`s it at the end, whether the answer ended, failed, or the
user stopped it.

The backend runs in a worker thread that feeds a queue. The page thread only
folds and paints, so it stays responsive (a Stop is honoured at once even
while the server is silent), and the answer being built lives in exactly one
thread. Uploads happen inside the reply too, so that a file the server
rejects becomes a failed answer with a Retry, not a lost message.

Branches: `edit()` a sent question or `regenerate()` an answer and the
conversation forks at that point. `messages` is always the branch shown, so
the model sees exactly its history. Each branch has its own `remote`
(started empty, kept on the branch's first message, `remote_owner`); its
first answer asks the backend for the remote state the branch needs
(`Backend.branch`: a new remote conversation or thread seeded with the
branch's earlier messages, or nothing where the history is re-sent anyway).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol

from assistants_ui.core import events as ev
from assistants_ui.core import observe, titles
from assistants_ui.core.backend import Backend, BackendError, Remote, SendContext, Turn
from assistants_ui.core.documents import Shelf
from assistants_ui.core.failures import failure
from assistants_ui.core.files import extension
from assistants_ui.core.first_words import FIRST_WORDS
from assistants_ui.core.transcript import (
    VOICE,
    ApprovalPart,
    Attachment,
    ErrorPart,
    Message,
    MessageBuilder,
    StopCause,
)
from assistants_ui.i18n import _, activate, current, format_number
from assistants_ui.profiles import Profile

__all__ = [
    "ChatSession",
    "Library",
    "Recorder",
    "Registry",
    "ReplyStream",
    "UploadCheck",
    "check_message",
    "check_upload",
]

log = logging.getLogger(__name__)


class Recorder(Protocol):
    """Where a session commits what happens (storage plugs in here).

    The calls are upserts, made on the page's thread: a message is saved when
    the user sends it, when its attachments reach the server, and when an
    answer ends (complete, failed or stopped); the remote state is saved as
    soon as it changes; an answer's feedback when the reader gives it.
    """

    def save_message(self, session: ChatSession, message: Message) -> None: ...

    def start_turn(self, session: ChatSession, question: Message, answer: Message) -> None:
        """Save a question just sent and its answer's first row, together (`ChatSession.ask`):
        the conversation's id is set on `session` if this made it."""
        ...

    def checkpoint(self, session: ChatSession, message: Message) -> None:
        """Save an answer still being written (called from `LiveAnswers`' thread, every
        few seconds): what a crash would otherwise lose."""
        ...

    def save_feedback(self, session: ChatSession, message: Message) -> None: ...

    def save_remote(self, session: ChatSession) -> None:
        """Store `session.remote`: the conversation's, or that of the branch
        `session.remote_owner` starts."""
        ...

    def save_title(self, session: ChatSession, question: Message, title: str) -> bool:
        """The title the model wrote for the conversation `question` started (from the
        title's own thread): kept only if its title is still `question`'s first words,
        so a title its owner gave is never replaced. True when it was kept."""
        ...

    def take_warnings(self) -> list[str]:
        """What could not be kept since the last call (a file over the stored-file
        limit, named), for the page to say once."""
        ...


class Library(Protocol):
    """Where a session's documents are kept and searched (storage plugs in here, as for
    the recorder): the shelf of the session's conversation, made on the worker thread
    before `send`, for backends that index and search documents themselves."""

    def shelf(self, session: ChatSession) -> Shelf: ...


class Registry(Protocol):
    """Where a session keeps the answers it starts, so that they outlive its page
    (`core.live.LiveAnswers`)."""

    def add(self, stream: ReplyStream) -> None: ...

    def remove(self, stream: ReplyStream) -> None: ...

    def get(self, conversation_id: str) -> ReplyStream | None: ...

    def __len__(self) -> int:
        """How many answers are being written now."""
        ...


class _NoRecorder:
    def save_message(self, session: ChatSession, message: Message) -> None:
        pass

    def start_turn(self, session: ChatSession, question: Message, answer: Message) -> None:
        pass

    def checkpoint(self, session: ChatSession, message: Message) -> None:
        pass

    def save_feedback(self, session: ChatSession, message: Message) -> None:
        pass

    def save_remote(self, session: ChatSession) -> None:
        pass

    def save_title(self, session: ChatSession, question: Message, title: str) -> bool:
        return False

    def take_warnings(self) -> list[str]:
        return []


@dataclass(frozen=True, slots=True)
class UploadCheck:
    name: str
    ok: bool
    reason: str = ""
    route: str = ""


def check_upload(
    profile: Profile, backend: Backend, name: str, mime: str, size: int
) -> UploadCheck:
    """Type and size checked against the profile before anything is sent."""
    if not profile.uploads_enabled:
        return UploadCheck(name, False, _("this assistant does not take files"))
    ext = extension(name)
    if ext not in profile.upload_types:
        allowed = ", ".join(profile.upload_types)
        return UploadCheck(
            name,
            False,
            _(".%(ext)s files are not accepted here (%(allowed)s)")
            % {"ext": ext or "?", "allowed": allowed},
        )
    if size > profile.max_upload_bytes:
        return UploadCheck(
            name,
            False,
            _("%(size)s MB is over this assistant's %(limit)s MB limit")
            % {
                "size": format_number(size / 1_048_576, digits=1),
                "limit": format_number(profile.max_upload_mb, digits=2),
            },
        )
    if size == 0:
        return UploadCheck(name, False, _("the file is empty"))
    route = backend.route(name, mime)
    if not route.accepted:
        return UploadCheck(name, False, route.reason or _("no tool of this assistant accepts it"))
    return UploadCheck(name, True, route=route.route or "")


def check_message(text: str, files: int, *, max_chars: int, max_files: int) -> str | None:
    """Why a message is refused before anything is saved or sent (None: fine).

    The limits (MAX_MESSAGE_CHARS, MAX_FILES_PER_MESSAGE) keep one message
    from filling the memory, the database and the model's bill.
    """
    problems = []
    if len(text) > max_chars:
        problems.append(
            _("it is %(length)s characters long, over the limit of %(limit)s (MAX_MESSAGE_CHARS)")
            % {"length": format_number(len(text)), "limit": format_number(max_chars)}
        )
    if files > max_files:
        problems.append(
            _(
                "it has %(files)s files attached, over the limit of %(limit)s per message "
                "(MAX_FILES_PER_MESSAGE)"
            )
            % {"files": format_number(files), "limit": format_number(max_files)}
        )
    if not problems:
        return None
    return _("Not sent: %(problems)s.") % {"problems": _(" and ").join(problems)}


def _start_remote(backend: Backend, fork: Remote, history: Sequence[Message]) -> Remote:
    """The remote state of a conversation's first branch, or of a new branch."""
    if not history:
        return backend.open()
    branch = getattr(backend, "branch", None)  # optional for third-party backends
    if branch is None:
        return backend.open()
    started: Remote = branch(fork, history)
    return started


def _sendable(message: Message) -> Message:
    """`message` as backends see it: without voice recordings (their transcript is the text)."""
    if not any(a.route == VOICE for a in message.attachments):
        return message
    kept = [a for a in message.attachments if a.route != VOICE]
    return replace(message, attachments=kept)


# How long a worker reading an answer already shown waits, at most per event, while
# other answers wait for their first words (core.first_words).
STEP_ASIDE_SECONDS = 0.5

# An answer being written is saved at least this often, changed or not, so that a reader
# on another replica can tell it is still being written (storage.writers.STALE_SECONDS).
HEARTBEAT_SECONDS = 10.0


class ReplyStream:
    """An answer being written by a worker thread, which folds and saves it itself.

    The answer belongs to no page: pages follow it (`wait`, `held`), and a
    page that goes away (a closed tab, a reload, another conversation opened)
    leaves it running to its end, when the worker saves it. Only `cancel`
    stops it, naming who did. Every change happens under one lock, so a page
    painting it never sees a half-folded event.
    """

    def __init__(self, session: ChatSession, question: Message, fork: Remote | None = None) -> None:
        self.session = session
        self.question = question
        # The remote state of the branch this answer's new branch forks from.
        self.fork: Remote = dict(fork or {})
        self.builder = MessageBuilder()
        self.message = self.builder.message
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # each folded event, and the end
        self._cancelled = threading.Event()
        self._final = threading.Event()  # set when the answer's text is final, however
        self._ended = threading.Event()  # ... and once it is saved too
        self._finished = False
        self._saving = threading.Lock()  # checkpoints and the last save, one at a time
        # The answer's first row when it and the question wait to be saved (`ChatSession.ask`
        # with `later`): by `save_turn`, the first checkpoint or the end, whichever is first.
        self._unsaved_row: Message | None = None
        self._remote_unsaved = False  # a remote update came meanwhile: saved after the turn
        self._saved = -1  # the builder version last saved
        self._saved_at = time.monotonic()  # when (its first row is saved by `reply`)
        self._polled = -1  # the builder version `poll` last returned
        self._thread = threading.Thread(target=self._work, name="reply", daemon=True)
        self.language = current()  # the worker's sentences (and the title) speak the page's
        self.first_event_at: float | None = None
        self.requested_at: float | None = None  # when the request went out to the model
        # When a page last showed it (`watch`); `LiveAnswers` stops answers nobody watches.
        self.watched_at = time.monotonic()
        # Seconds from the backend's first event to its last: the answer's generation time.
        self._generating: float = 0.0
        # Telemetry's view of this answer (core.observe; does nothing when none is set up),
        # and what it is told of each event (None then: not even a call per token).
        self.telemetry = observe.answer(
            observe.Answering(session.profile, self.message.id, session.conversation_id)
        )
        self._observed = None if self.telemetry is observe.NO_WATCH else self.telemetry.event

    # -- worker thread -------------------------------------------------------------

    def _work(self) -> None:
        activate(self.language)
        with self.telemetry.current():
            self._answer()

    def _answer(self) -> None:
        session = self.session
        backend = session.backend
        remote = dict(session.remote)
        try:
            # Voice recordings stay out of what backends see (their transcript is the text).
            history = [_sendable(m) for m in session.history_before(self.question)]
            if not remote:
                # A new conversation, or a new branch: the earlier messages go with it.
                with self.telemetry.backend("open"), self._not_ours():
                    started = _start_remote(backend, self.fork, history)
                for key, value in started.items():
                    remote[key] = value
                    self._apply(ev.RemoteUpdate(key, value))
            question = _sendable(self.question)
            pending = [a for a in question.attachments if not a.file_id]
            before = dict(remote)
            try:
                for att in pending:
                    if self._cancelled.is_set():
                        return
                    with self.telemetry.backend("upload"), self._not_ours():
                        backend.upload(remote, att)
            finally:
                # An upload may create remote state (a per-conversation vector store),
                # kept even when a later upload fails, so that it is reused and deletable.
                for key, value in remote.items():
                    if before.get(key) != value:
                        self._apply(ev.RemoteUpdate(key, value))
            if pending and not self._cancelled.is_set():
                # The question's attachments now carry their file ids.
                session.recorder.save_message(session, self.question)
            turn = session.turn() if session.turn is not None else Turn()
            context = SendContext(
                history=history,
                remote=remote,
                cancelled=self._cancelled,
                documents=session.library.shelf(session) if session.library else None,
                turn=turn,
            )
            with self.telemetry.backend("send"):
                events = backend.send(question, context)
                self.requested_at = time.monotonic()
                FIRST_WORDS.not_on_us(self)  # on its way: the model's turn
                first: float | None = None
                try:
                    for event in events:
                        if first is None:
                            first = time.monotonic()
                            FIRST_WORDS.waiting_on_us(self)  # until a page paints it
                        else:  # shown or not, later words wait for others' first ones
                            FIRST_WORDS.step_aside(STEP_ASIDE_SECONDS, me=self)
                        if not self._apply(event):
                            break
                    else:
                        if first is not None:
                            self._generating = time.monotonic() - first
                finally:
                    close = getattr(events, "close", None)
                    if close is not None:
                        close()
        except BackendError as exc:
            self._apply(exc.failed())
        except Exception as exc:  # a bug or an unmapped library error: say so, keep going
            log.exception("backend %s failed", session.profile.backend)
            self._apply(
                failure(
                    "internal",
                    during=_(" in the %(backend)s backend") % {"backend": session.profile.backend},
                    message=f"{type(exc).__name__}: {exc}",
                )
            )
        finally:
            self._end(None)

    @contextmanager
    def _not_ours(self) -> Iterator[None]:
        """Within: this answer waits on a server (opening its conversation) or on its
        own large job (its files' uploads), not on the process's turn: others need
        not step aside for it (`core.first_words`)."""
        FIRST_WORDS.not_on_us(self)
        try:
            yield
        finally:
            FIRST_WORDS.waiting_on_us(self)

    def _apply(self, event: ev.StreamEvent) -> bool:
        """Fold one event; False once the answer was stopped (later events are dropped)."""
        with self._lock:
            if self._finished:
                return False
            if self.first_event_at is None:
                self.first_event_at = time.monotonic()
            self.builder.apply(event)
            if isinstance(event, ev.RemoteUpdate):
                self.session.remote[event.key] = event.value
            self._changed.notify_all()
        if self._observed is not None:
            self._observed(event)
        if isinstance(event, ev.RemoteUpdate):
            with self._saving:  # not while the turn is being saved: after it, or with it
                if self._unsaved_row is None:
                    self.session.recorder.save_remote(self.session)
                else:
                    self._remote_unsaved = True
        return True

    def _end(self, cause: StopCause | None) -> bool:
        """End the answer (stopped by `cause`, or as the stream left it) and save it,
        on the calling thread. False if it had already ended."""
        with self._lock:
            if self._finished:
                return False
            if cause is None:
                self.message.seconds = round(self._generating, 3)
            else:
                self._cancelled.set()
                self.builder.stop(cause)
            self.builder.finish()
            self._finished = True
            self._final.set()
            self._changed.notify_all()
        FIRST_WORDS.not_on_us(self)
        try:
            with self._saving, self.telemetry.current():
                self._save_turn()  # an answer that ended before its turn was saved
                self.session._reply_ended(self)
        finally:
            try:
                self.telemetry.ended(self.message)  # counted before anyone sees it ended
            finally:
                with self._lock:
                    self._ended.set()  # saved: followers see the end now
                    self._changed.notify_all()
        return True

    # -- any thread ------------------------------------------------------------------

    def start(self) -> ReplyStream:
        FIRST_WORDS.waiting_on_us(self)  # until its request goes out
        self._thread.start()
        return self

    def shown(self) -> None:
        """A page painted its first words: other work need not step aside for it."""
        FIRST_WORDS.not_on_us(self)

    @property
    def done(self) -> bool:
        """The answer has ended and is saved."""
        return self._ended.is_set()

    @property
    def version(self) -> int:
        """Grows with every folded event (a page repaints when it changed)."""
        return self.builder.version

    def wait(self, seen: int, timeout: float, *, saved: bool = True) -> bool:
        """Wait up to `timeout` seconds for the answer to change from version `seen`,
        then until the frame (`timeout`) is over or the answer ends. True once it has
        ended and is saved (at once if it already was); `saved=False`: once its text is
        final, its save may still be under way (`saved` waits for that).

        The caller wakes for the frame's first change (at once for the answer's very
        first event, so that it shows without delay), then sleeps until the frame
        ends or the answer does: not once per token, which with a hundred answers
        streaming cost more in thread switches than the painting (docs/benchmarks.md,
        "Load"). So a page that waits once per frame repaints at most once a frame.
        """
        deadline = time.monotonic() + timeout
        over = self._ended if saved else self._final
        with self._lock:
            eager = self.first_event_at is None
            changed = self._changed.wait_for(
                lambda: over.is_set() or self.builder.version != seen, timeout
            )
            if over.is_set():
                return True
        if changed and not eager:
            return over.wait(max(0.0, deadline - time.monotonic()))
        return False

    def saved(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the ended answer to be saved; True once it is."""
        return self._ended.wait(timeout)

    def poll(self, timeout: float) -> bool:
        """`wait` from the version this method last saw (one follower: tests, scripts)."""
        ended = self.wait(self._polled, timeout)
        self._polled = self.builder.version
        return ended

    @contextmanager
    def held(self) -> Iterator[tuple[Message, int]]:
        """The answer so far and its version, held still: no event is folded until the
        block ends (a page paints it here; keep the block short, no I/O)."""
        with self._lock:
            yield self.message, self.builder.version

    def watch(self) -> None:
        """A page shows this answer now (see `LiveAnswers`: unwatched answers are stopped)."""
        self.watched_at = time.monotonic()

    def checkpoint(self, *, heartbeat: float = HEARTBEAT_SECONDS) -> bool:
        """Save the answer so far if it changed since the last save (a crash keeps what
        was shown), or if `heartbeat` seconds passed (readers elsewhere can tell it is
        still being written). True when something was saved."""
        with self._saving:
            if self._unsaved_row is not None:  # the question first (a crash keeps it)
                with self.telemetry.current():
                    return self._save_turn()
            with self._lock:
                if self._finished:
                    return False
                beat = time.monotonic() - self._saved_at >= heartbeat
                if self.builder.version == self._saved and not beat:
                    return False
                message, version = self.message.snapshot(), self.builder.version
            with self.telemetry.current():
                self.session.recorder.checkpoint(self.session, message)
            self._saved, self._saved_at = version, time.monotonic()
            return True

    def save_turn(self) -> bool:
        """Save the question and the answer's first row if they wait to be (`ChatSession.ask`
        with `later`); True when this call saved them. Raises what storage raised (they
        stay unsaved: a checkpoint or the end tries again)."""
        with self._saving, self.telemetry.current():
            return self._save_turn()

    def _save_turn(self) -> bool:
        """`save_turn`, `_saving` held."""
        row = self._unsaved_row
        if row is None:
            return False
        session = self.session
        # The first row as `ask` would have saved it: what came since (files and images
        # too) is saved by the next checkpoint and the end, as for any answer.
        session.recorder.start_turn(session, self.question, row)
        self._unsaved_row = None
        if self._remote_unsaved:  # a branch's, or a conversation's that was saved before
            self._remote_unsaved = False
            session.recorder.save_remote(session)
        self._saved_at = time.monotonic()
        if session.live is not None:  # found by its conversation's id from now on
            session.live.add(self)
        return True

    def run_to_end(self, on_change: Callable[[MessageBuilder], None] | None = None) -> Message:
        """Poll until the answer ends (tests and scripts)."""
        while not self.poll(0.05):
            if on_change is not None:
                on_change(self.builder)
        return self.message

    def cancel(self, cause: StopCause = "user") -> None:
        """Stop the answer (`cause` says who): keep what came, mark it stopped, save it,
        ask the server to stop. Nothing if it had already ended."""
        remote = dict(self.session.remote)
        if not self._end(cause):
            return
        threading.Thread(
            target=self._cancel_remote, args=(remote,), name="reply-cancel", daemon=True
        ).start()

    def _cancel_remote(self, remote: Remote) -> None:
        try:
            self.session.backend.cancel(remote)
        except Exception:  # the answer is already marked stopped; the server may not care
            log.warning("cancel failed on backend %s", self.session.profile.backend, exc_info=True)

    def close(self) -> None:
        """Stop it if it still runs (tests and scripts; a page that leaves just leaves)."""
        self.cancel()


class ChatSession:
    """A conversation with one assistant profile."""

    def __init__(
        self,
        profile: Profile,
        backend: Backend,
        *,
        messages: Sequence[Message] = (),
        remote: Remote | None = None,
        recorder: Recorder | None = None,
        conversation_id: str | None = None,
        children: Mapping[str, Sequence[str]] | None = None,
        remote_owner: str | None = None,
        live: Registry | None = None,
        library: Library | None = None,
        turn: Callable[[], Turn] | None = None,
    ) -> None:
        self.profile = profile
        self.backend = backend
        # The branch shown, oldest first.
        self.messages: list[Message] = list(messages)
        # The branch's remote state, kept on its first message `remote_owner`
        # (None: the conversation's own).
        self.remote: Remote = dict(remote or {})
        self.remote_owner = remote_owner
        # Parent id ("" for first messages) -> its children, oldest first, where a
        # message of the branch has siblings.
        self.children: dict[str, list[str]] = {k: list(v) for k, v in (children or {}).items()}
        self.recorder: Recorder = recorder or _NoRecorder()
        self.conversation_id = conversation_id
        # The answer being written in this conversation (this session's, or one it follows).
        self.active: ReplyStream | None = None
        # The process's answers being written, which outlive the page (None: not kept).
        self.live = live
        # Where the conversation's documents are kept and searched (None: nowhere).
        self.library = library
        # What each answer adds to the profile (the reader's instructions, memory tool,
        # the project's instructions): asked by the worker when the answer starts, so
        # that a change made meanwhile counts (`Turn`; None: nothing added).
        self.turn = turn
        # regenerate(): the answer the next reply replaces, and the remote it forks from.
        self._replacing: Message | None = None
        self._fork: Remote | None = None
        # The model writing the conversation's title after its first answer (`_title_after`),
        # and the title it wrote, once kept.
        self.titling: threading.Thread | None = None
        self.titled: str | None = None

    # -- what the page calls -------------------------------------------------------

    def check_uploads(self, files: Sequence[tuple[str, str, int]]) -> list[UploadCheck]:
        return [check_upload(self.profile, self.backend, n, m, s) for n, m, s in files]

    @property
    def busy(self) -> bool:
        """An answer is streaming: nothing can be sent, edited or regenerated."""
        return self.active is not None and not self.active.done

    def _check_idle(self) -> None:
        if self.busy:
            raise RuntimeError("an answer is still streaming")

    def _user_message(self, text: str, attachments: Sequence[Attachment]) -> Message:
        message = Message.user(text, attachments)
        for att in message.attachments:
            if not att.route:
                att.route = self.backend.route(att.name, att.mime).route or ""
        return message

    def _parent(self) -> str:
        return self.messages[-1].id if self.messages else ""

    def submit(self, text: str, attachments: Sequence[Attachment] = ()) -> Message:
        """Record the user's message (committed before anything is sent)."""
        self._check_idle()
        message = self._user_message(text, attachments)
        message.parent_id = self._parent()
        self._leave_approvals()
        self.messages.append(message)
        self.recorder.save_message(self, message)
        return message

    def ask(
        self, text: str, attachments: Sequence[Attachment] = (), *, later: bool = False
    ) -> Message:
        """Send what the user typed: `submit` and `reply` in one, the question and the
        answer's first row saved together (committed before the request goes out),
        then the answer starts. The question.

        `later`: the request goes out first, and the two rows are saved by the answer's
        `save_turn` (the page calls it once the first words are out), by its first
        checkpoint or at its end, whichever comes first; at fifty sends at once the
        writes before the requests held every first word up (docs/benchmarks.md,
        "the turn saved after the first words"). A message with files is saved now,
        as always (the worker saves it again once its files have reached the server)."""
        self._check_idle()
        question = self._user_message(text, attachments)
        question.parent_id = self._parent()
        self._leave_approvals()
        fork, self._fork = self._fork, None
        stream = ReplyStream(self, question, fork)
        stream.message.parent_id = question.id
        self.messages += [question, stream.message]
        self.active = stream
        if later and not question.attachments:
            stream._unsaved_row = stream.message.snapshot()
        try:
            if stream._unsaved_row is None:
                with stream.telemetry.current():  # the turn's write is the answer's
                    self.recorder.start_turn(self, question, stream.message)
        except BaseException:  # not saved: the question stays on the page, no answer
            self.active = None
            self.messages.remove(stream.message)
            raise
        self._started(stream)
        return question

    def refuse(self, reason: str) -> Message:
        """Answer the last question with a refusal made before anything was sent (a file
        the assistant does not take): a failed answer saying `reason`, with Retry."""
        answer = Message(
            role="assistant",
            status="failed",
            parts=[ErrorPart(reason, retryable=True, code="upload_refused")],
        )
        answer.parent_id = self._parent()
        self.messages.append(answer)
        self.recorder.save_message(self, answer)
        return answer

    def save_feedback(self, message: Message) -> None:
        """Keep the reader's thumbs and comment on `message` (set on it by the page)."""
        self.recorder.save_feedback(self, message)

    def take_warnings(self) -> list[str]:
        """What storage could not keep since the last call, for the page to say once."""
        return self.recorder.take_warnings()

    @property
    def pending_approvals(self) -> list[ApprovalPart]:
        """The last answer's tool calls waiting for Approve / Deny (none while one streams)."""
        if self.active is not None and not self.active.done:
            return []
        if not self.messages or self.messages[-1].role != "assistant":
            return []
        return [p for p in self.messages[-1].approvals if p.decision == "pending"]

    def decide(self, request_id: str, approve: bool) -> Message | None:
        """Answer a pending approval request; the decision is the message `reply` answers.

        None when there is no such request waiting (already answered, or the
        conversation went on)."""
        request = next((p for p in self.pending_approvals if p.request_id == request_id), None)
        if request is None:
            return None
        request.decision = "approved" if approve else "denied"
        self.recorder.save_message(self, self.messages[-1])
        # Requests of the same answer left without a decision are not sent: not made.
        self._leave_approvals()
        message = Message.decision(request, approve)
        message.parent_id = self._parent()
        self.messages.append(message)
        self.recorder.save_message(self, message)
        return message

    def _leave_approvals(self) -> None:
        """The conversation goes on: requests still waiting are no longer answerable."""
        left = self.pending_approvals
        for part in left:
            part.decision = "unanswered"
        if left:
            self.recorder.save_message(self, self.messages[-1])

    def siblings(self, message: Message) -> list[str]:
        """The versions of `message` (itself included), oldest first."""
        if message.parent_id is None:
            return [message.id]
        return self.children.get(message.parent_id) or [message.id]

    def _branch_at(self, old: Message, new: Message) -> None:
        """`new` replaces `old` on a new branch (the siblings list grows)."""
        key = new.parent_id or ""
        versions = self.children.setdefault(key, list(self.siblings(old)))
        if old.id not in versions:
            versions.append(old.id)
        versions.append(new.id)

    def edit(self, message: Message, text: str, attachments: Sequence[Attachment]) -> Message:
        """A new version of a sent question, on a new branch from that point.

        `attachments` are what the user kept of the question's files (and any
        new ones). The earlier version stays, with its branch; `reply()` then
        answers the new one. RuntimeError while an answer streams.
        """
        self._check_idle()
        index = self._index(message, "user")
        new = self._user_message(text, [replace(a) for a in attachments])
        new.parent_id = self.messages[index - 1].id if index else ""
        self._branch_at(message, new)
        fork = dict(self.remote)
        self.messages = [*self.messages[:index], new]
        self.recorder.save_message(self, new)
        self._start_branch(new)
        self._fork = fork
        return new

    def regenerate(self, answer: Message) -> None:
        """Forget `answer` on the branch shown: the next `reply()` answers its
        question again, on a new branch (the earlier answer stays, with its branch).
        RuntimeError while an answer streams; ValueError if nothing asked it."""
        self._check_idle()
        index = self._index(answer, "assistant")
        if not any(m.role == "user" for m in self.messages[:index]):
            raise ValueError("no question before this answer")
        self._fork = dict(self.remote)
        self._replacing = answer
        self.messages = self.messages[:index]

    def _index(self, message: Message, role: str) -> int:
        for index, m in enumerate(self.messages):
            if m is message or m.id == message.id:
                if m.role != role:
                    raise ValueError(f"not a {role} message")
                return index
        raise ValueError("the message is not on the branch shown")

    def _start_branch(self, first: Message) -> None:
        """`first` starts a branch: its remote state starts empty (saved so, so that a
        reload never falls back to the parent branch's) and is made by its first answer."""
        self.remote = {}
        self.remote_owner = first.id
        self.recorder.save_remote(self)

    def reply(self) -> ReplyStream:
        """Start answering the last user message."""
        self._check_idle()
        question = self.last_question
        if question is None:
            raise RuntimeError("nothing to answer")
        fork, self._fork = self._fork, None
        stream = ReplyStream(self, question, fork)
        stream.message.parent_id = self._parent()
        self.active = stream
        self.messages.append(stream.message)
        with stream.telemetry.current():  # the first row's write is the answer's
            self.recorder.save_message(self, stream.message)
            replacing, self._replacing = self._replacing, None
            if replacing is not None:
                self._branch_at(replacing, stream.message)
                self._start_branch(stream.message)
        return self._started(stream)

    def _started(self, stream: ReplyStream) -> ReplyStream:
        """Its first row saved (or to be, `ask`): keep `stream` among the live answers and
        start it."""
        if self.live is not None:
            self.live.add(stream)
        log.info(
            "answer started: assistant=%s backend=%s conversation=%s",
            self.profile.id,
            self.profile.backend,
            self.conversation_id or "new",
        )
        log.debug("question: %s", stream.question.text)  # content: only at DEBUG
        return stream.start()

    @property
    def last_question(self) -> Message | None:
        return next((m for m in reversed(self.messages) if m.role == "user"), None)

    @property
    def can_retry(self) -> bool:
        """The last answer failed (or never came): the question can be asked again."""
        if self.busy:
            return False
        if not self.messages:
            return False
        last = self.messages[-1]
        return last.role == "user" or (
            last.status == "failed" and (last.error is None or last.error.retryable)
        )

    def history_before(self, message: Message) -> list[Message]:
        """Messages before `message` worth re-sending: no failed answers."""
        history: list[Message] = []
        for m in self.messages:
            if m is message:
                break
            if m.role == "assistant" and m.status == "failed":
                continue
            history.append(m)
        return history

    # -- called by the stream ------------------------------------------------------------

    def _reply_ended(self, stream: ReplyStream) -> None:
        self.recorder.save_message(self, stream.message)
        answer = stream.message
        log.info(
            "answer ended: assistant=%s conversation=%s status=%s tokens_in=%d tokens_out=%d",
            self.profile.id,
            self.conversation_id or "new",
            answer.status,
            answer.input_tokens,
            answer.output_tokens,
        )
        for part in answer.parts:
            if isinstance(part, ErrorPart):  # the reason, as the page shows it
                log.warning(
                    "answer failed: assistant=%s conversation=%s code=%s reason=%s",
                    self.profile.id,
                    self.conversation_id or "new",
                    part.code,
                    part.reason,
                )
        log.debug("answer: %s", answer.text)  # content: only when LOG_LEVEL=DEBUG
        if self.live is not None:
            self.live.remove(stream)
        if self.active is stream:
            self.active = None
        self._title_after(stream)

    def _title_after(self, stream: ReplyStream) -> None:
        """After the conversation's first answer (saved, complete), ask the model for
        its title in a thread of its own: the answer has ended for everyone already."""
        question, answer = stream.question, stream.message
        write = getattr(self.backend, "title", None)
        first = (
            answer.status == "complete"
            and bool(answer.text.strip())
            and question.parent_id == ""
            and len(self.children.get("", ())) <= 1  # the first question, never edited
            and len(self.children.get(question.id, ())) <= 1  # its first answer
            and self.conversation_id is not None
        )
        if write is None or not first or not self.profile.model_titles:
            return
        request = titles.title_request(question, answer, stream.language)
        thread = threading.Thread(
            target=self._write_title, args=(write, request, question), name="title", daemon=True
        )
        self.titling = thread
        thread.start()

    def _write_title(
        self,
        write: Callable[[titles.TitleRequest], str],
        request: titles.TitleRequest,
        question: Message,
    ) -> None:
        """The title thread: the model's title, or (on any failure) the first words, kept."""
        try:
            title = titles.tidy(write(request))
        except Exception as exc:  # a refusal, a timeout, a bug: the first words stay
            log.warning(
                "title: the model of assistant %s wrote none, the first words stay (%s: %s)",
                self.profile.id,
                type(exc).__name__,
                exc,
            )
            return
        if title is None:
            log.info("title: the model of assistant %s wrote an empty one", self.profile.id)
            return
        try:
            kept = self.recorder.save_title(self, question, title)
        except Exception:
            log.warning("title: could not be saved; the first words stay", exc_info=True)
            return
        if kept:
            self.titled = title
        log.info(
            "title: conversation=%s %s",
            self.conversation_id,
            "titled by the model" if kept else "kept the title its owner gave",
        )

    def follow(self, stream: ReplyStream) -> None:
        """Show `stream`, an answer of this conversation another page started (a
        second tab, a reload): its live message replaces the saved copy of it."""
        if stream.done:
            return
        for index, message in enumerate(self.messages):
            if message.id == stream.message.id:
                self.messages[index] = stream.message
                break
        else:
            if self.messages and self.messages[-1].id == (stream.message.parent_id or ""):
                self.messages.append(stream.message)
            else:
                return  # another branch's answer: this branch is not busy
        self.active = stream
