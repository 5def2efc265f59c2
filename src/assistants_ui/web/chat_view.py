"""The conversation: history, the chat input, and the answer streaming live.

While an answer streams the chat input is in "stop" mode: it cannot send a
second message and its button stops the answer. Whatever happens (the answer
ends, fails, or is stopped) the partial answer is kept in the conversation,
and a failure shows one clear message with a Retry button.

Editing a question or regenerating an answer forks the conversation there
(see `branches`): the page then shows the new branch and streams its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistants_ui.core.backend import BackendError
from assistants_ui.core.safe_markdown import inert
from assistants_ui.core.session import ChatSession, ReplyStream, check_message
from assistants_ui.core.transcript import VOICE, Attachment, ErrorPart, Message
from assistants_ui.core.usage import NO_PRICES, Prices, describe
from assistants_ui.i18n import _
from assistants_ui.profiles import Profile
from assistants_ui.web import chat_state
from assistants_ui.web.answer_actions import answer_actions, copy_button
from assistants_ui.web.branches import OnBranch, edit_button, edit_form, edited, version_switcher
from assistants_ui.web.chat_state import Action, Decide, Edit, Regenerate, Retry, Starter
from assistants_ui.web.render import MessageView, approval_label, render_user_message

__all__ = ["FRAME_SECONDS", "Limits", "prices_of", "render_chat", "render_messages"]

# One poll per frame: at most ~11 repaints a second, whatever the token rate (the
# view's `RepaintPace` skips frames once its bytes budget is spent, keeping
# ~4.6 a second), and the final text painted exactly once the stream ends.
FRAME_SECONDS = 0.09


def _retry_button(chat: ChatSession, message: Message, *, busy: bool = False) -> None:
    if not busy and chat.can_retry and chat.messages and chat.messages[-1] is message:
        st.button(
            _("Retry"),
            icon=":material/refresh:",
            key=f"retry-{message.id}",
            on_click=chat_state.request_action,
            args=(Retry(message.id),),
        )


def _approval_buttons(chat: ChatSession, message: Message, *, busy: bool = False) -> None:
    """Approve / Deny for the last answer's MCP tool calls that wait for them."""
    if busy or not chat.messages or chat.messages[-1] is not message:
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


def render_messages(messages: list[Message], *, icon: str | None = None) -> None:
    """Stored messages, painted by the same code that paints them live."""
    for message in messages:
        with st.chat_message(message.role, avatar=icon if message.role == "assistant" else None):
            if message.role == "user":
                render_user_message(message)
            else:
                MessageView(st.container(), key=message.id).update(message, final=True)
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
    chat: ChatSession, *, busy: bool, speed: bool, on_branch: OnBranch | None = None
) -> None:
    # While an answer streams, a click on any of these controls would rerun and stop it.
    branching = not busy and chat.conversation_id is not None
    for message in chat.messages:
        avatar = chat.profile.icon if message.role == "assistant" else None
        with st.chat_message(message.role, avatar=avatar):
            if message.role == "user":
                if branching and chat_state.editing() == message.id:
                    edit_form(message)
                    continue
                render_user_message(message)
                if branching:
                    with st.container(horizontal=True, vertical_alignment="center"):
                        version_switcher(chat, message, on_branch)
                        if not message.approvals:  # an Approve / Deny is not edited
                            edit_button(message)
                if not busy and chat.messages[-1] is message and chat.can_retry:
                    st.caption(_("No answer yet."))
                    _retry_button(chat, message)
            else:
                MessageView(st.container(), key=message.id).update(message, final=True)
                _usage(message, prices_of(chat.profile), speed=speed)
                answer_actions(
                    chat,
                    message,
                    feedback=not busy,
                    regenerate=branching and message.status != "failed",
                )
                if branching:
                    version_switcher(chat, message, on_branch)
                _retry_button(chat, message, busy=busy)
                _approval_buttons(chat, message, busy=busy)


def _stream_answer(chat: ChatSession, *, speed: bool) -> None:
    """Start the answer and paint it until it ends; `finally` keeps it if stopped."""
    with st.chat_message("assistant", avatar=chat.profile.icon):
        view = MessageView(st.container(), key="live")
        waiting: DeltaGenerator | None = st.caption(_("Thinking…"))
        stream: ReplyStream = chat.reply()
        try:
            while not stream.poll(FRAME_SECONDS):
                if waiting is not None and stream.builder.version:
                    waiting.empty()
                    waiting = None
                view.update(stream.message, version=stream.builder.version)
                # Reading session state is one of Streamlit's stop points: a click on
                # Stop is honoured here even while the server is silent.
                st.session_state.get("_tick")
            if waiting is not None:
                waiting.empty()
            view.key = stream.message.id
            view.update(stream.message, final=True)
            _usage(stream.message, prices_of(chat.profile), speed=speed)
            answer = stream.message
            answer_actions(chat, answer, regenerate=answer.status != "failed")
            _retry_button(chat, stream.message)
            _approval_buttons(chat, stream.message)
        finally:
            stream.close()


def _branch(chat: ChatSession, action: Action | None, limits: Limits) -> bool:
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
    if _refuse_message(text, kept, limits):
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
    # Kept as typed (this text is stored and exported); painted through `inert`.
    reasons = "; ".join(f"{c.name}: {c.reason}" for c in refused)
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
    answer = Message(
        role="assistant",
        status="failed",
        parts=[
            ErrorPart(
                wording % {"reasons": reasons},
                retryable=True,
                code="upload_refused",
            )
        ],
    )
    chat.messages.append(answer)
    chat.recorder.save_message(chat, answer)
    return True


def _after_save(chat: ChatSession) -> None:
    """Show what storage could not keep, and put the conversation in the URL."""
    warnings = getattr(chat.recorder, "warnings", None)
    if warnings:
        for text in warnings:
            st.warning(inert(text), icon="💾")  # names the file: user or model text
        warnings.clear()
    if chat.conversation_id and st.query_params.get("c") != chat.conversation_id:
        st.query_params["c"] = chat.conversation_id


def _refuse_message(text: str, attachments: list[Attachment], limits: Limits) -> bool:
    """Over a limit: one message, nothing saved or sent, the text offered back."""
    problem = check_message(
        text, len(attachments), max_chars=limits.max_chars, max_files=limits.max_files
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
class Limits:
    """MAX_MESSAGE_CHARS and MAX_FILES_PER_MESSAGE (see `Settings`)."""

    max_chars: int = 100_000
    max_files: int = 10


def render_chat(
    chat: ChatSession,
    *,
    older: bool = False,
    on_older: Any = None,
    limits: Limits = Limits(),
    speed: bool = False,
    on_branch: OnBranch | None = None,
    quota: Callable[[], str | None] | None = None,
    transcribe: Callable[[bytes, str], str] | None = None,
) -> None:
    """The conversation and its input. `older`: a "load older" button goes on top;
    `speed`: answers show tokens per second (the local model's); `on_branch(id)`
    shows another version of a message; `quota`: why this user may not send now
    (a daily limit), asked before anything is sent; `transcribe`: voice input (the
    microphone is offered only with it)."""
    profile = chat.profile
    uploads = profile.uploads_enabled
    placeholder = _("Message %(assistant)s") % {"assistant": profile.title}
    kwargs: dict[str, Any] = {}
    if uploads:
        placeholder += f" · {_(profile.upload_label)}"
        kwargs = {
            "accept_file": "multiple",
            "file_type": list(profile.upload_types),
            "max_upload_size": max(1, int(profile.max_upload_mb + 0.999)),
        }
    if transcribe is not None:
        kwargs["accept_audio"] = True
    # Pinned to the bottom of the page wherever it is called.
    # No `max_chars` here: Streamlit would cut a longer paste silently (in the browser
    # and on the server); the check below refuses it with a message and gives it back.
    value = st.chat_input(placeholder, key="prompt", submit_mode="stop", **kwargs)
    action = chat_state.pop_action()
    retry = False
    decided = False
    match action:
        case Retry():
            retry = chat.can_retry
        case Starter(text=starter) if value is None and not chat.messages:
            value = starter  # a starter is sent exactly as if it had been typed
        case Decide(request_id=request_id, approve=approve) if value is None:
            # Approve / Deny: the decision becomes the message the answer continues from.
            decided = chat.decide(request_id, approve) is not None
    branched = value is None and not retry and not decided and _branch(chat, action, limits)
    busy = value is not None or retry or decided or branched

    if older:
        st.button(
            _("Load older messages"),
            icon=":material/history:",
            key="load_older",
            on_click=on_older,
            type="tertiary",
        )
    if profile.welcome and not chat.messages:
        with st.chat_message("assistant", avatar=profile.icon):
            st.markdown(_(profile.welcome))  # the built-in welcome is translated
    if profile.starters and not chat.messages and not busy:
        _starters(chat)
    _render_history(chat, busy=busy, speed=speed, on_branch=on_branch)

    if value is not None:
        text = value if isinstance(value, str) else value.text
        attachments = _attachments(value)
        recording = _recording(value)
        if not text.strip() and not attachments and recording is None:
            return
        if _refuse_message(text, attachments, limits):
            return
        if quota is not None and (problem := quota()) is not None:
            _give_back(problem, text, recording, icon="⏳")
            return
        if recording is not None and transcribe is not None:
            heard = _voice_text(transcribe, recording, text)
            if heard is None:
                return
            text = heard
            attachments.append(recording)
        if attachments and _refuse_uploads(chat, text, attachments):
            st.rerun()
        message = chat.submit(text, attachments)
        _after_save(chat)  # in the URL now: a reload while it answers comes back here
        with st.chat_message("user"):
            render_user_message(message)
            controls = st.container()
        _stream_answer(chat, speed=speed)
        with controls:  # once the answer has ended: a click now stops nothing
            edit_button(message)
    elif retry or decided or branched:
        if quota is not None and (problem := quota()) is not None:
            st.error(problem, icon="⏳")  # the question stays, with its Retry
        else:
            _stream_answer(chat, speed=speed)
            if branched:
                _after_save(chat)
                st.rerun()  # once more, to show the versions ("‹ 2 / 2 ›") of what branched
    _after_save(chat)
