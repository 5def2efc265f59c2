"""The conversation: history, the chat input, and the answer streaming live.

An answer is written by its own worker thread (`core.session.ReplyStream`) and
belongs to no page: this page starts it, then follows it (`follow`), and a
page that goes away (a click elsewhere, a closed tab, a reload) leaves it
running; the next run, or another tab, follows it again. Only Stop (or
Escape) stops it. What is typed while it streams waits under it and is sent
when it ends. Whatever happens (the answer ends, fails, or is stopped) the
partial answer is kept in the conversation, and a failure shows one clear
message with a Retry button.

Editing a question or regenerating an answer forks the conversation there
(see `branches`): the page then shows the new branch and streams its answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistants_ui.core.backend import BackendError
from assistants_ui.core.first_words import FIRST_WORDS
from assistants_ui.core.safe_markdown import inert, literal
from assistants_ui.core.session import ChatSession, ReplyStream, check_message
from assistants_ui.core.transcript import VOICE, Attachment, Message
from assistants_ui.core.usage import NO_PRICES, Prices, describe
from assistants_ui.i18n import _
from assistants_ui.profiles import Profile
from assistants_ui.storage import StorageError
from assistants_ui.web import chat_state
from assistants_ui.web.answer_actions import answer_actions, copy_button
from assistants_ui.web.branches import (
    OnBranch,
    edit_button,
    edit_form,
    edit_key,
    edited,
    version_switcher,
)
from assistants_ui.web.chat_state import Action, Decide, Edit, Regenerate, Retry, Starter
from assistants_ui.web.delivery import after_sent
from assistants_ui.web.page_script import page_script
from assistants_ui.web.render import (
    FileSource,
    MessageView,
    approval_label,
    render_user_message,
)

__all__ = [
    "FRAME_SECONDS",
    "ChatPage",
    "MessageCaps",
    "prices_of",
    "render_chat",
    "render_messages",
]

log = logging.getLogger(__name__)

# One poll per frame: at most ~11 repaints a second, whatever the token rate (the
# view's `RepaintPace` skips frames once its bytes budget is spent, keeping
# ~4.6 a second), and the final text painted exactly once the stream ends.
FRAME_SECONDS = 0.09
# With many answers being written at once in this process, each one's frames get longer
# (FRAME_SECONDS for up to this many, then in proportion): the CPU they no longer spend
# repainting goes to the answers still waiting for their first words (an answer's first
# event is painted at once whatever the frame; docs/benchmarks.md, "First words").
ANSWERS_PER_FRAME = 10
# How long `first_words` waits for an answer's first event before the rest of the page
# is painted (a slower model's first words come with the frames that follow).
FIRST_WORDS_WAIT = 0.3
# ... that long while other answers wait for their first words too (the process is
# busy: the model's first event may be waiting to be read) ...
FIRST_WORDS_BUSY = 2.0
# ... and how long it waits, at most, in all.
FIRST_WORDS_LIMIT = 5.0


def _retry_button(chat: ChatSession, message: Message) -> None:
    if chat.can_retry and chat.messages and chat.messages[-1] is message:
        st.button(
            _("Retry"),
            icon=":material/refresh:",
            key=f"retry-{message.id}",
            on_click=chat_state.request_action,
            args=(Retry(message.id),),
        )


def _approval_buttons(chat: ChatSession, message: Message) -> None:
    """Approve / Deny for the last answer's MCP tool calls that wait for them."""
    if not chat.messages or chat.messages[-1] is not message:
        return
    for part in chat.pending_approvals:
        st.caption(_("Call %(tool)s?") % {"tool": approval_label(part)})
        approve, deny = st.columns(2)
        approve.button(
            _("Approve"),
            icon=":material/check:",
            key=f"approve-{part.request_id}",
            type="primary",
            on_click=chat_state.request_action,
            args=(Decide(part.request_id, approve=True),),
        )
        deny.button(
            _("Deny"),
            icon=":material/block:",
            key=f"deny-{part.request_id}",
            on_click=chat_state.request_action,
            args=(Decide(part.request_id, approve=False),),
        )


def prices_of(profile: Profile) -> Prices:
    return Prices(profile.price_per_million_input, profile.price_per_million_output)


def _usage(message: Message, prices: Prices = NO_PRICES, *, speed: bool = False) -> None:
    """Tokens in and out under an answer; the cost with prices; tokens/s with `speed`."""
    line = describe(
        message.input_tokens,
        message.output_tokens,
        prices=prices,
        seconds=message.seconds if speed else 0.0,
    )
    if line:
        st.caption(line)


def render_messages(
    messages: list[Message], *, icon: str | None = None, files: FileSource | None = None
) -> None:
    """Stored messages, painted by the same code that paints them live (`files`: where
    their files' bytes are read from, when the messages come without them)."""
    for message in messages:
        with st.chat_message(message.role, avatar=icon if message.role == "assistant" else None):
            if message.role == "user":
                render_user_message(message, files)
            else:
                view = MessageView(st.container(), key=message.id, files=files)
                view.update(message, final=True)
                _usage(message)
                copy_button(message)


def _starters(chat: ChatSession) -> None:
    """The profile's suggested first messages, as buttons; a click sends one."""
    starters = chat.profile.starters
    columns = st.columns(2) if len(starters) > 1 else [st.container()]
    for index, text in enumerate(starters):
        columns[index % len(columns)].button(
            text,
            key=f"starter-{index}",
            icon=":material/chat_bubble:",
            width="stretch",
            on_click=chat_state.request_action,
            args=(Starter(text),),
        )


def _render_history(
    chat: ChatSession,
    messages: list[Message],
    *,
    speed: bool,
    on_branch: OnBranch | None = None,
    later: list[Callable[[], None]] | None = None,
) -> None:
    """`messages` (the branch shown, without the answer being written) with every
    control: a click on one reruns the page, which leaves a streaming answer running.
    `later`: a question's controls are painted by the calls added to it, once the
    question just sent is saved (its edit button needs the conversation saved)."""
    for message in messages:
        avatar = chat.profile.icon if message.role == "assistant" else None
        box = st.chat_message(message.role, avatar=avatar)
        with box:
            if message.role == "user":
                if chat.conversation_id is not None and chat_state.editing() == message.id:
                    edit_form(message)
                    continue
                render_user_message(message)
                if later is None:
                    _question_controls(chat, message, on_branch)
                else:
                    later.append(partial(_question_controls, chat, message, on_branch, box))
            else:
                MessageView(st.container(), key=message.id).update(message, final=True)
                _answer_controls(chat, message, speed=speed, on_branch=on_branch)


def _question_controls(
    chat: ChatSession,
    message: Message,
    on_branch: OnBranch | None,
    box: DeltaGenerator | None = None,
) -> None:
    """Under a question: its versions and Edit, and Retry when it has no answer yet
    (`box`: the question's chat message, when painted after it)."""
    if box is not None:
        with box:
            _question_controls(chat, message, on_branch)
        return
    if chat.conversation_id is not None:
        with st.container(horizontal=True, vertical_alignment="center"):
            version_switcher(chat, message, on_branch)
            if not message.approvals:  # an Approve / Deny is not edited
                edit_button(message)
    if chat.messages and chat.messages[-1] is message and chat.can_retry:
        st.caption(_("No answer yet."))
        _retry_button(chat, message)


def _answer_controls(
    chat: ChatSession, message: Message, *, speed: bool, on_branch: OnBranch | None
) -> None:
    """Under an ended answer: usage, copy, regenerate, thumbs, versions, Retry, Approve."""
    _usage(message, prices_of(chat.profile), speed=speed)
    answer_actions(
        chat,
        message,
        regenerate=message.status != "failed",
        versions=partial(version_switcher, chat, message, on_branch)
        if chat.conversation_id is not None
        else None,
    )
    _retry_button(chat, message)
    _approval_buttons(chat, message)


def _frame(chat: ChatSession) -> float:
    """This frame's length: longer while many answers are being written at once."""
    live = len(chat.live) if chat.live is not None else 1
    return FRAME_SECONDS * max(1.0, live / ANSWERS_PER_FRAME)


def _stop(stream: ReplyStream) -> None:
    stream.cancel("user")


class _LiveAnswer:
    """The answer being written, painted into its chat message `box` frame by frame.

    If this run is stopped (a click anywhere reruns the page; a closed tab ends
    the session's run) the answer goes on: the next run follows it again."""

    def __init__(
        self,
        chat: ChatSession,
        stream: ReplyStream,
        box: DeltaGenerator,
        *,
        speed: bool,
        on_branch: OnBranch | None,
    ) -> None:
        self.chat, self.stream, self.box = chat, stream, box
        self.speed, self.on_branch = speed, on_branch
        self.seen = -1  # its first frame paints what it has
        self.told = False  # whether the stream knows its first words were painted
        self.since = time.monotonic()
        with box:
            self.view = MessageView(st.container(), key=f"live-{stream.message.id}")
        # "Thinking…" and Stop, painted by `_controls`: after the first words, not before.
        self.waiting: DeltaGenerator | None = None
        self.stop: DeltaGenerator | None = None

    def _controls(self) -> None:
        """Stop (and "Thinking…" while nothing is shown), under the answer: once its first
        words are painted, or `FIRST_WORDS_WAIT` seconds after it was asked for without
        them (`FIRST_WORDS_BUSY` while other answers wait for their first words too).
        Before the first words they would be three more messages for the process to
        send first, at the moment fifty people's first words are waiting for it."""
        stream = self.stream
        if not self.view.slots:
            asked = min(self.since, stream.requested_at or self.since)
            after = FIRST_WORDS_BUSY if FIRST_WORDS.others(stream) else FIRST_WORDS_WAIT
            if time.monotonic() < asked + after:
                return
            with self.box:
                self.waiting = st.caption(_("Thinking…"))
        with self.box:
            self.stop = st.empty()
            self.stop.button(
                _("Stop"),
                icon=":material/stop_circle:",
                key=f"stop-{stream.message.id}",
                shortcut="Esc",
                help=_("Stop this answer (Esc). Leaving the page does not stop it."),
                on_click=_stop,
                args=(stream,),
            )

    def frame(self, seconds: float) -> bool:
        """Wait up to `seconds` for the answer to change, paint it; True once it ended."""
        stream = self.stream
        if self.view.slots:  # shown: a repaint waits for others' first words
            FIRST_WORDS.step_aside(seconds, me=stream)
        if stream.wait(self.seen, seconds, saved=False):
            return True
        stream.watch()
        with stream.held() as (message, self.seen):
            # Every frame: the view skips a version it painted, and paints one its
            # bytes budget made it skip before (`RepaintPace`), even if nothing came.
            self.view.update(message, version=self.seen)
        if self.waiting is not None and self.view.slots:
            self.waiting.empty()
            self.waiting = None
        if self.view.slots and not self.told:
            after_sent(stream.shown)  # others step aside until they are on their way
            self.told = True
        if self.stop is None:
            self._controls()
        # Reading session state is one of Streamlit's stop points: a click anywhere
        # is honoured here even while the server is silent.
        st.session_state.get("_tick")
        return False

    def run(self) -> None:
        """Paint it until it ends, then its controls once it is saved: its last words do
        not wait for the save, which with fifty answers ending together waits its turn
        for the database (docs/benchmarks.md, "gathered reads")."""
        while not self.frame(_frame(self.chat)):
            pass
        stream = self.stream
        with self.box:
            if self.stop is not None:
                self.stop.empty()
            if self.waiting is not None:
                self.waiting.empty()
            self.view.key = stream.message.id
            self.view.update(stream.message, final=True)
        while not stream.saved(FRAME_SECONDS):
            st.session_state.get("_tick")  # a stop point, as in `frame`
        with self.box:
            _answer_controls(self.chat, stream.message, speed=self.speed, on_branch=self.on_branch)


def _branch(chat: ChatSession, action: Action | None, caps: MessageCaps) -> bool:
    """Carry out an Edit or Regenerate request: True when an answer is to be streamed.

    Whatever goes wrong (the message is gone, an answer is still streaming, the
    edit is over a limit) is said once and nothing is lost: the conversation
    stays as it was and the edit form keeps what was typed."""
    if not isinstance(action, Edit | Regenerate):
        return False
    target = next((m for m in chat.messages if m.id == action.message_id), None)
    if target is None:
        st.toast(_("That message is not on the branch shown any more."), icon="🔎")
        return False
    if chat.busy:
        st.warning(
            _(
                "An answer is still being written: stop it first, then send your edit again "
                "(what you typed is kept)."
            ),
            icon="✋",
        )
        return False
    if isinstance(action, Regenerate):
        try:
            chat.regenerate(target)
        except ValueError:  # no question before it: nothing to ask again
            st.toast(_("This answer has no question to ask again."), icon="🔎")
            return False
        return True
    text, kept = edited(target)
    if not text.strip() and not kept:
        st.warning(_("An empty message cannot be sent: type something or keep a file."), icon="✋")
        return False
    if _refuse_message(text, kept, caps):
        return False
    chat.edit(target, text, kept)
    chat_state.stop_editing()
    return True


def _attachments(value: Any) -> list[Attachment]:
    files = getattr(value, "files", None) or []
    return [
        Attachment(name=f.name, mime=f.type or "application/octet-stream", data=f.getvalue())
        for f in files
    ]


def _recording(value: Any) -> Attachment | None:
    """The chat input's voice recording (`accept_audio`), as the attachment it will be."""
    audio = getattr(value, "audio", None)
    if audio is None:
        return None
    mime = audio.type or "audio/wav"
    return Attachment(name=audio.name or "voice.wav", mime=mime, data=audio.getvalue(), route=VOICE)


def _voice_text(
    transcribe: Callable[[bytes, str], str], recording: Attachment, typed: str
) -> str | None:
    """What was typed and what was said, or None after saying why nothing was heard."""
    try:
        with st.spinner(_("Transcribing your recording…")):
            heard = transcribe(recording.data, recording.mime)
    except BackendError as exc:
        _give_back(inert(exc.reason), typed, recording, icon="🎤")
        return None
    return f"{typed.strip()}\n\n{heard}" if typed.strip() else heard


def _refuse_uploads(chat: ChatSession, text: str, attachments: list[Attachment]) -> bool:
    """Refused files: keep the message, send nothing, say why and offer Retry."""
    files = [a for a in attachments if a.route != VOICE]
    checks = chat.check_uploads([(a.name, a.mime, a.size) for a in files])
    refused = [c for c in checks if not c.ok]
    if not refused:
        return False
    voice = [a for a in attachments if a.route == VOICE]
    kept = voice + [a for a, c in zip(files, checks, strict=True) if c.ok]
    chat.submit(text, kept)
    # Stored and exported as Markdown, painted through `inert`: the file's name (and the
    # reason, which quotes its extension) as literal text, never a link or an image.
    reasons = "; ".join(f"{literal(c.name)}: {literal(c.reason)}" for c in refused)
    wording = (
        _(
            "Not sent. %(reasons)s. Your message is kept: "
            "press Retry to send it with the other files."
        )
        if kept
        else _(
            "Not sent. %(reasons)s. Your message is kept: press Retry to send it without the file."
        )
    )
    chat.refuse(wording % {"reasons": reasons})
    return True


def _after_save(chat: ChatSession) -> None:
    """Show what storage could not keep, and put the conversation in the URL."""
    for text in chat.take_warnings():
        st.warning(inert(text), icon="💾")  # names the file: user or model text
    # A temporary chat stays out of the address bar: a reload or a copied link never
    # brings back what closing it deletes (web/temporary.py).
    placement = getattr(chat.recorder, "placement", None)
    if getattr(placement, "expires_at", None) is not None:
        return
    if chat.conversation_id and st.query_params.get("c") != chat.conversation_id:
        st.query_params["c"] = chat.conversation_id


def _refuse_message(text: str, attachments: list[Attachment], caps: MessageCaps) -> bool:
    """Over a limit: one message, nothing saved or sent, the text offered back."""
    problem = check_message(
        text, len(attachments), max_chars=caps.max_chars, max_files=caps.max_files
    )
    if problem is None:
        return False
    _give_back(problem, text)
    return True


def _give_back(
    problem: str, text: str, recording: Attachment | None = None, *, icon: str = "✋"
) -> None:
    """Not sent: one message saying why, and what the user typed or said, to download."""
    st.error(problem, icon=icon)
    if text:
        st.download_button(
            _("Download what you typed"),
            data=text.encode("utf-8"),
            file_name="message.txt",
            mime="text/plain",
            key="refused-text",
            icon=":material/download:",
            on_click="ignore",
        )
    if recording is not None:
        st.download_button(
            _("Download your recording"),
            data=recording.data,
            file_name=recording.name,
            mime=recording.mime,
            key="refused-audio",
            icon=":material/mic:",
            on_click="ignore",
        )


@dataclass(frozen=True, slots=True)
class MessageCaps:
    """How long one message may be and how many files it may carry: MAX_MESSAGE_CHARS and
    MAX_FILES_PER_MESSAGE (see `Settings`). Not the daily limits (`core.limits`)."""

    max_chars: int = 100_000
    max_files: int = 10


def _send(
    chat: ChatSession,
    typed: chat_state.Typed,
    *,
    caps: MessageCaps,
    quota: Callable[[], str | None] | None,
    transcribe: Callable[[bytes, str], str] | None,
    later: bool = False,
) -> Message | None:
    """Check, save and start answering what was typed: the question sent (None when
    nothing was sent). The page paints it in its turn, before the answer's first words
    (`_ListPlace`). `later`: saved once the first words are out (`ChatPage.save`), not
    before the request goes out.

    Refused (over a limit, a daily quota, a recording not heard, a file not
    accepted): one message saying why, and nothing typed is lost."""
    text, attachments, recording = typed.text, list(typed.attachments), typed.recording
    if not text.strip() and not attachments and recording is None:
        return None
    if _refuse_message(text, attachments, caps):
        return None
    if quota is not None and (problem := quota()) is not None:
        _give_back(problem, text, recording, icon="⏳")
        return None
    if recording is not None and transcribe is not None:
        heard = _voice_text(transcribe, recording, text)
        if heard is None:
            return None
        text = heard
        attachments.append(recording)
    if attachments and _refuse_uploads(chat, text, attachments):
        st.rerun()
    # The question and the answer's first row in one write (or, `later`, after the first
    # words), and the request goes out: before anything else is painted.
    message = chat.ask(text, attachments, later=later)
    _after_save(chat)  # in the URL now (a new one once saved): a reload comes back here
    return message


def _typed(value: Any) -> chat_state.Typed:
    text = value if isinstance(value, str) else value.text
    return chat_state.Typed(text, tuple(_attachments(value)), _recording(value))


def _queued(slot: DeltaGenerator, typed: chat_state.Typed) -> None:
    """What was typed while an answer streams: shown under it, sent when it ends."""
    with slot.container(), st.chat_message("user"):
        render_user_message(Message.user(typed.text, typed.attachments))
        st.caption(_("Sent when the answer above ends."))
        st.button(
            _("Cancel"),
            icon=":material/cancel_schedule_send:",
            key="queued-cancel",
            type="tertiary",
            on_click=chat_state.drop_queued,
        )


def render_chat(
    chat: ChatSession,
    *,
    older: bool = False,
    on_older: Any = None,
    caps: MessageCaps = MessageCaps(),
    speed: bool = False,
    on_branch: OnBranch | None = None,
    quota: Callable[[], str | None] | None = None,
    transcribe: Callable[[bytes, str], str] | None = None,
    on_command: Callable[[Any], bool] | None = None,
) -> ChatPage:
    """The conversation's input, and its place on the page. `older`: a "load older"
    button goes on top; `speed`: answers show tokens per second (the local model's);
    `on_branch(id)` shows another version of a message; `quota`: why this user may not
    send now (a daily limit), asked before anything is sent; `transcribe`: voice input
    (the microphone is offered only with it); `on_command(value)`: True when what was
    typed is a command for the page (the prompt library's "/"), never sent.

    A message sent now starts its answer here, before anything else is painted.
    The page then calls the `ChatPage`'s `first_words` (the answer's first frame,
    before the rest of the page), `paint` (the history) and, last, `follow`.
    """
    return ChatPage(
        chat,
        older=older,
        on_older=on_older,
        caps=caps,
        speed=speed,
        on_branch=on_branch,
        quota=quota,
        transcribe=transcribe,
        on_command=on_command,
    )


class ChatPage:
    """One run's conversation: its input taken, then its parts painted in the order
    that gets the first words out soonest.

    Everything a run paints leaves in the order it is painted, and at 50 people
    sending at once the server's one event loop sends each session's messages
    in turn: a send's first words came out behind the fifty or so elements of
    the page around them (the sidebar, the title, the menu, the history). So the
    page is laid out first (empty slots, in reading order), the input is taken
    and the answer started, its first frame painted into its slot
    (`first_words`), and only then the rest (docs/benchmarks.md, "First words")."""

    def __init__(
        self,
        chat: ChatSession,
        *,
        older: bool,
        on_older: Any,
        caps: MessageCaps,
        speed: bool,
        on_branch: OnBranch | None,
        quota: Callable[[], str | None] | None,
        transcribe: Callable[[bytes, str], str] | None,
        on_command: Callable[[Any], bool] | None = None,
    ) -> None:
        self.chat, self.older, self.on_older = chat, older, on_older
        self.speed, self.on_branch = speed, on_branch
        profile = chat.profile
        placeholder = _("Message %(assistant)s") % {"assistant": profile.title}
        kwargs: dict[str, Any] = {}
        if profile.uploads_enabled:
            placeholder += f" · {_(profile.upload_label)}"
            kwargs = {
                "accept_file": "multiple",
                "file_type": list(profile.upload_types),
                "max_upload_size": max(1, int(profile.max_upload_mb + 0.999)),
            }
        if transcribe is not None:
            kwargs["accept_audio"] = True
        # Pinned to the bottom of the page wherever it is called; usable while an answer
        # streams (what is sent then waits for it). No `max_chars` here: Streamlit would
        # cut a longer paste silently (in the browser and on the server); the check in
        # `_send` refuses it with a message and gives it back.
        value = st.chat_input(placeholder, key="prompt", **kwargs)
        if value is not None and on_command is not None and on_command(value):
            value = None
        chat_state.follow_live(chat)
        action = chat_state.pop_action()
        # The conversation is one list, in the order it reads: what the previous run
        # painted at a place is replaced by what this run paints there (`_ListPlace`).
        # The first question moves it too: the welcome and the starters would stay under
        # it, greyed, until the answer ends.
        first = not chat.messages and (value is not None or isinstance(action, Starter))
        place = _ListPlace(
            [m.id for m in chat.messages], moves=first or isinstance(action, Edit | Regenerate)
        )
        self.bottom = st.container()  # refusals and warnings, the page script
        sent: Message | None = None
        self.send = partial(_send, chat, caps=caps, quota=quota, transcribe=transcribe)
        with self.bottom:
            if value is not None and chat.busy:
                chat_state.queue(_typed(value))
            elif value is not None:
                sent = self.send(_typed(value), later=True)
            else:
                match action:
                    case Retry() if chat.can_retry:
                        _start(chat, quota)
                    case Starter(text=starter) if not chat.messages:
                        # A starter is sent exactly as if it had been typed.
                        sent = self.send(chat_state.Typed(starter), later=True)
                    case Decide(request_id=request_id, approve=approve):
                        # Approve / Deny: the decision becomes the message the answer
                        # continues from.
                        if chat.decide(request_id, approve) is not None:
                            _start(chat, quota)
                    case Edit() | Regenerate() if _branch(chat, action, caps):
                        _start(chat, quota)
            self.script = st.empty()
            self.queued_slot = st.empty()  # under the answer being written: what waits
        # The answer being written (even if it has just ended): `follow` paints it.
        self.live = chat.active
        editing = chat_state.editing()
        self.place = partial(page_script, focus=edit_key(editing) if editing else None)
        with self.script:
            self.place(sent=sent.id if sent else None, streaming=self.live is not None)
        messages = chat.messages
        live = _live_turn(messages, self.live)
        self.conversation = place.container([m.id for m in messages], live)
        # The history as the list came to its place, then each turn since, in its own
        # container, made at once: the browser keeps what each showed until painted.
        self.parts = place.parts(self.conversation, messages, history=older)
        # The answer being written: the question it answers is painted now, the answer's
        # first words next, in its turn (the last); the question's controls once saved.
        self.later: list[Callable[[], None]] = []
        self.live_box: DeltaGenerator | None = None
        if live is not None:
            turn, shown = self.parts[-1]
            with turn:
                _render_history(
                    chat, shown[:-1], speed=speed, on_branch=on_branch, later=self.later
                )
            self.live_box = turn.chat_message("assistant", avatar=chat.profile.icon)
        self.answer: _LiveAnswer | None = None

    def first_words(self, wait: float = FIRST_WORDS_WAIT) -> None:
        """The answer's first words, if they come within `wait` seconds of its request
        going out to the model (events that show nothing, such as the remote
        conversation's id, are waited past). Until the request is out the answer waits
        on this process, not on the model: for `FIRST_WORDS_LIMIT` seconds at most."""
        if self.live is None or self.live.done:
            return
        stream = self.live
        answer = self._live_answer(stream)
        limit = time.monotonic() + FIRST_WORDS_LIMIT
        while not answer.view.slots:
            asked = stream.requested_at
            # While others' first words are also on their way, the model's may be late
            # only because this process is busy: its first words still go first.
            after = FIRST_WORDS_BUSY if FIRST_WORDS.others(stream) else wait
            deadline = limit if asked is None else min(limit, asked + after)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            # Frame by frame: after an event that shows nothing, the next may.
            if answer.frame(min(left, FRAME_SECONDS)):
                return

    def save(self) -> None:
        """What this run sent, saved now that its first words are on their way (the
        question and the answer's first row: `ChatSession.ask` with `later`), and put
        in the URL. Storage down: said once, the answer goes on (its end saves it)."""
        stream = self.live
        if stream is None:
            return
        try:
            stream.save_turn()
        except StorageError as exc:
            log.error("storage: %s", exc)
            with self.bottom:
                st.error(str(exc), icon="💾")
            return
        with self.bottom:
            _after_save(self.chat)

    def _box(self) -> DeltaGenerator:
        """The chat message the answer being written is painted in."""
        if self.live_box is None:  # not the conversation's last message (never expected)
            self.live_box = self.conversation.chat_message(
                "assistant", avatar=self.chat.profile.icon
            )
        return self.live_box

    def _live_answer(self, stream: ReplyStream) -> _LiveAnswer:
        if self.answer is None or self.answer.stream is not stream:
            box = self._box()
            self.answer = _LiveAnswer(
                self.chat, stream, box, speed=self.speed, on_branch=self.on_branch
            )
        return self.answer

    def paint(self) -> None:
        """The history and the turns since (without the answer being written), every
        message's controls."""
        chat, profile = self.chat, self.chat.profile
        live = self.live.message.id if self.live is not None else None
        for call in self.later:  # the controls of the question being answered
            call()
        for number, (box, messages) in enumerate(self.parts):
            if live is not None and number == len(self.parts) - 1 and self.live_box is not None:
                break  # painted with its answer (`__init__`, `follow`)
            first = number == 0  # the history's, or a turn's when it has none (and no older)
            with box:
                if first and self.older:
                    st.button(
                        _("Load older messages"),
                        icon=":material/history:",
                        key="load_older",
                        on_click=self.on_older,
                        type="tertiary",
                    )
                if first and profile.welcome and not chat.messages:
                    with st.chat_message("assistant", avatar=profile.icon):
                        st.markdown(_(profile.welcome))  # the built-in welcome is translated
                if first and profile.starters and not chat.messages:
                    _starters(chat)
                shown = [m for m in messages if m.id != live]
                _render_history(chat, shown, speed=self.speed, on_branch=self.on_branch)

    def follow(self) -> None:
        """The answer being written until it ends, then what was typed meanwhile."""
        chat, stream = self.chat, self.live
        while True:
            if stream is not None:
                waiting = chat_state.queued()
                if waiting is not None:  # sent when the answer ends
                    _queued(self.queued_slot, waiting)
                self._live_answer(stream).run()
                if stream.session is not chat:  # another page's answer: reload what it saved
                    chat_state.reload(chat)
                    st.rerun()
            if chat.busy:  # followed elsewhere (a second tab's answer reloaded)
                break
            # What waited for the answer (it ended here, or before this run: Stop).
            typed = chat_state.pop_queued()
            if typed is None:
                break
            self.queued_slot.empty()
            with self.bottom:
                question = self.send(typed)
            if question is None:
                break
            # A turn of its own after the others, as the next run makes it (`_ListPlace`).
            turn = self.conversation.container(key=_turn_key(question.id))
            _ListPlace.grown([m.id for m in chat.messages], _live_turn(chat.messages, chat.active))
            with turn:
                _render_history(chat, [question], speed=self.speed, on_branch=self.on_branch)
            stream = chat.active
            if stream is not None:
                box = turn.chat_message("assistant", avatar=chat.profile.icon)
                self.answer = _LiveAnswer(
                    chat, stream, box, speed=self.speed, on_branch=self.on_branch
                )
            with self.script:
                self.place(sent=question.id, streaming=True)
        if self.live is not None:
            with self.script:
                self.place(streaming=False)
        _after_save(chat)


def _live_turn(messages: list[Message], live: ReplyStream | None) -> int | None:
    """Where the turn of the answer being written starts in `messages`: at the question
    it answers (or at the answer); None when it is not the last message."""
    if live is None or not messages or messages[-1].id != live.message.id:
        return None
    at = len(messages) - 1
    return at - 1 if at > 0 and messages[at - 1].role == "user" else at


_LIST_KEY = "conversation-list"  # (which of the two places, the ids it shows, turns' starts)


class _ListPlace:
    """The place the conversation is painted in this run: one of two, in reading order.

    Streamlit keeps a container's children from the previous run until this run
    replaces them, and greys them until the run ends, which with an answer
    being followed is the answer's whole length: a shorter conversation opened
    in place of a longer one, or a regenerated answer in place of the one it
    replaces, would show the old messages' leftovers under it. So while the list
    only grows (the same messages, then more) it stays in its place, made a
    container at once, and the browser keeps what it painted until it is painted
    again (an empty element first would replace it: the whole conversation gone
    until the history is painted, after the sidebar). Otherwise it moves to the
    other place, which starts empty, and the one it leaves becomes an empty
    element (its old children go at once). `moves`: this run's action will change
    the list (an edit, a regenerated answer, the first question).

    Inside it: the history as it was when the list came to its place, then one
    container per turn that came since (a question and its answer, or what
    another page added), each keeping its place until the list moves. The turn
    being answered is the last: its question and first words are painted before
    the rest of the page, and the turns before stay where they were read."""

    def __init__(self, ids: list[str], *, moves: bool) -> None:
        index, shown, starts = st.session_state.get(_LIST_KEY, (0, [], []))
        self.shown: list[str] = shown
        self.starts: list[int] = starts
        self.kept = not moves and ids[: len(shown)] == shown
        self.index: int = index if self.kept else 1 - index
        self.places: list[DeltaGenerator] = [
            st.container() if place == self.index else st.empty() for place in (0, 1)
        ]
        self.spans: list[tuple[int, int]] = []

    def container(self, ids: list[str], live: int | None) -> DeltaGenerator:
        """The list's container, once this run's action changed it (or not); `spans`:
        where the history and each turn are in `ids`. `live`: where the turn of the
        answer being written starts (its question), if it is being written."""
        if self.kept and ids[: len(self.shown)] != self.shown:
            # Changed unforeseen: the other place, which starts empty. The leftovers of
            # this one go when the run ends.
            self.kept = False
            self.index = 1 - self.index
            self.places[self.index] = self.places[self.index].container()
        starts = self._starts(ids, live)
        st.session_state[_LIST_KEY] = (self.index, ids, starts)
        ends = [*starts, len(ids)]
        self.spans = list(zip([0, *starts], ends, strict=True))
        return self.places[self.index]

    def parts(
        self, conversation: DeltaGenerator, messages: list[Message], *, history: bool
    ) -> list[tuple[DeltaGenerator, list[Message]]]:
        """A container per span, made now, in order, with what it shows: the history's
        (made when it shows something, or `history`: "Load older messages" above it),
        then each turn's, keyed by its first message (the question a send scrolls to)."""
        made = []
        for number, (start, end) in enumerate(self.spans):
            if number == 0:
                if start == end and len(self.spans) > 1 and not history:
                    continue  # an empty history: no element (one less before first words)
                made.append((conversation.container(), messages[start:end]))
            else:
                key = _turn_key(messages[start].id)
                made.append((conversation.container(key=key), messages[start:end]))
        return made

    def _starts(self, ids: list[str], live: int | None) -> list[int]:
        starts, shown = (self.starts, len(self.shown)) if self.kept else ([], 0)
        return _turn_starts(starts, shown, len(ids), live)

    @staticmethod
    def grown(ids: list[str], live: int | None) -> None:
        """The list grew by a turn painted after the others in this run (a question sent
        when the answer before it ended)."""
        index, shown, starts = st.session_state.get(_LIST_KEY, (0, [], []))
        st.session_state[_LIST_KEY] = (index, ids, _turn_starts(starts, len(shown), len(ids), live))


def _turn_key(first_id: str) -> str:
    """A turn's container key: the page script scrolls to the question just sent by it
    (`web/page_script.py`), whenever the run paints it."""
    return f"turn-{first_id}"


def _turn_starts(starts: list[int], shown: int, count: int, live: int | None) -> list[int]:
    """Where the turns start in a list of `count` messages whose first `shown` were on
    the page before: `starts`, then what came since as a turn (after a history), then
    the turn being answered (`live`: where its question is), painted first."""
    starts = list(starts)
    if shown < count and shown > (starts[-1] if starts else 0):
        starts.append(shown)
    if live is not None and (not starts or live > starts[-1]):
        starts.append(live)
    return starts


def _start(chat: ChatSession, quota: Callable[[], str | None] | None) -> None:
    """Answer the question on the page again (Retry, a decision, an edit): the daily
    limit first (the question stays, with its Retry)."""
    if quota is not None and (problem := quota()) is not None:
        st.error(problem, icon="⏳")
        return
    chat.reply()
