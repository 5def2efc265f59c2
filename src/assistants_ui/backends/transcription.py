"""Voice input: a recording becomes text through the connection's `/audio/transcriptions`.

`can_transcribe(profile, connection)` says whether the chat input offers a
microphone (a `transcription_model` on an OpenAI or Azure connection);
`transcribe(...)` returns the transcript or raises `BackendError` with one
sentence: a recording over the endpoint's size limit (checked before
anything is sent), silence (an empty transcript), or the server's refusal
worded like every other SDK error (`clients.describe_error`).
"""

from __future__ import annotations

import openai

from assistants_ui.backends.clients import client_for, describe_error
from assistants_ui.core.backend import BackendError
from assistants_ui.profiles import Connection, Profile

__all__ = ["MAX_AUDIO_BYTES", "can_transcribe", "transcribe"]

MAX_AUDIO_BYTES = 25 * 1024 * 1024  # OpenAI's and Azure's limit for one file

TOO_LARGE = (
    "The recording is {size:.1f} MB, over the {limit:g} MB the transcription service "
    "accepts: record a shorter message."
)
SILENCE = (
    "Nothing was heard in the recording (silence?): nothing was sent. "
    "Try again closer to the microphone."
)
EMPTY = "The recording is empty: nothing was sent."


def can_transcribe(profile: Profile, connection: Connection) -> bool:
    return bool(profile.transcription_model) and connection.type in ("openai", "azure")


def transcribe(
    profile: Profile,
    connection: Connection,
    audio: bytes,
    *,
    name: str = "voice.wav",
    mime: str = "audio/wav",
) -> str:
    """The words in `audio` (stripped), or BackendError saying why there are none."""
    if not can_transcribe(profile, connection):
        raise BackendError(f"The assistant {profile.title!r} has no transcription configured.")
    if not audio:
        raise BackendError(EMPTY)
    if len(audio) > MAX_AUDIO_BYTES:
        raise BackendError(
            TOO_LARGE.format(size=len(audio) / 1_048_576, limit=MAX_AUDIO_BYTES / 1_048_576)
        )
    assert profile.transcription_model is not None
    try:
        result = client_for(connection).audio.transcriptions.create(
            model=profile.transcription_model, file=(name, audio, mime)
        )
    except openai.OpenAIError as exc:
        what = f"the transcription model {profile.transcription_model!r}"
        failed = describe_error(exc, connection, what=what)
        raise BackendError(
            f"Voice input failed: {failed.reason}", retryable=failed.retryable
        ) from exc
    text = (getattr(result, "text", "") or "").strip()
    if not text:
        raise BackendError(SILENCE)
    return text
