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
from assistants_ui.i18n import N_, _, format_number, format_size
from assistants_ui.profiles import Connection, Profile

__all__ = ["MAX_AUDIO_BYTES", "can_transcribe", "transcribe"]

MAX_AUDIO_BYTES = 25 * 1024 * 1024  # OpenAI's and Azure's limit for one file

# Said on the page, in the active language (`_(SILENCE)`).
TOO_LARGE = N_(
    "The recording is %(size)s, over the %(limit)s MB the transcription service "
    "accepts: record a shorter message."
)
SILENCE = N_(
    "Nothing was heard in the recording (silence?): nothing was sent. "
    "Try again closer to the microphone."
)
EMPTY = N_("The recording is empty: nothing was sent.")


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
        raise BackendError(
            _("The assistant %(title)s has no transcription configured.")
            % {"title": repr(profile.title)}
        )
    if not audio:
        raise BackendError(_(EMPTY))
    if len(audio) > MAX_AUDIO_BYTES:
        raise BackendError(
            _(TOO_LARGE)
            % {
                "size": format_size(len(audio)),
                "limit": format_number(MAX_AUDIO_BYTES / 1_048_576),
            }
        )
    assert profile.transcription_model is not None
    try:
        result = client_for(connection).audio.transcriptions.create(
            model=profile.transcription_model, file=(name, audio, mime)
        )
    except openai.OpenAIError as exc:
        what = _("the transcription model %(model)s") % {"model": repr(profile.transcription_model)}
        failed = describe_error(exc, connection, what=what)
        raise BackendError(
            _("Voice input failed: %(reason)s") % {"reason": failed.reason},
            retryable=failed.retryable,
        ) from exc
    text = (getattr(result, "text", "") or "").strip()
    if not text:
        raise BackendError(_(SILENCE))
    return text
