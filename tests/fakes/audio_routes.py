"""`POST /v1/audio/transcriptions` of the fake server (voice input).

The request is checked against `CreateTranscriptionRequest`'s required
fields (a 400 like OpenAI's otherwise); the reply is validated as a
`CreateTranscriptionResponseJson`. By default a WAV whose samples are all
(near) zero is silence and transcribes to "", anything else to
`TRANSCRIPT`; tests queue other replies (`fake.expect("audio.transcriptions",
transcript("..."))`) or errors.
"""

from __future__ import annotations

import array
import io
import math
import wave
from typing import TYPE_CHECKING, Any

from fakes.server import Error, Json, Recorded, Reply

if TYPE_CHECKING:
    from fakes.server import FakeOpenAI

__all__ = ["TRANSCRIPT", "install", "is_silent", "transcript", "wav"]

TRANSCRIPT = "Hello from the microphone"
SILENCE_LEVEL = 64  # 16-bit sample amplitude under which a recording is silence


def wav(seconds: float = 1.0, *, silent: bool = False, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV: a 440 Hz tone, or silence."""
    count = int(seconds * rate)
    level = 0 if silent else 8000
    samples = array.array(
        "h", (int(level * math.sin(2 * math.pi * 440 * i / rate)) for i in range(count))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(samples.tobytes())
    return out.getvalue()


def transcript(text: str) -> Json:
    return Json({"text": text}, "CreateTranscriptionResponseJson")


def is_silent(data: bytes) -> bool:
    """Whether a 16-bit PCM WAV holds only (near) silence; other formats are not."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            if wav.getsampwidth() != 2:
                return False
            samples = array.array("h", wav.readframes(wav.getnframes()))
    except (wave.Error, EOFError):
        return False
    return all(abs(s) < SILENCE_LEVEL for s in samples)


def _transcribe(rec: Recorded) -> Reply:
    body: Any = rec.body if isinstance(rec.body, dict) else {}
    upload = body.get("file")
    if not isinstance(upload, dict) or not isinstance(body.get("model"), str):
        return Error(400, "file and model are required", code="invalid_request_error")
    return transcript("" if is_silent(upload["data"]) else TRANSCRIPT)


def install(fake: FakeOpenAI) -> None:
    fake.add_route("POST", "/v1/audio/transcriptions", "audio.transcriptions")
    fake.set_default("audio.transcriptions", _transcribe)
