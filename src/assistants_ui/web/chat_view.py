"""The conversation: history, the chat input, and the answer streaming live.

While an answer streams the chat input is in "stop" mode: it cannot send a
second message and its button stops the answer. Whatever happens (the answer
ends, fails, or is stopped) the partial answer is kept in the conversation,
and a failure shows one clear message with a Retry button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assistants_ui.core.safe_markdown import inert
from assistants_ui.core.session import ChatSession, ReplyStream, check_message
from assistants_ui.core.transcript import Attachment, ErrorPart, Message
from assistants_ui.core.usage import NO_PRICES, Prices, describe
from assistants_ui.profiles import Profile
from assistants_ui.web import state
from assistants_ui.web.answer_actions import answer_actions, copy_button
from assistants_ui.web.render import MessageView, render_user_message

__all__ = ["FRAME_SECONDS", "Limits", "prices_of", "render_chat", "render_messages"]

# One poll per frame: at most ~11 repaints a second, whatever the token rate (the
# view's `RepaintPace` skips frames once its bytes budget is spent, keeping
# ~4.6 a second), and the final text painted exactly once the stream ends.
FRAME_SECONDS = 0.09


def _retry_button(chat: ChatSession, message: Message, *, busy: bool = False) -> None:
    if not busy and chat.can_retry and chat.messages and chat.messages[-1] is message:
        st.button(
            "Retry",
            icon=":material/refresh:",
            key=f"retry-{message.id}",
            on_click=state.request_action,
            args=("retry", message.id),
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
            on_click=state.request_action,
            args=("starter", text),
        )


def _render_history(chat: ChatSession, *, busy: bool, speed: bool) -> None:
    for message in chat.messages:
        avatar = chat.profile.icon if message.role == "assistant" else None
        with st.chat_message(message.role, avatar=avatar):
            if message.role == "user":
                render_user_message(message)
                if not busy and chat.messages[-1] is message and chat.can_retry:
                    st.caption("No answer yet.")
                    _retry_button(chat, message)
            else:
                MessageView(st.container(), key=message.id).update(message, final=True)
                _usage(message, prices_of(chat.profile), speed=speed)
                # While an answer streams, a click on feedback would rerun and stop it.
                answer_actions(chat, message, feedback=not busy)
                _retry_button(chat, message, busy=busy)


def _stream_answer(chat: ChatSession, *, speed: bool) -> None:
    """Start the answer and paint it until it ends; `finally` keeps it if stopped."""
    with st.chat_message("assistant", avatar=chat.profile.icon):
        view = MessageView(st.container(), key="live")
        waiting: DeltaGenerator | None = st.caption("Thinking…")
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
            answer_actions(chat, stream.message)
            _retry_button(chat, stream.message)
        finally:
            stream.close()


def _attachments(value: Any) -> list[Attachment]:
    files = getattr(value, "files", None) or []
    return [
        Attachment(name=f.name, mime=f.type or "application/octet-stream", data=f.getvalue())
        for f in files
    ]


def _refuse_uploads(chat: ChatSession, text: str, attachments: list[Attachment]) -> bool:
    """Refused files: keep the message, send nothing, say why and offer Retry."""
    checks = chat.check_uploads([(a.name, a.mime, a.size) for a in attachments])
    refused = [c for c in checks if not c.ok]
    if not refused:
        return False
    kept = [a for a, c in zip(attachments, checks, strict=True) if c.ok]
    chat.submit(text, kept)
    # Kept as typed (this text is stored and exported); painted through `inert`.
    reasons = "; ".join(f"{c.name}: {c.reason}" for c in refused)
    answer = Message(
        role="assistant",
        status="failed",
        parts=[
            ErrorPart(
                f"Not sent. {reasons}. Your message is kept: press Retry to send it "
                + ("with the other files." if kept else "without the file."),
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
    st.error(problem, icon="✋")
    if text:
        st.download_button(
            "Download what you typed",
            data=text.encode("utf-8"),
            file_name="message.txt",
            mime="text/plain",
            key="refused-text",
            icon=":material/download:",
            on_click="ignore",
        )
    return True


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
) -> None:
    """The conversation and its input. `older`: a "load older" button goes on top;
    `speed`: answers show tokens per second (the local model's)."""
    profile = chat.profile
    uploads = profile.uploads_enabled
    placeholder = f"Message {profile.title}"
    kwargs: dict[str, Any] = {}
    if uploads:
        placeholder += f" · {profile.upload_label}"
        kwargs = {
            "accept_file": "multiple",
            "file_type": list(profile.upload_types),
            "max_upload_size": max(1, int(profile.max_upload_mb + 0.999)),
        }
    # Pinned to the bottom of the page wherever it is called.
    # No `max_chars` here: Streamlit would cut a longer paste silently (in the browser
    # and on the server); the check below refuses it with a message and gives it back.
    value = st.chat_input(placeholder, key="prompt", submit_mode="stop", **kwargs)
    action = state.pop_action()
    retry = action is not None and action[0] == "retry" and chat.can_retry
    if value is None and action is not None and action[0] == "starter" and not chat.messages:
        value = action[1]  # a starter is sent exactly as if it had been typed
    busy = value is not None or retry

    if older:
        st.button(
            "Load older messages",
            icon=":material/history:",
            key="load_older",
            on_click=on_older,
            type="tertiary",
        )
    if profile.welcome and not chat.messages:
        with st.chat_message("assistant", avatar=profile.icon):
            st.markdown(profile.welcome)
    if profile.starters and not chat.messages and not busy:
        _starters(chat)
    _render_history(chat, busy=busy, speed=speed)

    if value is not None:
        text = value if isinstance(value, str) else value.text
        attachments = _attachments(value)
        if not text.strip() and not attachments:
            return
        if _refuse_message(text, attachments, limits):
            return
        if attachments and _refuse_uploads(chat, text, attachments):
            st.rerun()
        message = chat.submit(text, attachments)
        with st.chat_message("user"):
            render_user_message(message)
        _stream_answer(chat, speed=speed)
    elif retry:
        _stream_answer(chat, speed=speed)
    _after_save(chat)
