"""Voice input: the connection's /audio/transcriptions through the SDK, against the fake."""

from __future__ import annotations

import time

import pytest

from assistants_ui.backends.chat.backend import ChatBackend
from assistants_ui.backends.transcription import (
    MAX_AUDIO_BYTES,
    SILENCE,
    can_transcribe,
    transcribe,
)
from assistants_ui.core.backend import BackendError
from assistants_ui.core.session import ChatSession
from assistants_ui.core.transcript import VOICE, Attachment, Message
from assistants_ui.profiles import Connection, Profile
from fakes.audio_routes import TRANSCRIPT, transcript, wav
from fakes.chat_routes import chat_text
from fakes.server import Error, FakeOpenAI


def _setup(fake: FakeOpenAI, model: str | None = "whisper-1") -> tuple[Profile, Connection]:
    conn = Connection(
        id=f"t{time.monotonic_ns()}",
        type="openai",
        base_url=fake.base_url,
        api_key="sk-test",
        max_retries=0,
        timeout=10,
    )
    prof = Profile(
        id="p",
        title="P",
        backend="chat",
        connection=conn.id,
        model="m",
        transcription_model=model,
    )
    return prof, conn


def test_a_recording_becomes_its_transcript(fake: FakeOpenAI) -> None:
    profile, conn = _setup(fake)
    audio = wav(0.5)
    assert transcribe(profile, conn, audio) == TRANSCRIPT
    (call,) = fake.calls("audio.transcriptions")
    assert call.body["model"] == "whisper-1"
    assert call.body["file"]["data"] == audio
    assert call.body["file"]["filename"] == "voice.wav"


def test_silence_is_one_sentence_and_nothing_more(fake: FakeOpenAI) -> None:
    profile, conn = _setup(fake)
    with pytest.raises(BackendError) as caught:
        transcribe(profile, conn, wav(0.5, silent=True))
    assert caught.value.reason == SILENCE


def test_an_oversized_recording_is_refused_before_anything_is_sent(fake: FakeOpenAI) -> None:
    profile, conn = _setup(fake)
    with pytest.raises(BackendError, match="over the 25 MB"):
        transcribe(profile, conn, b"\0" * (MAX_AUDIO_BYTES + 1))
    with pytest.raises(BackendError, match="empty"):
        transcribe(profile, conn, b"")
    assert fake.calls("audio.transcriptions") == []


def test_a_failing_endpoint_is_worded_with_the_servers_reason(fake: FakeOpenAI) -> None:
    profile, conn = _setup(fake)
    fake.expect(
        "audio.transcriptions",
        Error(400, "Audio file might be corrupted or unsupported", code="invalid_value"),
    )
    with pytest.raises(BackendError) as caught:
        transcribe(profile, conn, wav(0.2))
    assert caught.value.reason.startswith("Voice input failed: ")
    assert "Audio file might be corrupted or unsupported" in caught.value.reason
    fake.expect("audio.transcriptions", transcript("  spoken words  "))
    assert transcribe(profile, conn, wav(0.2)) == "spoken words"


def test_only_a_remote_connection_with_a_model_can_transcribe(fake: FakeOpenAI) -> None:
    profile, conn = _setup(fake)
    assert can_transcribe(profile, conn)
    assert not can_transcribe(profile.model_copy(update={"transcription_model": None}), conn)
    local = Connection(id="local", type="local")
    assert not can_transcribe(profile, local)
    with pytest.raises(BackendError, match="no transcription"):
        transcribe(profile, local, wav(0.1))


def test_the_recording_stays_with_the_message_and_is_never_sent(fake: FakeOpenAI) -> None:
    profile, conn = _setup(fake)
    chat = ChatSession(profile, ChatBackend(profile, conn))
    recording = Attachment("voice.wav", "audio/wav", wav(0.2), route=VOICE)
    question = chat.submit(TRANSCRIPT, [recording])
    fake.expect("chat.completions", chat_text(["heard ", "you"]))
    answer = chat.reply().run_to_end()
    assert answer.text == "heard you"
    assert question.attachments == [recording]  # kept: stored and played back
    (call,) = fake.calls("chat.completions")
    assert call.body["messages"][-1]["content"] == TRANSCRIPT
    assert "voice.wav" not in str(call.body)
    assert Message.from_dict(question.to_dict()).attachments[0].route == VOICE
